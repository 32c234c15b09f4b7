import { afterEach, describe, expect, it, vi } from 'vitest';
import { prepareMessage } from '../../../server/stomp/encoder.js';
import { SendRejected, StompError } from '../../../server/stomp/errors.js';
import { connect, createHarness, Deferred, FakeApp, FakeTransport, flush, frame, type Harness } from './fakes.js';

const prepared = prepareMessage({ destination: '/sub/chat/room/1', 'content-type': 'application/json' }, '{"type":"typing"}');

async function connected(options: Parameters<typeof createHarness>[0] = {}, headers?: Record<string, string>): Promise<Harness> {
  const h = createHarness(options);
  await connect(h, headers);
  expect(h.transport.commands).toEqual(['CONNECTED']);
  return h;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StompSession CONNECT', () => {
  it('answers CONNECT with version, heart-beat, server, session and user-name', async () => {
    const h = await connected({}, { 'accept-version': '1.1,1.2', 'heart-beat': '0,0' });
    expect(h.transport.last('CONNECTED')?.headers).toEqual({
      version: '1.2',
      'heart-beat': '10000,10000',
      server: 'ReUseChat/0.1',
      session: 'session-1',
      'user-name': 'alice',
    });
    expect(h.session.version).toBe('1.2');
    expect(h.session.principal).toBe('user-1');
    expect(h.session.state).toBe('connected');
  });

  it('accepts the STOMP command and a CONNECT without host', async () => {
    const h = createHarness();
    h.session.receive(frame('STOMP', { 'accept-version': '1.2' }));
    await flush();
    expect(h.transport.commands).toEqual(['CONNECTED']);
  });

  it('assumes STOMP 1.0 when accept-version is absent', async () => {
    const h = await connected({}, {});
    expect(h.transport.last('CONNECTED')?.headers.version).toBe('1.0');
  });

  it('lets the WebSocket subprotocol pin the version', async () => {
    const h = await connected({ subprotocol: 'v11.stomp' }, { 'accept-version': '1.0,1.1,1.2' });
    expect(h.session.version).toBe('1.1');
  });

  it('refuses a client whose versions do not meet the subprotocol, listing what is supported', async () => {
    const h = createHarness({ subprotocol: 'v12.stomp' });
    await connect(h, { 'accept-version': '1.0,1.1' });
    const error = h.transport.last('ERROR');
    expect(error?.headers['x-error-code']).toBe('UNSUPPORTED_VERSION');
    expect(error?.headers.version).toBe('1.2');
    expect(h.transport.closed?.code).toBe(1002);
    expect(h.app.calls).toEqual([]);
  });

  it('refuses a client that accepts no version the server speaks', async () => {
    const h = createHarness();
    await connect(h, { 'accept-version': '2.0' });
    expect(h.transport.last('ERROR')?.headers.version).toBe('1.2,1.1,1.0');
  });

  it('refuses any frame before CONNECT', async () => {
    const h = createHarness();
    h.session.receive(frame('SEND', { destination: '/pub/room/1/message', receipt: 'r' }, 'hi'));
    await flush();
    expect(h.transport.commands).toEqual(['ERROR']);
    expect(h.transport.last('ERROR')?.headers).toMatchObject({ 'x-error-code': 'NOT_CONNECTED', 'receipt-id': 'r' });
    expect(h.transport.closed).toBeDefined();
    expect(h.app.calls).toEqual([]);
  });

  it('refuses a second CONNECT', async () => {
    const h = await connected();
    h.session.receive(frame('CONNECT', { 'accept-version': '1.2' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('ALREADY_CONNECTED');
  });

  it('turns an application AUTH_FAILED into ERROR and close, without a disconnected call', async () => {
    const app = new FakeApp();
    app.connectHandler = async () => {
      throw new StompError('AUTH_FAILED', 'token expired');
    };
    const h = createHarness({ app });
    await connect(h);
    const error = h.transport.last('ERROR');
    expect(error?.headers).toMatchObject({ message: 'authentication failed', 'x-error-code': 'AUTH_FAILED', 'content-type': 'text/plain' });
    expect(error?.body).toBe('token expired');
    expect(h.transport.closed?.code).toBe(1008);
    expect(app.calls).toEqual(['connect']);
  });

  it('hands the raw CONNECT headers (not unescaped) to the application', async () => {
    const app = new FakeApp();
    let seen: ReadonlyMap<string, string> | undefined;
    app.connectHandler = async (ctx) => {
      seen = ctx.headers;
      return { principal: 'p', userName: 'u' };
    };
    const h = createHarness({ app });
    await connect(h, { 'accept-version': '1.2', Authorization: 'Bearer a\\cb' });
    expect(seen?.get('Authorization')).toBe('Bearer a\\cb');
  });

  it('refuses a malformed heart-beat header', async () => {
    const h = createHarness();
    await connect(h, { 'accept-version': '1.2', 'heart-beat': 'often' });
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('BAD_HEADER');
  });

  it('closes a connection that never sends CONNECT', () => {
    vi.useFakeTimers();
    const h = createHarness({ limits: { connectTimeoutMs: 1000 } });
    vi.advanceTimersByTime(900);
    expect(h.transport.closed).toBeUndefined();
    vi.advanceTimersByTime(300);
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('CONNECT_TIMEOUT');
  });

  it('lets the application learn about a socket that closed during authentication', async () => {
    const app = new FakeApp();
    const auth = new Deferred<{ principal: string; userName: string }>();
    app.connectHandler = () => auth.promise;
    const h = createHarness({ app });
    h.session.receive(frame('CONNECT', { 'accept-version': '1.2' }));
    h.session.transportClosed();
    auth.resolve({ principal: 'p', userName: 'u' });
    await flush();
    expect(app.calls).toEqual(['connect', 'disconnected']);
    expect(h.transport.sent).toHaveLength(0);
  });
});

describe('StompSession heart-beats', () => {
  it('sends heart-beats every max(sx, cy) and expects them every max(cx, sy)', async () => {
    vi.useFakeTimers();
    // client: can send every 5 s, wants to hear every 20 s; server: at most 10 s both ways
    const h = await connected({}, { 'accept-version': '1.2', 'heart-beat': '5000,20000' });
    expect(h.transport.last('CONNECTED')?.headers['heart-beat']).toBe('10000,5000');
    const heartbeats = () => h.transport.frames.filter((f) => f.command === 'HEARTBEAT').length;
    const keepAlive = () => h.session.receive('\n');
    for (let t = 0; t < 19_000; t += 1000) {
      vi.advanceTimersByTime(1000);
      keepAlive();
    }
    expect(heartbeats()).toBe(0);
    vi.advanceTimersByTime(1100);
    expect(heartbeats()).toBe(1);
    for (let t = 0; t < 20_000; t += 1000) {
      vi.advanceTimersByTime(1000);
      keepAlive();
    }
    expect(heartbeats()).toBe(2);
    expect(h.transport.closed).toBeUndefined();
    // nothing from the client: it promised max(5000, 5000) = 5 s, we allow twice that
    vi.advanceTimersByTime(9_000);
    expect(h.transport.closed).toBeUndefined();
    vi.advanceTimersByTime(1500);
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('HEARTBEAT_TIMEOUT');
    expect(h.transport.closed?.code).toBe(1002);
  });

  it('sends as the client asks when the client is slower than the server minimum', async () => {
    vi.useFakeTimers();
    const h = await connected({ limits: { heartbeatSendMs: 1000, heartbeatReceiveMs: 0 } }, { 'accept-version': '1.2', 'heart-beat': '0,3000' });
    vi.advanceTimersByTime(9_050);
    expect(h.transport.frames.filter((f) => f.command === 'HEARTBEAT')).toHaveLength(3);
  });

  it('never sends heart-beats faster than the floor, whatever the client asks', async () => {
    vi.useFakeTimers();
    const h = await connected({ limits: { heartbeatMinMs: 2000 } }, { 'accept-version': '1.2', 'heart-beat': '0,1' });
    expect(h.transport.last('CONNECTED')?.headers['heart-beat']).toBe('2000,10000');
    vi.advanceTimersByTime(10_050);
    expect(h.transport.frames.filter((f) => f.command === 'HEARTBEAT')).toHaveLength(5);
  });

  it('counts any sent frame as a server heart-beat', async () => {
    vi.useFakeTimers();
    const h = await connected({ limits: { heartbeatSendMs: 1000 } }, { 'accept-version': '1.2', 'heart-beat': '0,1000' });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }));
    await flush();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(500);
      h.session.deliver('s', prepared);
    }
    expect(h.transport.frames.filter((f) => f.command === 'HEARTBEAT')).toHaveLength(0);
  });

  it('neither sends nor expects heart-beats when the client offers 0,0', async () => {
    vi.useFakeTimers();
    const h = await connected({}, { 'accept-version': '1.2', 'heart-beat': '0,0' });
    vi.advanceTimersByTime(120_000);
    expect(h.transport.commands).toEqual(['CONNECTED']);
    expect(h.transport.closed).toBeUndefined();
  });

  it('counts any received data, not only EOLs, as a client heart-beat', async () => {
    vi.useFakeTimers();
    const h = await connected({ limits: { heartbeatReceiveMs: 1000 } }, { 'accept-version': '1.2', 'heart-beat': '1000,0' });
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1500);
      h.session.receive(frame('SEND', { destination: '/d' }, 'x'));
    }
    expect(h.transport.closed).toBeUndefined();
  });

  it('pings a silent peer that negotiated no heart-beats and drops it when nothing comes back', async () => {
    vi.useFakeTimers();
    const h = createHarness({ limits: { idlePingMs: 1000 } });
    let pings = 0;
    Object.assign(h.transport, { ping: () => pings++ });
    await connect(h, { 'accept-version': '1.2' });
    vi.advanceTimersByTime(1200);
    expect(pings).toBe(1);
    h.session.touch();
    vi.advanceTimersByTime(1900);
    expect(h.transport.closed).toBeUndefined();
    vi.advanceTimersByTime(1000);
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('HEARTBEAT_TIMEOUT');
  });

  it('stops its timer when closed', async () => {
    vi.useFakeTimers();
    const h = await connected({}, { 'accept-version': '1.2', 'heart-beat': '10000,10000' });
    expect(h.scheduler.size).toBe(1);
    h.session.close();
    expect(h.scheduler.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('StompSession receipts and ordering', () => {
  it('sends a SEND receipt only after the application resolves', async () => {
    const app = new FakeApp();
    const stored = new Deferred();
    app.sendHandler = () => stored.promise;
    const h = await connected({ app });
    h.session.receive(frame('SEND', { destination: '/pub/room/1/message', receipt: 'm-1' }, '{"content":"hi"}'));
    await flush();
    expect(app.sends).toHaveLength(1);
    expect(h.transport.commands).toEqual(['CONNECTED']);
    stored.resolve();
    await flush();
    expect(h.transport.last('RECEIPT')?.headers['receipt-id']).toBe('m-1');
  });

  it('sends no receipt for a SendRejected and keeps the connection open', async () => {
    const app = new FakeApp();
    app.sendHandler = async () => {
      throw new SendRejected('NOT_MEMBER', 'not a member');
    };
    const h = await connected({ app });
    h.session.receive(frame('SEND', { destination: '/pub/room/9/message', receipt: 'm-1' }, '{}'));
    await flush();
    expect(h.transport.commands).toEqual(['CONNECTED']);
    expect(h.transport.closed).toBeUndefined();
    expect(h.session.isOpen).toBe(true);
  });

  it('turns a StompError from SEND into ERROR with the receipt-id, then close', async () => {
    const app = new FakeApp();
    app.sendHandler = async () => {
      throw new StompError('FORBIDDEN', 'not your room');
    };
    const h = await connected({ app });
    h.session.receive(frame('SEND', { destination: '/pub/room/9/message', receipt: 'm-1' }, '{}'));
    await flush();
    expect(h.transport.last('ERROR')?.headers).toMatchObject({ 'x-error-code': 'FORBIDDEN', 'receipt-id': 'm-1' });
    expect(h.transport.closed?.code).toBe(1008);
    expect(app.calls.at(-1)).toBe('disconnected');
  });

  it('turns an unexpected exception into INTERNAL with close code 1011', async () => {
    const app = new FakeApp();
    app.subscribeHandler = async () => {
      throw new TypeError('bug');
    };
    const h = await connected({ app });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', receipt: 'r' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers).toMatchObject({ 'x-error-code': 'INTERNAL', 'receipt-id': 'r' });
    expect(h.transport.last('ERROR')?.body).not.toContain('bug');
    expect(h.transport.closed?.code).toBe(1011);
  });

  it('waits for SUBSCRIBE before handling a pipelined SEND, and receipts SUBSCRIBE once live', async () => {
    const app = new FakeApp();
    const live = new Deferred();
    app.subscribeHandler = () => live.promise;
    const h = await connected({ app });
    h.session.receive(
      frame('SUBSCRIBE', { id: 'sub-0', destination: '/sub/chat/room/1', receipt: 's-1' }) +
        frame('SEND', { destination: '/pub/room/1/message' }, 'hi'),
    );
    await flush();
    expect(app.calls).toEqual(['connect', 'subscribe sub-0']);
    expect(h.transport.commands).toEqual(['CONNECTED']);
    // replayed messages may flow before the subscription is live
    expect(h.session.deliver('sub-0', prepared)).toBe(true);
    live.resolve();
    await flush();
    expect(app.calls).toEqual(['connect', 'subscribe sub-0', 'send /pub/room/1/message hi']);
    expect(h.transport.commands).toEqual(['CONNECTED', 'MESSAGE', 'RECEIPT']);
  });

  it('dispatches pipelined SENDs in order without waiting for each to be stored', async () => {
    const app = new FakeApp();
    const stores = [new Deferred(), new Deferred(), new Deferred()];
    app.sendHandler = () => stores[app.sends.length - 1]!.promise;
    const h = await connected({ app });
    h.session.receive(['1', '2', '3'].map((n) => frame('SEND', { destination: '/d', receipt: n }, n)).join(''));
    await flush();
    expect(app.sends.map((s) => s.body.toString())).toEqual(['1', '2', '3']);
    stores[2]!.resolve();
    stores[0]!.resolve();
    await flush();
    expect(h.transport.frames.filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id'])).toEqual(['3', '1']);
  });

  it('bounds SENDs in flight by pausing later frames', async () => {
    const app = new FakeApp();
    const store = new Deferred();
    app.sendHandler = () => store.promise;
    const h = await connected({ app, limits: { maxInflightSends: 2 } });
    h.session.receive(['1', '2', '3'].map((n) => frame('SEND', { destination: '/d' }, n)).join(''));
    await flush();
    expect(app.sends).toHaveLength(2);
    store.resolve();
    await flush();
    expect(app.sends).toHaveLength(3);
  });

  it('receipts UNSUBSCRIBE and refuses an unknown subscription', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }) + frame('UNSUBSCRIBE', { id: 's', receipt: 'u' }));
    await flush();
    expect(h.transport.last('RECEIPT')?.headers['receipt-id']).toBe('u');
    expect(h.app.calls).toContain('unsubscribe s');
    expect(h.session.deliver('s', prepared)).toBe(false);
    h.session.receive(frame('UNSUBSCRIBE', { id: 's' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('UNKNOWN_SUBSCRIPTION');
  });

  it('on DISCONNECT with receipt flushes pending SEND receipts, then receipts and closes normally', async () => {
    const app = new FakeApp();
    const stored = new Deferred();
    app.sendHandler = () => stored.promise;
    const h = await connected({ app });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }));
    h.session.receive(frame('SEND', { destination: '/d', receipt: 'm' }, 'x') + frame('DISCONNECT', { receipt: 'bye' }));
    await flush();
    expect(h.transport.closed).toBeUndefined();
    expect(h.session.state).toBe('disconnecting');
    stored.resolve();
    await flush();
    expect(h.transport.commands).toEqual(['CONNECTED', 'RECEIPT', 'RECEIPT']);
    expect(h.transport.frames.filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id'])).toEqual(['m', 'bye']);
    expect(h.transport.closed?.code).toBe(1000);
    expect(app.calls.slice(-2)).toEqual(['unsubscribe s', 'disconnected']);
  });

  it('ignores frames after DISCONNECT', async () => {
    const h = await connected();
    h.session.receive(frame('DISCONNECT') + frame('SEND', { destination: '/d' }, 'late'));
    await flush();
    expect(h.app.sends).toHaveLength(0);
    expect(h.transport.closed?.code).toBe(1000);
  });

  it('calls disconnected once whatever ends the session', async () => {
    const h = await connected();
    h.session.close(new StompError('FORBIDDEN'));
    h.session.transportClosed();
    h.session.close();
    expect(h.app.calls.filter((c) => c === 'disconnected')).toHaveLength(1);
    expect(h.transport.frames.filter((f) => f.command === 'ERROR')).toHaveLength(1);
  });

  it('tells onClose listeners the reason', async () => {
    const h = await connected();
    const reasons: (string | undefined)[] = [];
    h.session.onClose((error) => reasons.push(error?.code));
    h.session.receive('BOGUS\n\n\0');
    expect(reasons).toEqual(['BAD_COMMAND']);
    expect(h.transport.closed?.code).toBe(1002);
  });
});

describe('StompSession transactions', () => {
  it('applies buffered SENDs in order on COMMIT and receipts the COMMIT after they are stored', async () => {
    const h = await connected();
    h.session.receive(
      frame('BEGIN', { transaction: 'tx1', receipt: 'b' }) +
        frame('SEND', { destination: '/d', transaction: 'tx1' }, 'one') +
        frame('SEND', { destination: '/d', transaction: 'tx1' }, 'two'),
    );
    await flush();
    expect(h.app.sends).toHaveLength(0);
    h.session.receive(frame('SEND', { destination: '/d' }, 'outside') + frame('COMMIT', { transaction: 'tx1', receipt: 'c' }));
    await flush();
    expect(h.app.sends.map((s) => s.body.toString())).toEqual(['outside', 'one', 'two']);
    expect(h.transport.frames.filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id'])).toEqual(['b', 'c']);
  });

  it('discards buffered frames on ABORT', async () => {
    const h = await connected();
    h.session.receive(
      frame('BEGIN', { transaction: 'tx1' }) +
        frame('SEND', { destination: '/d', transaction: 'tx1' }, 'one') +
        frame('ABORT', { transaction: 'tx1', receipt: 'a' }),
    );
    await flush();
    expect(h.app.sends).toHaveLength(0);
    expect(h.transport.last('RECEIPT')?.headers['receipt-id']).toBe('a');
    h.session.receive(frame('COMMIT', { transaction: 'tx1' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('UNKNOWN_TRANSACTION');
  });

  it('refuses a SEND naming an unknown transaction', async () => {
    const h = await connected();
    h.session.receive(frame('SEND', { destination: '/d', transaction: 'nope' }, 'x'));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('UNKNOWN_TRANSACTION');
  });

  it('refuses a duplicate BEGIN', async () => {
    const h = await connected();
    h.session.receive(frame('BEGIN', { transaction: 't' }) + frame('BEGIN', { transaction: 't' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('DUPLICATE_TRANSACTION');
  });

  it('drops open transactions when the connection ends', async () => {
    const h = await connected();
    h.session.receive(frame('BEGIN', { transaction: 't' }) + frame('SEND', { destination: '/d', transaction: 't' }, 'x') + frame('DISCONNECT'));
    await flush();
    expect(h.app.sends).toHaveLength(0);
  });
});

describe('StompSession subscriptions and acks', () => {
  it('puts an ack header on MESSAGEs of client-individual subscriptions and acks one at a time', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', ack: 'client-individual' }));
    await flush();
    for (let i = 0; i < 3; i++) h.session.deliver('s', prepared);
    const messages = h.transport.frames.filter((f) => f.command === 'MESSAGE');
    expect(messages.map((m) => m.headers.ack)).toEqual(['1', '2', '3']);
    expect(messages.map((m) => m.headers['message-id'])).toEqual(['1', '2', '3']);
    h.session.receive(frame('ACK', { id: '2', receipt: 'k' }));
    await flush();
    expect(h.session.unackedCount).toBe(2);
    expect(h.transport.last('RECEIPT')?.headers['receipt-id']).toBe('k');
  });

  it('acks cumulatively on client subscriptions', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', ack: 'client' }));
    await flush();
    for (let i = 0; i < 3; i++) h.session.deliver('s', prepared);
    h.session.receive(frame('NACK', { id: '2' }));
    await flush();
    expect(h.session.unackedCount).toBe(1);
  });

  it('sends no ack header on auto subscriptions', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: '/sub/chat/room/1', destination: '/sub/chat/room/1' }));
    await flush();
    h.session.deliver('/sub/chat/room/1', prepared);
    const message = h.transport.last('MESSAGE');
    expect(message?.headers).toMatchObject({ subscription: '/sub/chat/room/1', destination: '/sub/chat/room/1' });
    expect(message?.headers.ack).toBeUndefined();
    expect(h.session.unackedCount).toBe(0);
  });

  it('accepts STOMP 1.1 ACKs by message-id and ignores unknown ids but still receipts them', async () => {
    const h = await connected({}, { 'accept-version': '1.1' });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', ack: 'client-individual' }));
    await flush();
    h.session.deliver('s', prepared);
    h.session.receive(frame('ACK', { 'message-id': '1', subscription: 's' }) + frame('ACK', { 'message-id': '99', subscription: 's', receipt: 'r' }));
    await flush();
    expect(h.session.unackedCount).toBe(0);
    expect(h.transport.last('RECEIPT')?.headers['receipt-id']).toBe('r');
    expect(h.transport.closed).toBeUndefined();
  });

  it('applies ACKs buffered in a transaction on COMMIT', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', ack: 'client-individual' }));
    await flush();
    h.session.deliver('s', prepared);
    h.session.receive(frame('BEGIN', { transaction: 't' }) + frame('ACK', { id: '1', transaction: 't' }));
    await flush();
    expect(h.session.unackedCount).toBe(1);
    h.session.receive(frame('COMMIT', { transaction: 't' }));
    await flush();
    expect(h.session.unackedCount).toBe(0);
  });

  it('keeps the pending-ack set bounded', async () => {
    const h = await connected({ limits: { maxPendingAcks: 10 } });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', ack: 'client' }));
    await flush();
    for (let i = 0; i < 100; i++) h.session.deliver('s', prepared);
    expect(h.session.unackedCount).toBe(10);
  });

  it('refuses an unknown ack mode', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d', ack: 'sometimes' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('BAD_HEADER');
  });

  it('refuses a duplicate subscription id', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/a' }) + frame('SUBSCRIBE', { id: 's', destination: '/b' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('DUPLICATE_SUBSCRIPTION');
  });

  it('refuses SUBSCRIBE without id in STOMP 1.2', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { destination: '/a' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('MISSING_HEADER');
  });

  it('refuses subscriptions over the per-connection limit', async () => {
    const h = await connected({ limits: { maxSubscriptions: 2 } });
    h.session.receive(['a', 'b', 'c'].map((id) => frame('SUBSCRIBE', { id, destination: `/${id}` })).join(''));
    await flush();
    expect(h.app.subscribes.map((s) => s.id)).toEqual(['a', 'b']);
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(h.transport.closed?.code).toBe(1008);
    expect(h.app.calls.slice(-3)).toEqual(['unsubscribe a', 'unsubscribe b', 'disconnected']);
  });

  it('removes a subscription the application refused', async () => {
    const app = new FakeApp();
    app.subscribeHandler = async () => {
      throw new StompError('FORBIDDEN', 'not a member of room 9');
    };
    const h = await connected({ app });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/sub/chat/room/9' }));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('FORBIDDEN');
    expect(app.calls).not.toContain('unsubscribe s');
  });

  it('returns false when delivering to an unknown subscription', async () => {
    const h = await connected();
    expect(h.session.deliver('nope', prepared)).toBe(false);
  });

  it('sends non-UTF-8 bodies as binary WebSocket messages', async () => {
    const h = await connected();
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }));
    await flush();
    h.session.deliver('s', prepareMessage({ destination: '/d' }, Buffer.from([0xff])));
    expect(h.transport.sent.at(-1)?.binary).toBe(true);
  });
});

describe('StompSession backpressure', () => {
  it('closes a slow consumer instead of queueing more', async () => {
    const h = await connected({ limits: { slowConsumerBytes: 1024 } });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }));
    await flush();
    expect(h.session.deliver('s', prepared)).toBe(true);
    h.transport.bufferedAmount = 4096;
    expect(h.session.deliver('s', prepared)).toBe(false);
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('SLOW_CONSUMER');
    expect(h.transport.closed?.code).toBe(1008);
    expect(h.session.deliver('s', prepared)).toBe(false);
    expect(h.transport.sentAfterClose).toBe(0);
  });

  it('drops the socket of a slow consumer at once when the transport can, without a closing handshake', async () => {
    class TerminatingTransport extends FakeTransport {
      terminated = 0;
      terminate(): void {
        this.terminated++;
      }
    }
    const transport = new TerminatingTransport();
    const h = await connected({ transport, limits: { slowConsumerBytes: 1024 } });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }));
    await flush();
    transport.bufferedAmount = 4096;
    expect(h.session.deliver('s', prepared)).toBe(false);
    expect(transport.terminated).toBe(1);
    // nothing more is queued for a reader that is not reading, not even the ERROR frame
    expect(transport.commands).toEqual(['CONNECTED']);
    expect(transport.closed).toBeUndefined();
    expect(h.session.deliver('s', prepared)).toBe(false);
  });

  it('refuses a flood of frames queued behind a pending SUBSCRIBE', async () => {
    const app = new FakeApp();
    app.subscribeHandler = () => new Promise(() => {});
    const h = await connected({ app, limits: { maxQueuedFrames: 10 } });
    h.session.receive(frame('SUBSCRIBE', { id: 's', destination: '/d' }) + frame('SEND', { destination: '/d' }).repeat(20));
    await flush();
    expect(h.transport.last('ERROR')?.headers['x-error-code']).toBe('TOO_MANY_PENDING_FRAMES');
  });
});
