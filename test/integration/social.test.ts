/**
 * Photos on messages, block, leave, mute, reports and delete on one instance, through the
 * transports a client uses (STOMP, Socket.IO, tRPC) against the real MariaDB and Redis.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryRoomBus } from '../../server/bus/room-bus.js';
import { openRoom, type TestRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp, type Collector, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { photo, uploadPhoto } from '../helpers/uploads.js';
import { waitFor } from '../helpers/wait.js';

let server: TestServer;
const clients: StompUser[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  for (const s of sockets) s.disconnect();
  await server?.stop();
});

const api = async (user: string, opts: { role?: 'admin' } = {}) => trpcClient(server.url, { token: await tokenFor(user, opts) });

async function stomp(user: string): Promise<StompUser> {
  const c = await connectStomp(server.wsUrl, { Authorization: `Bearer ${await tokenFor(user)}` });
  clients.push(c);
  return c;
}

async function live(user: StompUser, destination: string): Promise<Collector> {
  const c = user.subscribe(destination);
  await c.live();
  return c;
}

async function socketFor(user: string): Promise<Socket> {
  const s = ioClient(`${server.url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: await tokenFor(user) } });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => (s.once('connect', resolve), s.once('connect_error', reject)));
  return s;
}

async function upload(room: TestRoom, user: string, width = 640, height = 480): Promise<any> {
  const res = await uploadPhoto(server.url, room.roomId, await photo(width, height).jpeg().toBuffer(), { token: await tokenFor(user) });
  expect(res.status).toBe(201);
  return res.body;
}

async function historyOf(room: TestRoom, reader: string): Promise<any[]> {
  const res = await (await api(reader)).query('history.list', { roomId: room.roomId, limit: 100 });
  expect(res.status).toBe(200);
  return res.data.messages;
}

async function uploadRow(id: string): Promise<RowDataPacket | undefined> {
  const [rows] = await server.service.database.pool.query<RowDataPacket[]>('SELECT message_id FROM uploads WHERE id = ?', [id]);
  return rows[0];
}

describe('photos on messages', () => {
  it('delivers a photo-only STOMP message with signed image URLs that serve the photo, and keeps it in history', async () => {
    const room = await openRoom(server.url);
    const up = await upload(room, room.buyer, 800, 600);
    const seller = await stomp(room.seller);
    const inbox = await live(seller, `/sub/chat/room/${room.roomId}`);
    const buyer = await stomp(room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: '', attachments: [up.id], clientMsgId: 'photo-1' });

    const [got] = await inbox.waitForType('message', 1);
    expect(got!.body).toMatchObject({ content: '', deleted: false, attachments: [{ id: up.id, contentType: 'image/jpeg', width: 800, height: 600 }] });
    const attachment = (got!.body.attachments as any[])[0];
    const image = await fetch(`${server.url}${attachment.url}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect((await fetch(`${server.url}${attachment.thumbUrl}`)).status).toBe(200);

    const [stored] = await historyOf(room, room.seller);
    expect(stored.attachments.map((a: any) => a.id)).toEqual([up.id]);
    expect(Number((await uploadRow(up.id))!.message_id)).toBe(Number(stored.id));
    const list = await (await api(room.seller)).query('rooms.list', {});
    expect(list.data.rooms[0].lastMessage.attachments).toHaveLength(1);
  });

  it('sends text with several photos over Socket.IO, in the order given', async () => {
    const room = await openRoom(server.url);
    const ups = [await upload(room, room.buyer), await upload(room, room.buyer), await upload(room, room.buyer)];
    const socket = await socketFor(room.buyer);
    const ack = await socket.timeout(10_000).emitWithAck('message:send', { roomId: room.roomId, content: 'three angles', attachments: ups.map((u) => u.id) });
    expect(ack.ok).toBe(true);
    expect(ack.message.attachments.map((a: any) => a.id)).toEqual(ups.map((u) => u.id));
    expect((await historyOf(room, room.seller))[0].content).toBe('three angles');
  });

  it('refuses photos that are not the sender’s unsent uploads in this room, naming the id, and stores nothing', async () => {
    const room = await openRoom(server.url);
    const other = await openRoom(server.url, room.buyer);
    const sellers = await upload(room, room.seller);
    const elsewhere = await upload(other, room.buyer);
    const mine = await upload(room, room.buyer);
    const buyer = await stomp(room.buyer);
    const errors = await live(buyer, '/user/queue/errors');
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'first', attachments: [mine.id] });

    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA';
    const attempts: Array<[unknown, string]> = [
      [[sellers.id], sellers.id],
      [[elsewhere.id], elsewhere.id],
      [[unknown], unknown],
      [[mine.id], `${mine.id} is already attached`],
      [['not an id'], 'must be an upload id'],
      [[mine.id, mine.id, mine.id, mine.id, mine.id], 'at most 4 photos'],
    ];
    for (const [ids, named] of attempts) buyer.send(`/pub/room/${room.roomId}/message`, { content: 'look', attachments: ids });
    const refused = await errors.waitForType('error', attempts.length);
    expect(refused.map((r) => r.body.code)).toEqual(attempts.map(() => 'BAD_REQUEST'));
    // refusals of the store and of the edge may arrive in either order
    for (const [, named] of attempts) expect(refused.some((r) => String(r.body.message).includes(named)), named).toBe(true);
    expect((await historyOf(room, room.buyer)).map((m) => m.content)).toEqual(['first']);
    expect((await uploadRow(sellers.id))!.message_id).toBeNull();
    expect((await uploadRow(elsewhere.id))!.message_id).toBeNull();
  });

  it('refuses a message with neither text nor photos', async () => {
    const room = await openRoom(server.url);
    const socket = await socketFor(room.buyer);
    const ack = await socket.timeout(10_000).emitWithAck('message:send', { roomId: room.roomId, content: '  ', attachments: [] });
    expect(ack).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: 'content: content must not be empty' } });
    expect(await historyOf(room, room.buyer)).toEqual([]);
  });
});

describe('block', () => {
  it('refuses SENDs of both sides with BLOCKED while either blocks, stores nothing, and unblock restores the chat', async () => {
    const room = await openRoom(server.url);
    const buyerApi = await api(room.buyer);
    const sellerApi = await api(room.seller);
    const blocked = await buyerApi.mutate('rooms.block', { roomId: room.roomId });
    expect(blocked.data.blocked).toBe('byMe');
    expect((await sellerApi.query('rooms.get', { roomId: room.roomId })).data.blocked).toBe('byThem');
    expect((await sellerApi.query('rooms.list', {})).data.rooms[0].blocked).toBe('byThem');

    const seller = await stomp(room.seller);
    const sellerErrors = await live(seller, '/user/queue/errors');
    seller.send(`/pub/room/${room.roomId}/message`, { content: 'hello?', clientMsgId: 'b-1' });
    const [stompRefusal] = await sellerErrors.waitForType('error', 1);
    expect(stompRefusal!.body).toMatchObject({ code: 'BLOCKED', clientMsgId: 'b-1' });

    const buyerSocket = await socketFor(room.buyer);
    const ack = await buyerSocket.timeout(10_000).emitWithAck('message:send', { roomId: room.roomId, content: 'bye' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'BLOCKED' } });
    expect(ack.error.message).toContain('unblock');
    expect(await historyOf(room, room.buyer)).toEqual([]);

    expect((await buyerApi.mutate('rooms.unblock', { roomId: room.roomId })).data.blocked).toBe('none');
    await seller.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'back again' });
    expect((await historyOf(room, room.buyer)).map((m) => m.content)).toEqual(['back again']);
  });

  it('lets only members block', async () => {
    const room = await openRoom(server.url);
    const res = await (await api('someone-else')).mutate('rooms.block', { roomId: room.roomId });
    expect(res.status).toBe(403);
  });
});

describe('leave and mute', () => {
  it('hides a left room from the list until a new message arrives', async () => {
    const room = await openRoom(server.url);
    const buyer = await stomp(room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'deal done, thanks' });
    const sellerApi = await api(room.seller);
    const ids = async () => (await sellerApi.query('rooms.list', { limit: 100 })).data.rooms.map((r: any) => r.id);
    expect(await ids()).toContain(room.roomId);

    expect((await sellerApi.mutate('rooms.leave', { roomId: room.roomId })).status).toBe(200);
    expect(await ids()).not.toContain(room.roomId);
    expect((await sellerApi.query('rooms.get', { roomId: room.roomId })).status).toBe(200);

    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'one more question' });
    expect(await ids()).toContain(room.roomId);
  });

  it('sends no push notification to a member who muted the room', async () => {
    const room = await openRoom(server.url);
    const bus = server.service.bus as MemoryRoomBus;
    const pushesFor = (content: string) => bus.notifications.filter((n) => n.roomId === room.roomId && n.preview === content);
    const buyer = await stomp(room.buyer);
    // the seller is offline: every message would be pushed to them
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'before mute' });
    await waitFor(() => pushesFor('before mute').length === 1, 'the push of an unmuted room');

    const muted = await (await api(room.seller)).mutate('rooms.mute', { roomId: room.roomId, muted: true });
    expect(muted.data.muted).toBe(true);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'while muted' });
    await (await api(room.seller)).mutate('rooms.mute', { roomId: room.roomId, muted: false });
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'after unmute' });
    // pushes go out in commit order: once the later one is there, the muted one would have been too
    await waitFor(() => pushesFor('after unmute').length === 1, 'the push after unmuting');
    expect(pushesFor('while muted')).toEqual([]);
  });
});

describe('reports', () => {
  it('stores a member’s report of a message, lists it for admins only, and hands it to the bus', async () => {
    const room = await openRoom(server.url);
    const buyer = await stomp(room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'pay outside the app please' });
    const [message] = await historyOf(room, room.seller);
    const created = await (await api(room.seller)).mutate('reports.create', { roomId: room.roomId, messageId: message.id, reason: 'fraud', note: 'asks for a bank transfer' });
    expect(created.status).toBe(200);
    expect(created.data).toMatchObject({ roomId: room.roomId, reporterId: room.seller, reportedUserId: room.buyer, messageId: message.id, reason: 'fraud' });

    const listed = await (await api('moderator', { role: 'admin' })).query('reports.list', { limit: 100 });
    expect(listed.data.reports.map((r: any) => r.id)).toContain(created.data.id);
    expect((await (await api(room.seller)).query('reports.list', { limit: 10 })).status).toBe(403);
    const published = (server.service.bus as MemoryRoomBus).reports.find((r) => r.id === created.data.id);
    expect(published).toMatchObject({ messageContent: 'pay outside the app please', reportedUserId: room.buyer });
  });

  it('refuses reports from strangers, of messages of another room, and with an unknown reason, storing none', async () => {
    const room = await openRoom(server.url);
    const other = await openRoom(server.url);
    const otherBuyer = await stomp(other.buyer);
    await otherBuyer.sendWithReceipt(`/pub/room/${other.roomId}/message`, { content: 'elsewhere' });
    const [foreign] = await historyOf(other, other.buyer);
    const admin = await api('moderator-2', { role: 'admin' });
    const before = (await admin.query('reports.list', { limit: 100 })).data.reports.length;

    expect((await (await api('stranger')).mutate('reports.create', { roomId: room.roomId, reason: 'spam' })).status).toBe(403);
    const wrongRoom = await (await api(room.seller)).mutate('reports.create', { roomId: room.roomId, messageId: foreign.id, reason: 'spam' });
    expect(wrongRoom.status).toBe(404);
    expect(wrongRoom.error?.message).toContain('no such message in this room');
    const badReason = await (await api(room.seller)).mutate('reports.create', { roomId: room.roomId, reason: 'rude' });
    expect(badReason.status).toBe(400);
    expect((await admin.query('reports.list', { limit: 100 })).data.reports.length).toBe(before);
  });
});

describe('delete', () => {
  it('turns the sender’s message into a tombstone in history and resync, with a live deleted event on STOMP and Socket.IO', async () => {
    const room = await openRoom(server.url);
    const up = await upload(room, room.buyer);
    expect((await fetch(`${server.url}${up.url}`)).status).toBe(200);
    const buyer = await stomp(room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'wrong photo', attachments: [up.id] });
    const [message] = await historyOf(room, room.buyer);
    const seller = await stomp(room.seller);
    const inbox = await live(seller, `/sub/chat/room/${room.roomId}`);
    const socket = await socketFor(room.seller);
    const socketEvents: any[] = [];
    socket.on('room:event', (e) => void socketEvents.push(e));
    expect((await socket.timeout(10_000).emitWithAck('room:join', { roomId: room.roomId })).ok).toBe(true);

    const res = await (await api(room.buyer)).mutate('history.delete', { roomId: room.roomId, messageId: message.id });
    expect(res.data).toEqual({ deleted: true, messageId: message.id });
    const [event] = await inbox.waitForType('deleted', 1);
    expect(event!.body).toEqual({ type: 'deleted', roomId: room.roomId, messageId: message.id });
    await waitFor(() => socketEvents.some((e) => e.type === 'deleted' && e.messageId === message.id), 'the deleted event over Socket.IO');

    // the photo's earlier links stop working
    const image = await fetch(`${server.url}${up.url}`);
    expect(image.status).toBe(404);
    const [tombstone] = await historyOf(room, room.seller);
    expect(tombstone).toMatchObject({ id: message.id, deleted: true, content: '', attachments: [] });
    const since = await (await api(room.seller)).query('history.since', { roomId: room.roomId, after: '0' });
    expect(since.data.messages[0]).toMatchObject({ deleted: true, content: '' });
    const replay = seller.subscribe(`/sub/chat/room/${room.roomId}`, { 'x-since': '0', id: 'replay' });
    const [replayed] = await replay.waitForType('message', 1);
    expect(replayed!.body).toMatchObject({ id: message.id, deleted: true, content: '' });
  });

  it('refuses deleting another member’s message, or one older than the window, and leaves it as it was', async () => {
    const room = await openRoom(server.url);
    const buyer = await stomp(room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'still for sale?' });
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'old news' });
    const [old, first] = await historyOf(room, room.buyer);

    const notMine = await (await api(room.seller)).mutate('history.delete', { roomId: room.roomId, messageId: first.id });
    expect(notMine).toMatchObject({ status: 403, error: { message: 'only the sender can delete a message' } });

    await server.service.database.pool.query('UPDATE messages SET created_at = created_at - INTERVAL 11 MINUTE WHERE id = ?', [old.id]);
    const tooLate = await (await api(room.buyer)).mutate('history.delete', { roomId: room.roomId, messageId: old.id });
    expect(tooLate.status).toBe(403);
    expect(tooLate.error?.message).toContain('within 10 minutes');
    expect((await historyOf(room, room.buyer)).map((m) => [m.content, m.deleted])).toEqual([
      ['old news', false],
      ['still for sale?', false],
    ]);
  });
});
