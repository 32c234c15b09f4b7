import { randomUUID } from 'node:crypto';
import { encode } from 'next-auth/jwt';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH_SECRET } from '../helpers/services.js';
import { databaseUrl, startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp, RawStomp, header, type StompUser } from '../helpers/stomp.js';
import { expiredToken, tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { waitFor } from '../helpers/wait.js';

let srv: TestServer;
const sockets: StompUser[] = [];

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) await s.disconnect().catch(() => undefined);
  await srv?.stop();
});

const as = async (id: string, role?: 'admin') => trpcClient(srv.url, { token: await tokenFor(id, { ...(role ? { role } : {}) }) });
const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

describe('rooms over tRPC', () => {
  it('opens a room for the buyer and returns plain JSON with string ids', async () => {
    const buyer = uid('buyer');
    const seller = uid('seller');
    const api = await as(buyer);
    const res = await api.mutate('rooms.open', { productId: 'p-1', sellerId: seller });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ productId: 'p-1', buyerId: buyer, sellerId: seller, role: 'buyer', unreadCount: 0, lastMessage: null });
    expect(res.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof res.data.createdAt).toBe('string');
    expect(res.data.counterpart).toMatchObject({ id: seller });
    const seen = await (await as(seller)).query('rooms.get', { roomId: res.data.id });
    expect(seen.data).toMatchObject({ id: res.data.id, role: 'seller', counterpart: { id: buyer, name: buyer } });
  });

  it('gives the same room to the same buyer, seller and product, even when opened concurrently', async () => {
    const api = await as(uid('buyer'));
    const seller = uid('seller');
    const results = await Promise.all(Array.from({ length: 10 }, () => api.mutate('rooms.open', { productId: 'p-2', sellerId: seller })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.data.id)).size).toBe(1);
    const again = await api.mutate('rooms.open', { productId: 'p-2', sellerId: seller });
    expect(again.data.id).toBe(results[0]!.data.id);
    const other = await api.mutate('rooms.open', { productId: 'p-3', sellerId: seller });
    expect(other.data.id).not.toBe(results[0]!.data.id);
  });

  it('refuses a chat with yourself', async () => {
    const me = uid('me');
    const res = await (await as(me)).mutate('rooms.open', { productId: 'p', sellerId: me });
    expect(res.status).toBe(400);
    expect(res.error?.data.code).toBe('BAD_REQUEST');
  });

  it('answers UNAUTHORIZED without a caller, or with an expired token', async () => {
    const anon = trpcClient(srv.url);
    const res = await anon.query('rooms.list');
    expect(res.status).toBe(401);
    expect(res.error?.data.code).toBe('UNAUTHORIZED');
    const expired = trpcClient(srv.url, { token: await expiredToken('x') });
    const res2 = await expired.query('rooms.list');
    expect(res2.error?.data.code).toBe('UNAUTHORIZED');
    expect(res2.error?.message).toMatch(/expired/);
  });

  it('answers FORBIDDEN for someone else’s room, NOT_FOUND for no room, BAD_REQUEST for a bad id', async () => {
    const opened = await (await as(uid('buyer'))).mutate('rooms.open', { productId: 'p', sellerId: uid('seller') });
    const stranger = await as(uid('stranger'));
    expect((await stranger.query('rooms.get', { roomId: opened.data.id })).error?.data.code).toBe('FORBIDDEN');
    expect((await stranger.query('history.list', { roomId: opened.data.id })).error?.data.code).toBe('FORBIDDEN');
    expect((await stranger.mutate('history.markRead', { roomId: opened.data.id, messageId: '1' })).error?.data.code).toBe('FORBIDDEN');
    expect((await stranger.query('rooms.get', { roomId: randomUUID() })).error?.data.code).toBe('NOT_FOUND');
    const bad = await stranger.query('rooms.get', { roomId: 'not-a-uuid' });
    expect(bad.status).toBe(400);
    expect(bad.error?.data.zodError?.fieldErrors.roomId?.[0]).toMatch(/room UUID/);
  });

  it('lists rooms by recent activity with counterpart, last message, unread count and online flag', async () => {
    const seller = uid('seller');
    const buyers = [uid('b1'), uid('b2'), uid('b3')];
    const rooms = [];
    for (const b of buyers) rooms.push((await (await as(b)).mutate('rooms.open', { productId: `p-${b}`, sellerId: seller })).data);
    const sellerApi = await as(seller);

    // buyer 2 writes twice, buyer 1 once (later)
    const b2 = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(buyers[1]!)}` });
    sockets.push(b2);
    await b2.sendWithReceipt(`/pub/room/${rooms[1].id}/message`, { content: 'hello?' });
    await b2.sendWithReceipt(`/pub/room/${rooms[1].id}/message`, { content: 'still there?' });
    await (await as(buyers[0]!)).query('rooms.list');
    const b1 = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(buyers[0]!)}` });
    await b1.sendWithReceipt(`/pub/room/${rooms[0].id}/message`, { content: 'is it new?' });
    await b1.disconnect();

    const list = await sellerApi.query('rooms.list', { limit: 10 });
    expect(list.data.rooms.map((r: any) => r.id)).toEqual([rooms[0].id, rooms[1].id, rooms[2].id]);
    const [r0, r1, r2] = list.data.rooms;
    expect(r0).toMatchObject({ unreadCount: 1, lastMessage: { content: 'is it new?', senderId: buyers[0] }, counterpart: { id: buyers[0], online: false } });
    expect(r1).toMatchObject({ unreadCount: 2, lastMessage: { content: 'still there?' }, counterpart: { id: buyers[1], online: true } });
    expect(r2).toMatchObject({ unreadCount: 0, lastMessage: null, counterpart: { online: false } });

    // the seller reads room 1 up to the first message: one unread left
    const history = await sellerApi.query('history.list', { roomId: rooms[1].id });
    const oldest = history.data.messages[1];
    const mark = await sellerApi.mutate('history.markRead', { roomId: rooms[1].id, messageId: oldest.id });
    expect(mark.data).toEqual({ moved: true, lastReadMessageId: oldest.id });
    expect((await sellerApi.query('rooms.get', { roomId: rooms[1].id })).data.unreadCount).toBe(1);

    // the buyer goes offline
    await b2.disconnect();
    const after = await waitFor(async () => {
      const list = await sellerApi.query('rooms.list', { limit: 10 });
      return list.data.rooms[1].counterpart.online === false ? list : undefined;
    }, 'the buyer offline in the seller’s list');
    expect(after.data.rooms[1].counterpart.online).toBe(false);

    // pages of one room each walk the same order
    const p1 = await sellerApi.query('rooms.list', { limit: 2 });
    const p2 = await sellerApi.query('rooms.list', { limit: 2, cursor: p1.data.nextCursor });
    expect([...p1.data.rooms, ...p2.data.rooms].map((r: any) => r.id)).toEqual([rooms[0].id, rooms[1].id, rooms[2].id]);
    expect(p2.data.nextCursor).toBeNull();
  });
});

describe('history over tRPC', () => {
  let roomId: string;
  let buyer: string;
  let ids: string[] = [];
  const TOTAL = 3000;

  beforeAll(async () => {
    buyer = uid('buyer');
    const seller = uid('seller');
    roomId = (await (await as(buyer)).mutate('rooms.open', { productId: 'p-hist', sellerId: seller })).data.id;
    // several thousand stored messages, written as the store would (consecutive seq)
    const conn = await mysql.createConnection(databaseUrl(srv.dbName));
    const rows = Array.from({ length: TOTAL }, (_, i) => [roomId, i + 1, i % 2 ? seller : buyer, `message ${i + 1}`, new Date()]);
    for (let i = 0; i < rows.length; i += 1000) {
      await conn.query('INSERT INTO messages (room_id, seq, sender_id, content, created_at) VALUES ?', [rows.slice(i, i + 1000)]);
    }
    const [last] = await conn.query<mysql.RowDataPacket[]>('SELECT MAX(id) AS id FROM messages WHERE room_id = ?', [roomId]);
    await conn.query('UPDATE rooms SET last_seq = ?, last_message_id = ? WHERE id = ?', [TOTAL, last[0]!.id, roomId]);
    const [all] = await conn.query<mysql.RowDataPacket[]>('SELECT id FROM messages WHERE room_id = ? ORDER BY id', [roomId]);
    ids = all.map((r) => String(r.id));
    await conn.end();
  });

  it('walks several thousand messages page by page, newest first, each exactly once', async () => {
    const api = await as(buyer);
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const res: any = await api.query('history.list', { roomId, limit: 100, ...(before ? { before } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.data.messages.map((m: any) => m.id));
      before = res.data.nextCursor;
      pages++;
    } while (before);
    expect(pages).toBe(TOTAL / 100);
    expect(seen).toEqual([...ids].reverse());
  });

  it('refuses a page larger than 100', async () => {
    const res = await (await as(buyer)).query('history.list', { roomId, limit: 101 });
    expect(res.error?.data.code).toBe('BAD_REQUEST');
  });

  it('returns everything after a message id, oldest first', async () => {
    const res = await (await as(buyer)).query('history.since', { roomId, after: ids[TOTAL - 11] });
    expect(res.data.messages.map((m: any) => m.id)).toEqual(ids.slice(TOTAL - 10));
    expect(res.data.hasMore).toBe(false);
    expect(res.data.messages[0]).toMatchObject({ type: 'message', roomId, content: `message ${TOTAL - 9}` });
  });

  it('moves the read mark forward only, and STOMP subscribers see the read event', async () => {
    const seller = (await (await as(buyer)).query('rooms.get', { roomId })).data.sellerId;
    const watcher = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
    sockets.push(watcher);
    const events = watcher.subscribe(`/sub/chat/room/${roomId}`);
    await events.live();
    const api = await as(buyer);
    expect((await api.mutate('history.markRead', { roomId, messageId: ids[100] })).data).toEqual({ moved: true, lastReadMessageId: ids[100] });
    expect((await api.mutate('history.markRead', { roomId, messageId: ids[50] })).data).toEqual({ moved: false, lastReadMessageId: ids[100] });
    const bad = await api.mutate('history.markRead', { roomId, messageId: '999999999999' });
    expect(bad.error?.data.code).toBe('BAD_REQUEST');
    const [e] = await events.waitFor(1);
    expect(e!.body).toEqual({ type: 'read', roomId, userId: buyer, messageId: ids[100] });
    // a later move forward: a read event for the refused moves would have come before it
    await api.mutate('history.markRead', { roomId, messageId: ids[150] });
    await events.waitFor(2);
    expect(events.items.map((i) => i.body.messageId)).toEqual([ids[100], ids[150]]);
  });
});

describe('signing in on the web page', () => {
  async function sessionCookie(sub: string) {
    const token = await encode({ token: { sub, name: sub.toUpperCase() }, secret: TEST_AUTH_SECRET });
    return `next-auth.session-token=${token}`;
  }

  it('knows the caller from the next-auth session cookie and issues a short-lived socket token', async () => {
    const me = uid('web');
    const api = trpcClient(srv.url, { cookie: await sessionCookie(me) });
    expect((await api.query('auth.me')).data).toMatchObject({ id: me, name: me.toUpperCase() });
    const issued = await api.mutate('auth.socketToken');
    expect(issued.status).toBe(200);
    const socket = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${issued.data.token}` });
    sockets.push(socket);
    expect(socket.client.connected).toBe(true);
    expect((await trpcClient(srv.url).mutate('auth.socketToken')).error?.data.code).toBe('UNAUTHORIZED');
  });

  it('lets a cookie open /ws-stomp only from an allowed Origin', async () => {
    const cookie = await sessionCookie(uid('web'));
    const { default: WebSocket } = await import('ws');
    const open = async (origin: string) => {
      const raw = new RawStomp(new WebSocket(srv.wsUrl, ['v12.stomp'], { headers: { cookie, origin } }));
      await raw.opened;
      raw.send('CONNECT\naccept-version:1.2\n\n\0');
      return raw;
    };
    const good = await open(srv.url);
    expect(header(await good.next('CONNECTED'), 'version')).toBe('1.2');
    good.ws.close();
    const evil = await open('https://evil.example');
    expect(header(await evil.next('ERROR'), 'message')).toMatch(/authentication failed/);
  });
});
