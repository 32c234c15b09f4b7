/** Test doubles for the STOMP layer: a recording transport, a scriptable application, a frame reader. */
import type { IncomingMessage } from 'node:http';
import { HEARTBEAT } from '../../../server/stomp/encoder.js';
import { HeartbeatScheduler } from '../../../server/stomp/heartbeat-scheduler.js';
import type { StompLimits } from '../../../server/stomp/limits.js';
import { StompSession, type StompTransport } from '../../../server/stomp/session.js';
import type { ConnectRequest, SendRequest, StompApplication, SubscribeRequest } from '../../../server/stomp/types.js';

export interface ServerFrame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

const UNESCAPE: Record<string, string> = { n: '\n', r: '\r', c: ':', '\\': '\\' };

/** Reads one server frame the way a client would (enough for assertions). */
export function readServerFrame(data: Buffer): ServerFrame {
  if (data.equals(HEARTBEAT)) return { command: 'HEARTBEAT', headers: {}, body: '' };
  const blank = data.indexOf('\n\n');
  if (blank === -1) throw new Error(`no blank line in ${JSON.stringify(data.toString())}`);
  const [command = '', ...lines] = data.subarray(0, blank).toString('utf8').split('\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
    const decode = (s: string) => (command === 'CONNECTED' ? s : s.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? `\\${c}`));
    const name = decode(line.slice(0, colon));
    if (!(name in headers)) headers[name] = decode(line.slice(colon + 1));
  }
  const bodyStart = blank + 2;
  const length = headers['content-length'];
  const bodyEnd = length === undefined ? data.indexOf(0, bodyStart) : bodyStart + Number(length);
  if (data[bodyEnd] !== 0) throw new Error('frame not NUL-terminated');
  if (bodyEnd !== data.length - 1) throw new Error('more than one frame in a message');
  return { command, headers, body: data.subarray(bodyStart, bodyEnd).toString('utf8') };
}

export class FakeTransport implements StompTransport {
  readonly sent: { data: Buffer; binary: boolean }[] = [];
  closed: { code: number; reason: string } | undefined;
  sentAfterClose = 0;
  bufferedAmount = 0;

  send(data: Buffer, binary: boolean): void {
    if (this.closed) this.sentAfterClose++;
    this.sent.push({ data, binary });
  }

  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }

  get frames(): ServerFrame[] {
    return this.sent.map((s) => readServerFrame(s.data));
  }

  /** Frames without heart-beats. */
  get commands(): string[] {
    return this.frames.filter((f) => f.command !== 'HEARTBEAT').map((f) => f.command);
  }

  last(command: string): ServerFrame | undefined {
    return this.frames.filter((f) => f.command === command).at(-1);
  }
}

export class Deferred<T = void> {
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** A scriptable application recording every call. Override any hook per test. */
export class FakeApp implements StompApplication<string> {
  readonly calls: string[] = [];
  readonly sends: SendRequest[] = [];
  readonly subscribes: SubscribeRequest[] = [];
  connectHandler: (ctx: ConnectRequest) => Promise<{ principal: string; userName: string }> = async () => ({
    principal: 'user-1',
    userName: 'alice',
  });
  subscribeHandler: (sub: SubscribeRequest) => Promise<void> = async () => {};
  sendHandler: (frame: SendRequest) => Promise<void> = async () => {};

  connect(ctx: ConnectRequest) {
    this.calls.push('connect');
    return this.connectHandler(ctx);
  }
  subscribe(_session: StompSession<string>, sub: SubscribeRequest) {
    this.calls.push(`subscribe ${sub.id}`);
    this.subscribes.push(sub);
    return this.subscribeHandler(sub);
  }
  unsubscribe(_session: StompSession<string>, subscriptionId: string) {
    this.calls.push(`unsubscribe ${subscriptionId}`);
  }
  send(_session: StompSession<string>, frame: SendRequest) {
    this.calls.push(`send ${frame.destination} ${frame.body.toString()}`);
    this.sends.push(frame);
    return this.sendHandler(frame);
  }
  disconnected(session: StompSession<string>) {
    // reading the principal here is what a real application does
    this.calls.push(session.principal ? 'disconnected' : 'disconnected without principal');
  }
}

export interface Harness {
  session: StompSession<string>;
  transport: FakeTransport;
  app: FakeApp;
  scheduler: HeartbeatScheduler;
}

export function createHarness(
  options: { app?: FakeApp; subprotocol?: string; limits?: Partial<StompLimits>; tickMs?: number; transport?: FakeTransport } = {},
): Harness {
  const app = options.app ?? new FakeApp();
  const transport = options.transport ?? new FakeTransport();
  const scheduler = new HeartbeatScheduler({ tickMs: options.tickMs ?? 100 });
  const session = new StompSession<string>({
    id: 'session-1',
    app,
    transport,
    scheduler,
    request: {} as IncomingMessage,
    subprotocol: options.subprotocol,
    limits: options.limits,
  });
  return { session, transport, app, scheduler };
}

/** Builds a client frame's bytes (headers written as given, no escaping). */
export function frame(command: string, headers: Record<string, string> = {}, body = ''): string {
  let text = command + '\n';
  for (const [name, value] of Object.entries(headers)) text += `${name}:${value}\n`;
  return text + '\n' + body + '\0';
}

// Captured before any test installs fake timers, so flushing never depends on them.
const realSetImmediate = globalThis.setImmediate;

/** Lets pending promise callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** CONNECTs with the given headers and waits for CONNECTED. */
export async function connect(h: Harness, headers: Record<string, string> = { 'accept-version': '1.2' }): Promise<void> {
  h.session.receive(frame('CONNECT', headers));
  await flush();
}
