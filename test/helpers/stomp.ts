/**
 * Clients for tests: `@stomp/stompjs` (what mobile apps and the web page use) and a raw
 * WebSocket that writes literal frames, for protocol-level checks.
 */
import { Client, type IFrame, type IMessage, type IStompSocket, type StompHeaders } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import WebSocket from 'ws';

export interface Received {
  headers: StompHeaders;
  body: Record<string, unknown>;
}

export class Collector {
  readonly items: Received[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private isLive = false;
  private liveWaiters: Array<() => void> = [];

  /** @internal the RECEIPT of the SUBSCRIBE arrived: the subscription is live (after any replay) */
  markLive() {
    this.isLive = true;
    for (const w of this.liveWaiters.splice(0)) w();
  }

  /** resolves once the server confirmed the subscription (its RECEIPT), so nothing sent from now on is missed */
  live(timeoutMs = 10_000): Promise<void> {
    if (this.isLive) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no RECEIPT for the SUBSCRIBE')), timeoutMs);
      this.liveWaiters.push(() => (clearTimeout(t), resolve()));
    });
  }

  push(m: IMessage) {
    this.items.push({ headers: m.headers, body: JSON.parse(m.body) as Record<string, unknown> });
    this.waiters = this.waiters.filter((w) => {
      if (this.items.length >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** resolves once `n` items arrived (fails after `timeoutMs`) */
  async waitFor(n: number, timeoutMs = 10_000): Promise<Received[]> {
    if (this.items.length < n) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`expected ${n} messages, got ${this.items.length}`)), timeoutMs);
        this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
      });
    }
    return this.items;
  }

  /** resolves once `n` items of this type arrived; returns them */
  async waitForType(type: string, n: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.ofType(type).length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} ${type} events, got ${this.ofType(type).length}`);
      await this.waitFor(this.items.length + 1, Math.max(1, deadline - Date.now())).catch(() => undefined);
    }
    return this.ofType(type);
  }

  ofType(type: string) {
    return this.items.filter((i) => i.body.type === type);
  }
}

export interface StompUser {
  client: Client;
  errors: IFrame[];
  closed: Promise<void>;
  /** SUBSCRIBE with a receipt; `await collector.live()` before relying on it */
  subscribe(destination: string, headers?: StompHeaders): Collector;
  /** SEND with a receipt; resolves when the RECEIPT arrives */
  sendWithReceipt(destination: string, body: unknown, timeoutMs?: number): Promise<void>;
  send(destination: string, body: unknown, headers?: StompHeaders): void;
  disconnect(): Promise<void>;
}

let receiptCounter = 0;

export async function connectStomp(
  wsUrl: string,
  connectHeaders: StompHeaders,
  opts: { heartbeat?: number; protocols?: string[]; socket?: () => IStompSocket } = {},
): Promise<StompUser> {
  const errors: IFrame[] = [];
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const client = new Client({
    webSocketFactory: opts.socket ?? (() => new WebSocket(wsUrl, opts.protocols ?? ['v12.stomp', 'v11.stomp', 'v10.stomp'])),
    connectHeaders,
    reconnectDelay: 0,
    heartbeatIncoming: opts.heartbeat ?? 0,
    heartbeatOutgoing: opts.heartbeat ?? 0,
    debug: () => {},
  });
  const connected = new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => {
      errors.push(frame);
      reject(new Error(`ERROR ${frame.headers.message}`));
    };
    client.onWebSocketClose = () => {
      closedResolve();
      reject(new Error('socket closed before CONNECTED'));
    };
  });
  client.activate();
  await connected;
  client.onStompError = (frame) => void errors.push(frame);
  return {
    client,
    errors,
    closed,
    subscribe(destination, headers = {}) {
      const c = new Collector();
      // the RECEIPT of a SUBSCRIBE comes once the subscription is live: `c.live()` waits for it
      const receipt = `s-${++receiptCounter}`;
      client.watchForReceipt(receipt, () => c.markLive());
      client.subscribe(destination, (m) => c.push(m), { ...headers, receipt });
      return c;
    },
    sendWithReceipt(destination, body, timeoutMs = 10_000) {
      const receipt = `r-${++receiptCounter}`;
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no RECEIPT for ${receipt}`)), timeoutMs);
        client.watchForReceipt(receipt, () => (clearTimeout(t), resolve()));
        client.publish({ destination, body: JSON.stringify(body), headers: { receipt, 'content-type': 'application/json' } });
      });
    },
    send(destination, body, headers = {}) {
      client.publish({ destination, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    },
    async disconnect() {
      await client.deactivate();
    },
  };
}

/** SockJS transports as sockjs-client names them */
export type SockJsTransport = 'websocket' | 'xhr-streaming' | 'xhr-polling' | 'eventsource';

/** a sockjs-client socket at `{httpBase}/ws-stomp`, limited to one transport */
export function sockJsSocket(httpBase: string, transport: SockJsTransport): () => IStompSocket {
  return () => new SockJS(`${httpBase}/ws-stomp`, null, { transports: [transport] }) as unknown as IStompSocket;
}

/** STOMP through sockjs-client, the way the Spring service's web page connected */
export function connectSockJsStomp(httpBase: string, transport: SockJsTransport, connectHeaders: StompHeaders, opts: { heartbeat?: number } = {}) {
  return connectStomp(`${httpBase}/ws-stomp`, connectHeaders, { ...opts, socket: sockJsSocket(httpBase, transport) });
}

/** a raw WebSocket speaking literal STOMP frames */
export class RawStomp {
  readonly frames: string[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => ((this.closeCode = code), resolve(code), this.wake())));
    ws.on('message', (data) => {
      this.frames.push(data.toString());
      this.wake();
    });
  }

  static async open(url: string, protocols?: string[]): Promise<RawStomp> {
    const raw = new RawStomp(protocols ? new WebSocket(url, protocols) : new WebSocket(url));
    await raw.opened;
    return raw;
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(data: string | Buffer) {
    this.ws.send(data);
  }

  /** waits for a frame starting with `command` (after `from`), returns it */
  next(command: string, timeoutMs = 5000, from = 0): Promise<string> {
    return this.nextFrame((x) => x.startsWith(command + '\n') || x.startsWith(command + '\r\n'), command, timeoutMs, from);
  }

  /** waits for a frame (from index `from` on) that `matches`, returns it */
  async nextFrame(matches: (frame: string) => boolean, what: string, timeoutMs = 5000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.slice(from).find(matches);
      if (f !== undefined) return f;
      if (this.closeCode !== undefined) throw new Error(`closed (${this.closeCode}) before ${what}; got ${JSON.stringify(this.frames)}`);
      if (Date.now() > deadline) throw new Error(`no ${what}; got ${JSON.stringify(this.frames)}`);
      // woken by the next frame or the close; the timer only enforces the deadline
      await new Promise<void>((wake) => {
        const deadlineTimer = setTimeout(wake, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => (clearTimeout(deadlineTimer), wake()));
      });
    }
  }
}

export function header(frame: string, name: string): string | undefined {
  const head = frame.split('\n\n')[0] ?? '';
  for (const line of head.split('\n').slice(1)) {
    const i = line.indexOf(':');
    if (line.slice(0, i) === name) return line.slice(i + 1);
  }
  return undefined;
}

export function frameBody(frame: string): string {
  const i = frame.indexOf('\n\n');
  return frame.slice(i + 2).replace(/\0$/, '');
}
