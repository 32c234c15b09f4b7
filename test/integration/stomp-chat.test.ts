import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStomp, frameBody, header, RawStomp, type StompUser } from '../helpers/stomp.js';
import { waitFor } from '../helpers/wait.js';
import { openRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expiredToken, tokenFor, unsignedToken } from '../helpers/tokens.js';

let srv: TestServer;
const open: StompUser[] = [];

beforeAll(async () => {
  srv = await startTestServer({ env: { SEND_RATE_PER_SECOND: '50', SEND_BURST: '100', STOMP_HEARTBEAT_MS: '1000' } });
});
afterAll(async () => {
  for (const u of open) await u.disconnect().catch(() => undefined);
  await srv?.stop();
});

async function user(id: string, opts?: { heartbeat?: number }) {
  const u = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(id)}` }, opts);
  open.push(u);
  return u;
}

function room(buyer?: string, seller?: string) {
  return openRoom(srv.url, buyer, seller);
}

async function storedContents(roomId: string, reader: string) {
  const all: string[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await srv.service.chat.history(reader, roomId, { limit: 100, ...(before ? { before } : {}) });
    all.push(...page.messages.map((m) => m.content));
    if (!page.nextCursor) break;
    before = Number(page.nextCursor);
  }
  return all.reverse();
}

describe('chatting over STOMP with @stomp/stompjs', () => {
  it('lets the buyer and the seller exchange messages both ways, each confirmed by a receipt', async () => {
    const { roomId, buyer, seller } = await room();
    const b = await user(buyer);
    const s = await user(seller);
    const dest = `/sub/chat/room/${roomId}`;
    const atBuyer = b.subscribe(dest, { id: dest });
    const atSeller = s.subscribe(dest);
    await Promise.all([atBuyer.live(), atSeller.live()]);

    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'Is the bike still available?', clientMsgId: randomUUID() });
    await s.sendWithReceipt(`/pub/room/${roomId}/message`, { message: 'Yes! 안녕하세요 🚲' });

    const got = await atSeller.waitFor(2);
    await atBuyer.waitFor(2);
    expect(got.map((m) => m.body.content)).toEqual(['Is the bike still available?', 'Yes! 안녕하세요 🚲']);
    expect(atBuyer.items.map((m) => m.body.content)).toEqual(['Is the bike still available?', 'Yes! 안녕하세요 🚲']);

    const first = got[0]!;
    expect(first.headers.destination).toBe(dest);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['message-id']).toBeTruthy();
    expect(first.headers.subscription).toBeTruthy();
    expect(first.body).toMatchObject({ type: 'message', roomId, senderId: buyer, roomUUID: roomId, sender: buyer });
    expect(first.body.id).toMatch(/^\d+$/);
    expect(first.body.timestamp).toBe(first.body.createdAt);
    expect(Number(got[1]!.body.id)).toBeGreaterThan(Number(first.body.id));
    // the subscription id chosen by the buyer's client (the destination itself) is echoed back
    expect(atBuyer.items[0]!.headers.subscription).toBe(dest);

    expect(await storedContents(roomId, buyer)).toEqual(['Is the bike still available?', 'Yes! 안녕하세요 🚲']);
  });

  it('never trusts a sender named by the client', async () => {
    const { roomId, buyer, seller } = await room();
    const b = await user(buyer);
    const s = await user(seller);
    const atSeller = s.subscribe(`/sub/chat/room/${roomId}`);
    await atSeller.live();
    b.client.publish({
      destination: `/pub/room/${roomId}/message`,
      headers: { sender: seller, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'pay me now', sender: seller, senderId: seller }),
    });
    const [m] = await atSeller.waitFor(1);
    expect(m!.body.senderId).toBe(buyer);
    expect(m!.body.sender).toBe(buyer);
  });

  it('stores a repeated clientMsgId once and answers it with the original message', async () => {
    const { roomId, buyer, seller } = await room();
    const b = await user(buyer);
    const atBuyer = b.subscribe(`/sub/chat/room/${roomId}`);
    await atBuyer.live();
    const clientMsgId = randomUUID();
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'once', clientMsgId });
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'once', clientMsgId });
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'after' });
    // 'after' was sent last, so a repeated 'once' would have arrived before it
    await atBuyer.waitFor(2);
    expect(atBuyer.items.map((m) => m.body.content)).toEqual(['once', 'after']);
    expect(await storedContents(roomId, seller)).toEqual(['once', 'after']);
    const again = await srv.service.chat.sendMessage(buyer, roomId, { content: 'once', clientMsgId });
    expect(again.duplicate).toBe(true);
    expect(again.message.id).toBe(atBuyer.items[0]!.body.id);
  });

  it('delivers events of all the caller’s rooms on /user/queue/events, including read marks', async () => {
    const seller = `seller-${randomUUID()}`;
    const r1 = await room(undefined, seller);
    const r2 = await room(undefined, seller);
    const s = await user(seller);
    const events = s.subscribe('/user/queue/events');
    const b1 = await user(r1.buyer);
    const b2 = await user(r2.buyer);
    await events.live();
    await b1.sendWithReceipt(`/pub/room/${r1.roomId}/message`, { content: 'from room one' });
    await b2.sendWithReceipt(`/pub/room/${r2.roomId}/message`, { content: 'from room two' });
    await events.waitFor(2);
    const messages = events.ofType('message');
    expect(messages.map((m) => [m.body.roomId, m.body.content])).toEqual([
      [r1.roomId, 'from room one'],
      [r2.roomId, 'from room two'],
    ]);
    await b1.sendWithReceipt(`/pub/room/${r1.roomId}/read`, { messageId: messages[0]!.body.id });
    await events.waitFor(3);
    expect(events.ofType('read')[0]!.body).toEqual({ type: 'read', roomId: r1.roomId, userId: r1.buyer, messageId: messages[0]!.body.id });
    expect(events.items.every((e) => e.headers.destination === '/user/queue/events')).toBe(true);
  });

  it('moves read marks forward only, and shows typing to the room', async () => {
    const { roomId, buyer, seller } = await room();
    const b = await user(buyer);
    const s = await user(seller);
    const atSeller = s.subscribe(`/sub/chat/room/${roomId}`);
    await atSeller.live();
    await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'one' });
    await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'two' });
    const ids = (await atSeller.waitFor(2)).map((m) => String(m.body.id));
    await b.sendWithReceipt(`/pub/room/${roomId}/read`, { messageId: ids[1] });
    await b.sendWithReceipt(`/pub/room/${roomId}/read`, { messageId: ids[0] }); // backwards: ignored
    b.send(`/pub/room/${roomId}/typing`, {});
    await atSeller.waitFor(4);
    expect(atSeller.ofType('read').map((e) => e.body.messageId)).toEqual([ids[1]]);
    expect(atSeller.ofType('typing')[0]!.body).toEqual({ type: 'typing', roomId, userId: buyer });
    const view = await srv.service.chat.getRoom(buyer, roomId);
    expect(view.lastReadMessageId).toBe(ids[1]);
    expect(view.unreadCount).toBe(0);
  });

  it('resyncs with x-since after a reconnect, missing nothing and repeating nothing while the other side keeps sending', async () => {
    const { roomId, buyer, seller } = await room();
    const dest = `/sub/chat/room/${roomId}`;
    const s = await user(seller);
    let b = await user(buyer);
    let atBuyer = b.subscribe(dest);
    await atBuyer.live();
    let sent = 0;
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i++) await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `m${++sent}` });
    };
    await sendSome(5);
    await atBuyer.waitFor(5);
    const lastSeen = String(atBuyer.items[4]!.body.id);
    await b.disconnect();

    const sending = sendSome(20); // keeps sending while the buyer is away and while it resubscribes
    await waitFor(() => sent > 6, 'the seller to send while the buyer is away');
    b = await user(buyer);
    atBuyer = b.subscribe(dest, { 'x-since': lastSeen });
    await sending;
    // one more after everything: a repeated or missing message would show up before it
    await sendSome(1);
    const got = await atBuyer.waitFor(21);
    expect(got.map((m) => m.body.content)).toEqual(Array.from({ length: 21 }, (_, i) => `m${i + 6}`));
  });

  it('gives every subscriber the order of history when many senders write at once', async () => {
    const seller = `seller-${randomUUID()}`;
    const { roomId, buyer } = await room(undefined, seller);
    const dest = `/sub/chat/room/${roomId}`;
    const senders = await Promise.all([user(buyer), user(seller), user(buyer), user(seller), user(buyer), user(seller)]);
    const watchers = [senders[0]!.subscribe(dest), senders[1]!.subscribe(dest), (await user(buyer)).subscribe(dest)];
    await Promise.all(watchers.map((w) => w.live()));
    const perSender = 25;
    await Promise.all(
      senders.map(async (u, k) => {
        const sends: Array<Promise<void>> = [];
        for (let i = 0; i < perSender; i++) sends.push(u.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `s${k}-${i}` }));
        await Promise.all(sends);
      }),
    );
    const total = senders.length * perSender;
    const orders = await Promise.all(watchers.map(async (w) => (await w.waitFor(total)).map((m) => m.body.content)));
    const history = await storedContents(roomId, buyer);
    expect(history).toHaveLength(total);
    for (const order of orders) expect(order).toEqual(history);
    // each sender's own messages keep the order it sent them in
    for (let k = 0; k < senders.length; k++) {
      const mine = history.filter((c) => c.startsWith(`s${k}-`));
      expect(mine).toEqual(Array.from({ length: perSender }, (_, i) => `s${k}-${i}`));
    }
  });
});

describe('refusals over STOMP', () => {
  async function connectRaw(headers: string) {
    const raw = await RawStomp.open(srv.wsUrl, ['v12.stomp']);
    raw.send(`CONNECT\naccept-version:1.2\nhost:reuse\n${headers}\n\0`);
    return raw;
  }

  it.each([
    ['no token', ''],
    ['a badly signed token', async () => `Authorization:Bearer ${await tokenFor('mallory', { secret: 'another-secret-of-at-least-32-chars!!' })}\n`],
    ['an expired token', async () => `Authorization:Bearer ${await expiredToken('alice')}\n`],
    ['an alg:none token', async () => `Authorization:Bearer ${unsignedToken('alice')}\n`],
    ['garbage', 'Authorization:Bearer not.a.jwt\n'],
  ])('answers CONNECT with %s by ERROR, then closes', async (_label, make) => {
    const headers = typeof make === 'function' ? await make() : make;
    const raw = await connectRaw(headers);
    const error = await raw.next('ERROR');
    expect(header(error, 'message')).toMatch(/authentication failed/);
    expect(await raw.closed).toBeGreaterThan(1000);
  });

  it('accepts the JWT as passcode, and a CONNECT without host or subprotocol', async () => {
    const raw = await RawStomp.open(srv.wsUrl);
    raw.send(`CONNECT\naccept-version:1.2\nlogin:bob\npasscode:${await tokenFor('bob')}\n\n\0`);
    const connected = await raw.next('CONNECTED');
    expect(header(connected, 'version')).toBe('1.2');
    expect(header(connected, 'user-name')).toBe('bob');
    expect(header(connected, 'session')).toBeTruthy();
    expect(header(connected, 'server')).toBeTruthy();
    raw.ws.close();
  });

  it('negotiates heart-beats as the spec says', async () => {
    const raw = await RawStomp.open(srv.wsUrl, ['v12.stomp']);
    raw.send(`CONNECT\naccept-version:1.2\nheart-beat:500,2000\nAuthorization:Bearer ${await tokenFor('carol')}\n\n\0`);
    const connected = await raw.next('CONNECTED');
    expect(header(connected, 'heart-beat')).toBe('1000,1000');
    // the client asked for beats every 2000 ms at most, the server sends no more often than 1000: max(1000, 2000)
    const heartBeat = await raw.nextFrame((f) => f === '\n', 'a heart-beat from the server', 10_000, raw.frames.length);
    expect(heartBeat).toBe('\n');
    raw.ws.close();
  });

  it('closes a connection whose heart-beats stop', async () => {
    const raw = await RawStomp.open(srv.wsUrl, ['v12.stomp']);
    raw.send(`CONNECT\naccept-version:1.2\nheart-beat:1000,0\nAuthorization:Bearer ${await tokenFor('dave')}\n\n\0`);
    await raw.next('CONNECTED');
    const error = await raw.next('ERROR', 8000);
    expect(header(error, 'message')).toMatch(/heart-beat/);
    await raw.closed;
  }, 15_000);

  it('closes the connection of a stranger who subscribes to a room', async () => {
    const { roomId } = await room();
    const raw = await connectRaw(`Authorization:Bearer ${await tokenFor('stranger')}\n`);
    await raw.next('CONNECTED');
    raw.send(`SUBSCRIBE\nid:0\ndestination:/sub/chat/room/${roomId}\nreceipt:sub-1\n\n\0`);
    const error = await raw.next('ERROR');
    expect(header(error, 'message')).toBe('forbidden');
    expect(raw.frames.some((f) => f.startsWith('RECEIPT'))).toBe(false);
    await raw.closed;
  });

  it('refuses a stranger’s SEND on /user/queue/errors, stores nothing and keeps the connection', async () => {
    const { roomId, buyer } = await room();
    const stranger = await user('stranger-2');
    const errors = stranger.subscribe('/user/queue/errors');
    await errors.live();
    stranger.send(`/pub/room/${roomId}/message`, { content: 'spam', clientMsgId: 'c-1' }, { receipt: 'rcpt-1' });
    const [e] = await errors.waitFor(1);
    expect(e!.body).toMatchObject({ type: 'error', code: 'FORBIDDEN', receipt: 'rcpt-1', clientMsgId: 'c-1' });
    expect(stranger.client.connected).toBe(true);
    expect(await storedContents(roomId, buyer)).toEqual([]);
  });

  it.each([
    ['an empty message', { content: '   ' }, /content must not be empty/],
    ['a message over 2000 characters', { content: 'x'.repeat(2001) }, /at most 2000 characters/],
    ['a body that is not JSON', 'not json', /body must be JSON/],
  ])('answers %s with an error event and no receipt', async (_label, body, expected) => {
    const { roomId, buyer } = await room();
    const b = await user(buyer);
    const errors = b.subscribe('/user/queue/errors');
    await errors.live();
    b.client.publish({
      destination: `/pub/room/${roomId}/message`,
      headers: { receipt: 'bad-1' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const [e] = await errors.waitFor(1);
    expect(e!.body).toMatchObject({ type: 'error', code: 'BAD_REQUEST', receipt: 'bad-1' });
    expect(String(e!.body.message)).toMatch(expected);
    expect(await storedContents(roomId, buyer)).toEqual([]);
  });

  it('accepts exactly 2000 characters of emoji', async () => {
    const { roomId, buyer } = await room();
    const b = await user(buyer);
    const content = '😀'.repeat(2000);
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content });
    expect(await storedContents(roomId, buyer)).toEqual([content]);
  });

  it.each([70 * 1024, 900 * 1024])('answers a %i-byte frame, over the 64 KiB limit, with ERROR and closes', async (size) => {
    const raw = await connectRaw(`Authorization:Bearer ${await tokenFor('eve')}\n`);
    await raw.next('CONNECTED');
    raw.send(`SEND\ndestination:/pub/room/x/message\n\n${'a'.repeat(size)}\0`);
    const error = await raw.next('ERROR');
    expect(header(error, 'message')).toMatch(/too large/);
    await raw.closed;
  });

  it('answers a frame whose content-length exceeds the limit with ERROR before reading the body', async () => {
    const raw = await connectRaw(`Authorization:Bearer ${await tokenFor('eve')}\n`);
    await raw.next('CONNECTED');
    raw.send(`SEND\ndestination:/pub/room/x/message\ncontent-length:10000000\n\nabc`);
    const error = await raw.next('ERROR');
    expect(header(error, 'message')).toMatch(/too large|content-length/);
    await raw.closed;
  });

  it('answers a bad command with ERROR and closes', async () => {
    const raw = await connectRaw(`Authorization:Bearer ${await tokenFor('frank')}\n`);
    await raw.next('CONNECTED');
    raw.send(`HELLO\n\n\0`);
    const error = await raw.next('ERROR');
    expect(frameBody(error).length + (header(error, 'message')?.length ?? 0)).toBeGreaterThan(0);
    await raw.closed;
  });

  it('rate-limits a flood of 1,000 sends: the excess is refused, and exactly the confirmed ones are stored', async () => {
    const { roomId, buyer } = await room();
    const b = await user(buyer);
    const errors = b.subscribe('/user/queue/errors');
    await errors.live();
    const receipts = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const receipt = `flood-${i}`;
      b.client.watchForReceipt(receipt, () => receipts.add(receipt));
      b.client.publish({ destination: `/pub/room/${roomId}/message`, headers: { receipt }, body: JSON.stringify({ content: `f${i}` }) });
    }
    // every SEND is answered exactly once: by its RECEIPT or by an error event
    await waitFor(() => receipts.size + errors.items.length >= 1000, 'an answer to every send', 20_000);
    const limited = errors.items.filter((e) => e.body.code === 'TOO_MANY_REQUESTS');
    expect(limited.length).toBeGreaterThanOrEqual(800);
    expect(receipts.size + limited.length).toBe(1000);
    const stored = await storedContents(roomId, buyer);
    expect(stored.length).toBe(receipts.size);
    expect(b.client.connected).toBe(true);
  }, 30_000);
});
