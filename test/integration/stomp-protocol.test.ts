/**
 * The STOMP layer over real sockets with a fake application (no chat, no services): an http
 * server on port 0, @stomp/stompjs and raw `ws` clients.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, type IMessage } from '@stomp/stompjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { prepareMessage } from '../../server/stomp/encoder.js';
import { SendRejected, StompError } from '../../server/stomp/errors.js';
import { createStompEndpoint, type StompEndpoint } from '../../server/stomp/server.js';
import type { StompSession } from '../../server/stomp/session.js';
import type { StompApplication } from '../../server/stomp/types.js';
import { readServerFrame } from '../unit/stomp/fakes.js';

/** Echo application: SEND /pub/x is delivered to every subscriber of /sub/x. */
class EchoApp implements StompApplication<string> {
  readonly subscribers = new Map<string, Set<{ session: StompSession<string>; id: string }>>();
  readonly events: string[] = [];

  async connect({ headers }: { headers: ReadonlyMap<string, string> }) {
    if (headers.get('passcode') !== 'secret') throw new StompError('AUTH_FAILED', 'bad passcode');
    const login = headers.get('login') ?? 'anonymous';
    this.events.push(`connect ${login}`);
    return { principal: login, userName: login };
  }
  async subscribe(session: StompSession<string>, sub: { id: string; destination: string }) {
    let set = this.subscribers.get(sub.destination);
    if (!set) this.subscribers.set(sub.destination, (set = new Set()));
    set.add({ session, id: sub.id });
  }
  unsubscribe(session: StompSession<string>, id: string) {
    for (const set of this.subscribers.values()) for (const entry of set) if (entry.session === session && entry.id === id) set.delete(entry);
  }
  async send(session: StompSession<string>, frame: { destination: string; body: Buffer }) {
    if (frame.destination === '/pub/reject') throw new SendRejected('BAD_REQUEST', 'rejected');
    const destination = frame.destination.replace(/^\/pub\//, '/sub/');
    const prepared = prepareMessage(
      { destination, 'content-type': 'application/json' },
      JSON.stringify({ from: session.principal, text: frame.body.toString() }),
    );
    for (const { session: s, id } of this.subscribers.get(destination) ?? []) s.deliver(id, prepared);
  }
  disconnected(session: StompSession<string>) {
    this.events.push(`disconnected ${session.principal}`);
  }
}

let server: Server;
let endpoint: StompEndpoint;
let app: EchoApp;
let url: string;

beforeEach(async () => {
  app = new EchoApp();
  endpoint = createStompEndpoint({ app, limits: { maxFrameBytes: 4096 }, heartbeatTickMs: 50 });
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/ws-stomp') endpoint.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws-stomp`;
});

afterEach(async () => {
  await endpoint.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A raw ws client that records every message as a decoded frame. */
async function rawClient(protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  const frames: ReturnType<typeof readServerFrame>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    frames.push(readServerFrame(data));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const next = async (count = frames.length + 1) => {
    while (frames.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return frames[count - 1]!;
  };
  return { ws, frames, next, closed };
}

function stompClient(login: string): Client {
  return new Client({
    webSocketFactory: () => new WebSocket(url, ['v12.stomp']),
    connectHeaders: { login, passcode: 'secret' },
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
  });
}

function activate(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(frame.headers.message));
    client.activate();
  });
}

describe('STOMP endpoint over WebSocket', () => {
  it('round-trips CONNECT, SUBSCRIBE, SEND with receipt, MESSAGE and DISCONNECT with @stomp/stompjs', async () => {
    const buyer = stompClient('buyer');
    const seller = stompClient('seller');
    await Promise.all([activate(buyer), activate(seller)]);
    expect(endpoint.sessionCount()).toBe(2);

    const received = new Promise<IMessage>((resolve) => seller.subscribe('/sub/chat/room/1', resolve, { receipt: 'sub-receipt' }));
    await new Promise<void>((resolve) => seller.watchForReceipt('sub-receipt', () => resolve()));

    const receipt = new Promise<void>((resolve) => buyer.watchForReceipt('send-1', () => resolve()));
    buyer.publish({ destination: '/pub/chat/room/1', body: '직거래 가능할까요? 🙂', headers: { receipt: 'send-1' } });
    await receipt;
    const message = await received;
    expect(JSON.parse(message.body)).toEqual({ from: 'buyer', text: '직거래 가능할까요? 🙂' });
    expect(message.headers).toMatchObject({ destination: '/sub/chat/room/1', 'content-type': 'application/json' });
    expect(message.headers['message-id']).toBeTruthy();

    await buyer.deactivate();
    await seller.deactivate();
    await expect.poll(() => endpoint.sessionCount()).toBe(0);
    expect(app.events).toEqual(expect.arrayContaining(['disconnected buyer', 'disconnected seller']));
  });

  it('accepts a raw client offering no subprotocol, reassembles split frames and answers one frame per message', async () => {
    const client = await rawClient();
    expect(client.ws.protocol).toBe('');
    client.ws.send('CONNECT\naccept-version:1.1,1.2\nlogin:raw\npass');
    client.ws.send(Buffer.from('code:secret\n\n\0'));
    expect((await client.next()).headers).toMatchObject({ version: '1.2', 'user-name': 'raw' });
    // two frames packed in one message: two answers, each its own message
    client.ws.send('SUBSCRIBE\nid:/sub/x\ndestination:/sub/x\nreceipt:r1\n\n\0SEND\ndestination:/pub/x\nreceipt:r2\n\nhello\0');
    await client.next(4);
    expect(client.frames.slice(1).map((f) => f.command).sort()).toEqual(['MESSAGE', 'RECEIPT', 'RECEIPT']);
    client.ws.send('DISCONNECT\nreceipt:bye\n\n\0');
    expect((await client.next(5)).headers['receipt-id']).toBe('bye');
    expect((await client.closed).code).toBe(1000);
  });

  it('chooses v12.stomp over other offered subprotocols and accepts unknown ones without a subprotocol', async () => {
    const best = await rawClient(['v10.stomp', 'v12.stomp', 'v11.stomp']);
    expect(best.ws.protocol).toBe('v12.stomp');
    best.ws.close();
    // ws (like browsers) fails a client whose offer went unanswered, so look at the raw handshake.
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({
        port,
        host: '127.0.0.1',
        path: '/ws-stomp',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Protocol': 'mqtt, wamp',
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res);
      });
      req.on('response', (res) => resolve(res));
      req.on('error', reject);
      req.end();
    });
    expect(response.statusCode).toBe(101);
    expect(response.headers['sec-websocket-protocol']).toBeUndefined();
  });

  it('answers a bad frame with ERROR and closes with a protocol error', async () => {
    const client = await rawClient(['v12.stomp']);
    client.ws.send('HELLO\n\n\0');
    const error = await client.next();
    expect(error.command).toBe('ERROR');
    expect(error.headers['x-error-code']).toBe('BAD_COMMAND');
    expect((await client.closed).code).toBe(1002);
  });

  it('refuses a frame over the size limit with ERROR and close 1009', async () => {
    const client = await rawClient();
    client.ws.send('CONNECT\naccept-version:1.2\npasscode:secret\n\n\0');
    await client.next();
    client.ws.send(`SEND\ndestination:/pub/x\n\n${'x'.repeat(5000)}\0`);
    expect((await client.next(2)).headers['x-error-code']).toBe('FRAME_TOO_LARGE');
    expect((await client.closed).code).toBe(1009);
  });

  it('refuses bad credentials with ERROR', async () => {
    const client = await rawClient();
    client.ws.send('CONNECT\naccept-version:1.2\npasscode:wrong\n\n\0');
    expect((await client.next()).headers['x-error-code']).toBe('AUTH_FAILED');
    expect((await client.closed).code).toBe(1008);
  });

  it('keeps the connection open after a rejected SEND and sends no receipt for it', async () => {
    const client = await rawClient();
    client.ws.send('CONNECT\naccept-version:1.2\npasscode:secret\n\n\0');
    await client.next();
    client.ws.send('SEND\ndestination:/pub/reject\nreceipt:r1\n\nx\0SEND\ndestination:/pub/y\nreceipt:r2\n\ny\0');
    expect((await client.next(2)).headers['receipt-id']).toBe('r2');
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.ws.close();
  });

  it('sends heart-beats as single-EOL messages', async () => {
    await endpoint.close();
    endpoint = createStompEndpoint({ app, limits: { heartbeatSendMs: 200 }, heartbeatTickMs: 20 });
    const client = await rawClient();
    const raw: string[] = [];
    client.ws.on('message', (data: Buffer) => raw.push(data.toString()));
    client.ws.send('CONNECT\naccept-version:1.2\npasscode:secret\nheart-beat:0,200\n\n\0');
    await expect.poll(() => raw.filter((m) => m === '\n').length, { timeout: 2000 }).toBeGreaterThanOrEqual(2);
    client.ws.close();
  });

  it('sends ERROR "server shutting down" to every session on close', async () => {
    const client = await rawClient();
    client.ws.send('CONNECT\naccept-version:1.2\npasscode:secret\n\n\0');
    await client.next();
    await endpoint.close();
    expect(client.frames.at(-1)?.headers.message).toBe('server shutting down');
    expect((await client.closed).code).toBe(1001);
    expect(endpoint.sessionCount()).toBe(0);
  });
});
