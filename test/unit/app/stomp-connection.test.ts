/**
 * The page's STOMP connection (app/_lib/stomp-connection.ts) against a real WebSocket server
 * that speaks just enough STOMP: token and heart-beats on CONNECT, re-subscription with fresh
 * headers, the browser's offline/online events, backoff while the server is away, and a
 * server that falls silent.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsClient, WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { StompConnection, type ConnectionStatus, type NetworkSignals } from '../../../app/_lib/stomp-connection';

interface Frame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

function parse(raw: string): Frame[] {
  return raw
    .split('\0')
    .map((f) => f.replace(/^\n+/, ''))
    .filter((f) => f.length > 0)
    .map((f) => {
      const [head = '', body = ''] = f.split('\n\n');
      const [command = '', ...lines] = head.split('\n');
      return { command, headers: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)])), body };
    });
}

/** a STOMP endpoint: answers CONNECT, SUBSCRIBE and SEND-with-receipt; heart-beats as told */
class TinyBroker {
  readonly wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  readonly frames: Frame[] = [];
  readonly sockets = new Set<WsSocket>();
  attempts: number[] = [];
  /** refuse every connection at once (the server is "down") */
  refuse = false;
  /** the heart-beat the server answers with, and whether it actually beats */
  heartBeat = '1000,1000';
  beating = true;
  private waiters: Array<() => void> = [];

  constructor() {
    this.wss.on('connection', (ws) => {
      this.attempts.push(Date.now());
      if (this.refuse) return ws.terminate();
      this.sockets.add(ws);
      let timer: ReturnType<typeof setInterval> | null = null;
      ws.on('close', () => {
        this.sockets.delete(ws);
        if (timer) clearInterval(timer);
      });
      ws.on('message', (data) => {
        for (const f of parse(data.toString())) {
          this.frames.push(f);
          if (f.command === 'CONNECT' || f.command === 'STOMP') {
            ws.send(`CONNECTED\nversion:1.2\nheart-beat:${this.heartBeat}\n\n\0`);
            const every = Number(this.heartBeat.split(',')[0]);
            if (every > 0) timer = setInterval(() => this.beating && ws.readyState === ws.OPEN && ws.send('\n'), every);
          }
          if (f.headers.receipt) ws.send(`RECEIPT\nreceipt-id:${f.headers.receipt}\n\n\0`);
          if (f.command === 'DISCONNECT') ws.close();
        }
        for (const w of this.waiters.splice(0)) w();
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws-stomp`;
  }

  /** resolves once a frame matching `pred` has arrived (looking at the ones already there too) */
  async frame(pred: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (;;) {
      const f = this.frames.slice(from).find(pred);
      if (f) return f;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

class FakeNetwork implements NetworkSignals {
  up = true;
  private handlers: Parameters<NetworkSignals['watch']>[0] | null = null;
  online = () => this.up;
  watch(h: Parameters<NetworkSignals['watch']>[0]) {
    this.handlers = h;
    return () => (this.handlers = null);
  }
  goOffline() {
    this.up = false;
    this.handlers?.offline();
  }
  goOnline() {
    this.up = true;
    this.handlers?.online();
  }
}

function statusOf(c: StompConnection, want: ConnectionStatus): Promise<void> {
  if (c.getSnapshot().status === want) return Promise.resolve();
  return new Promise((resolve) => {
    const off = c.subscribeStatus(() => {
      if (c.getSnapshot().status === want) {
        off();
        resolve();
      }
    });
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { backoff?: { baseMs: number; capMs: number } } = {}) {
  const broker = new TinyBroker();
  if (!broker.wss.address()) await once(broker.wss, 'listening');
  const network = new FakeNetwork();
  let tokens = 0;
  const connection = new StompConnection({
    brokerURL: broker.url,
    network,
    webSocketFactory: () => new WsClient(broker.url, ['v12.stomp']) as unknown as WebSocket,
    fetchToken: async () => ({ token: `token-${++tokens}`, expiresAt: new Date(Date.now() + 600_000).toISOString() }),
    backoff: opts.backoff ?? { baseMs: 50, capMs: 400 },
  });
  cleanups.push(() => broker.close(), () => connection.stop());
  return { broker, network, connection };
}

describe('the page’s STOMP connection', () => {
  it('connects with the socket token and asks for short heart-beats both ways', async () => {
    const { broker, connection } = await setup();
    connection.acquire();
    await statusOf(connection, 'connected');
    const connect = await broker.frame((f) => f.command === 'CONNECT');
    expect(connect.headers.Authorization).toBe('Bearer token-1');
    expect(connect.headers['heart-beat']).toBe('4000,4000');
    expect(connection.getSnapshot().generation).toBe(1);
  });

  it('subscribes again after a reconnect, with headers computed at that moment', async () => {
    const { broker, connection } = await setup();
    let since = '0';
    connection.listen('/sub/chat/room/r1', () => undefined, () => ({ 'x-since': since }));
    connection.acquire();
    await statusOf(connection, 'connected');
    await broker.frame((f) => f.command === 'SUBSCRIBE' && f.headers['x-since'] === '0');
    since = '42';
    const mark = broker.frames.length;
    for (const s of broker.sockets) s.terminate();
    await broker.frame((f) => f.command === 'SUBSCRIBE' && f.headers['x-since'] === '42', mark);
    expect(connection.getSnapshot()).toEqual({ status: 'connected', generation: 2 });
  });

  it('drops the socket as soon as the browser goes offline, tries nothing while offline, and reconnects at once when back online', async () => {
    const { broker, network, connection } = await setup({ backoff: { baseMs: 60_000, capMs: 60_000 } });
    connection.acquire();
    await statusOf(connection, 'connected');
    const [socket] = [...broker.sockets];
    const closed = once(socket!, 'close');
    network.goOffline();
    expect(connection.getSnapshot().status).toBe('offline');
    expect(connection.publish('/pub/room/r1/message', { content: 'x' })).toBe(false);
    await closed;
    const attemptsWhileOffline = broker.attempts.length;
    // back online: no waiting for the (here one-minute) backoff
    network.goOnline();
    await statusOf(connection, 'connected');
    expect(broker.attempts.length).toBe(attemptsWhileOffline + 1);
    expect(connection.getSnapshot().generation).toBe(2);
  });

  it('backs off exponentially while the server refuses, up to the cap', async () => {
    const { broker, connection } = await setup({ backoff: { baseMs: 40, capMs: 320 } });
    broker.refuse = true;
    connection.acquire();
    while (broker.attempts.length < 6) await new Promise((r) => broker.wss.once('connection', r));
    const gaps = broker.attempts.slice(1).map((t, i) => t - broker.attempts[i]!);
    // each wait is at least half of its exponential step (40, 80, 160, 320, 320 ms)
    const steps = [40, 80, 160, 320, 320];
    gaps.forEach((g, i) => expect(g, `wait before attempt ${i + 2}`).toBeGreaterThanOrEqual(steps[i]! / 2 - 5));
    expect(connection.getSnapshot().status).toBe('connecting');
    broker.refuse = false;
    await statusOf(connection, 'connected');
  });

  it('notices a server that falls silent and reconnects', async () => {
    const { broker, connection } = await setup();
    connection.acquire();
    await statusOf(connection, 'connected');
    broker.beating = false;
    // the heart-beat window (4 s asked, 1 s offered → 4 s, with 1.5× slack) passes without a byte
    await statusOf(connection, 'reconnecting');
    broker.beating = true;
    await statusOf(connection, 'connected');
    expect(connection.getSnapshot().generation).toBe(2);
  }, 30_000);

  it('runs the receipt callback only when the server confirms the SEND', async () => {
    const { broker, connection } = await setup();
    connection.acquire();
    await statusOf(connection, 'connected');
    const got = new Promise<void>((resolve) => connection.publishWithReceipt('/pub/room/r1/message', { content: 'hi', clientMsgId: 'c1' }, 'msg-c1-1', resolve));
    const send = await broker.frame((f) => f.command === 'SEND');
    expect(JSON.parse(send.body)).toEqual({ content: 'hi', clientMsgId: 'c1' });
    await got;
  });
});
