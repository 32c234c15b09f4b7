/**
 * Scale-out: real service processes on one MariaDB, Redis and Kafka, with clients on
 * different instances chatting as if they were on one.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { KAFKA_BROKERS } from '../helpers/services.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { waitFor } from '../helpers/wait.js';
import { openRoom as openTestRoom } from '../helpers/rooms.js';

let cluster: Cluster;
const clients: StompUser[] = [];
const sockets: Socket[] = [];
const kafka = new Kafka({ clientId: 'cluster-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });

beforeAll(async () => {
  cluster = await startCluster(['a', 'b', 'c'], { SESSION_TTL_SECONDS: '3', INQUIRY_RATE_PER_HOUR: '3' });
  // every instance's fan-out consumer has joined its group once its bus reports kafka up
  await waitFor(async () => (await Promise.all(cluster.nodes.map(kafkaState))).every((k) => k === 'up'), 'kafka up on every instance', 60_000);
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  for (const s of sockets) s.disconnect();
  await cluster?.stop();
}, 60_000);

const node = (i: number) => cluster.nodes[i]!;

async function stompOn(i: number, userId: string) {
  const c = await connectStomp(node(i).wsUrl, { Authorization: `Bearer ${await tokenFor(userId)}` });
  clients.push(c);
  return c;
}

async function openRoom(buyer: string, seller: string, on = 0): Promise<string> {
  return (await openTestRoom(node(on).url, buyer, seller)).roomId;
}

async function history(roomId: string, reader: string, on = 0): Promise<string[]> {
  const api = trpcClient(node(on).url, { token: await tokenFor(reader) });
  const out: string[] = [];
  let before: string | null = null;
  do {
    const res: any = await api.query('history.list', { roomId, limit: 100, ...(before ? { before } : {}) });
    out.push(...res.data.messages.map((m: any) => m.content));
    before = res.data.nextCursor;
  } while (before);
  return out.reverse();
}

async function kafkaState(n: { url: string }): Promise<string> {
  return ((await (await fetch(`${n.url}/readyz`)).json()) as any).dependencies.kafka;
}

describe('a cluster of three instances on Kafka', () => {
  it('reports kafka up on every instance', async () => {
    for (const n of cluster.nodes) {
      const body = (await (await fetch(`${n.url}/readyz`)).json()) as any;
      expect(body.dependencies).toMatchObject({ mysql: 'up', redis: 'up', kafka: 'up' });
    }
  });

  it('lets a buyer on one instance and a seller on another talk both ways, once each, in order, with receipts', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const roomId = await openRoom(buyer, seller);
    const b = await stompOn(0, buyer);
    const s = await stompOn(1, seller);
    const dest = `/sub/chat/room/${roomId}`;
    const atBuyer = b.subscribe(dest);
    const atSeller = s.subscribe(dest);
    await Promise.all([atBuyer.live(), atSeller.live()]);
    for (let i = 0; i < 5; i++) {
      await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `b${i}` });
      await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `s${i}` });
    }
    // a last message after all: a repeated or missing one would show up before it
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'end' });
    const expected = ['b0', 's0', 'b1', 's1', 'b2', 's2', 'b3', 's3', 'b4', 's4', 'end'];
    await atSeller.waitForType('message', 11);
    await atBuyer.waitForType('message', 11);
    expect(atSeller.ofType('message').map((m) => m.body.content)).toEqual(expected);
    expect(atBuyer.ofType('message').map((m) => m.body.content)).toEqual(expected);
    expect(await history(roomId, buyer, 2)).toEqual(expected);
  });

  it('gives every subscriber on every instance one identical order, equal to history, with ten concurrent senders', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const roomId = await openRoom(buyer, seller);
    const dest = `/sub/chat/room/${roomId}`;
    const senders = await Promise.all(Array.from({ length: 10 }, (_, k) => stompOn(k % 3, k % 2 ? seller : buyer)));
    const watchers = await Promise.all([0, 1, 2].map((i) => stompOn(i, i % 2 ? buyer : seller)));
    const seen = watchers.map((w) => w.subscribe(dest));
    await Promise.all(seen.map((c) => c.live()));
    const perSender = 20;
    await Promise.all(
      senders.map((u, k) =>
        Promise.all(Array.from({ length: perSender }, (_, i) => u.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `${k}:${i}` }))),
      ),
    );
    // a last message after all: a repeated or missing one would show up before it
    await senders[0]!.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'end' });
    const total = 10 * perSender + 1;
    await Promise.all(seen.map((c) => c.waitForType('message', total, 20_000)));
    const stored = await history(roomId, buyer, 1);
    expect(stored).toHaveLength(total);
    expect(stored[total - 1]).toBe('end');
    for (const c of seen) expect(c.ofType('message').map((m) => m.body.content)).toEqual(stored);
  }, 60_000);

  it('lets a Socket.IO client and a STOMP client on different instances chat, read and type in one room', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const roomId = await openRoom(buyer, seller);
    const socket = ioClient(`${node(2).url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: await tokenFor(buyer) } });
    sockets.push(socket);
    const events: any[] = [];
    // presence events of the counterpart coming and going are not what this test watches
    socket.on('room:event', (e) => void (e.type !== 'presence' && events.push(e)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.emitWithAck('room:join', { roomId })).toEqual({ ok: true });

    const s = await stompOn(0, seller);
    const atSeller = s.subscribe(`/sub/chat/room/${roomId}`);
    await atSeller.live();

    const sent = await socket.emitWithAck('message:send', { roomId, content: 'hi from socket.io', clientMsgId: randomUUID() });
    expect(sent).toMatchObject({ ok: true, message: { type: 'message', roomId, senderId: buyer, content: 'hi from socket.io' } });
    const [fromSocket] = await atSeller.waitForType('message', 1);
    expect(fromSocket!.body.id).toBe(sent.message.id);

    await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'hi from stomp' });
    await s.sendWithReceipt(`/pub/room/${roomId}/read`, { messageId: sent.message.id });
    s.send(`/pub/room/${roomId}/typing`, {});
    await waitFor(() => events.length >= 4, 'four events at the Socket.IO client');
    expect(events.map((e) => e.type)).toEqual(['message', 'message', 'read', 'typing']);
    expect(events[1]).toMatchObject({ content: 'hi from stomp', senderId: seller });
    expect(events[2]).toEqual({ type: 'read', roomId, userId: seller, messageId: sent.message.id });

    expect(await socket.emitWithAck('typing', { roomId })).toEqual({ ok: true });
    // the seller's own typing comes back first; the buyer's follows
    await atSeller.waitForType('typing', 2);
    expect(atSeller.ofType('typing').map((e) => e.body)).toContainEqual({ type: 'typing', roomId, userId: buyer });

    const stranger = ioClient(`${node(1).url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: await tokenFor('stranger') } });
    sockets.push(stranger);
    await new Promise<void>((r) => stranger.once('connect', () => r()));
    expect(await stranger.emitWithAck('room:join', { roomId })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await stranger.emitWithAck('message:send', { roomId, content: 'spam' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await socket.emitWithAck('message:send', { roomId, content: '' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });

    const refused = ioClient(`${node(1).url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: 'nope' } });
    sockets.push(refused);
    const err = await new Promise<Error>((r) => refused.once('connect_error', r));
    expect(err.message).toMatch(/not valid/);
  });

  it('tells every connection of a user, on every instance, that one of their SENDs was rejected', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const roomId = await openRoom(buyer, `seller-${randomUUID()}`);
    const stranger = `stranger-${randomUUID()}`;
    const phone = await stompOn(0, stranger);
    const web = await stompOn(2, stranger);
    const onPhone = phone.subscribe('/user/queue/errors');
    const onWeb = web.subscribe('/user/queue/errors');
    await Promise.all([onPhone.live(), onWeb.live()]);
    phone.send(`/pub/room/${roomId}/message`, { content: 'not my room', clientMsgId: 'c-42' }, { receipt: 'r-42' });
    const [here] = await onPhone.waitFor(1);
    const [there] = await onWeb.waitFor(1);
    for (const e of [here!, there!]) expect(e.body).toMatchObject({ type: 'error', code: 'FORBIDDEN', receipt: 'r-42', clientMsgId: 'c-42' });
    // a second rejection after the first: a repeated first one would show up before it
    phone.send(`/pub/room/${roomId}/message`, { content: 'still not my room', clientMsgId: 'c-43' }, { receipt: 'r-43' });
    await onPhone.waitFor(2);
    await onWeb.waitFor(2);
    expect(onPhone.items.map((e) => e.body.clientMsgId)).toEqual(['c-42', 'c-43']);
    expect(onWeb.items.map((e) => e.body.clientMsgId)).toEqual(['c-42', 'c-43']);
    expect(phone.client.connected).toBe(true);
    expect(await history(roomId, buyer)).toEqual([]);
  });

  it('counts one inquiry limit per author across instances', async () => {
    const author = `customer-${randomUUID()}`;
    const token = await tokenFor(author);
    const inquiry = { name: 'Dana', email: 'dana@example.test', message: 'Where is my parcel?' };
    const codes: number[] = [];
    for (const i of [0, 1, 2, 0]) codes.push((await trpcClient(node(i).url, { token }).mutate('inquiries.create', inquiry)).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const mine = await trpcClient(node(1).url, { token }).query('inquiries.mine', undefined);
    expect(mine.data).toHaveLength(3);
  });

  it('sends exactly one chat.notifications event for a message to a recipient who is offline everywhere', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const roomId = await openRoom(buyer, seller);
    const consumer = kafka.consumer({ groupId: `${cluster.prefix}notif-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: `${cluster.prefix}chat.notifications`, fromBeginning: true });
    const got: Array<{ key: string; value: any }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = JSON.parse(String(message.value));
        if (value.roomId === roomId) got.push({ key: String(message.key), value });
      },
    });
    const b = await stompOn(1, buyer);
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'are you there?' });
    await waitFor(() => got.length >= 1, 'a notification for the offline seller');
    expect(got[0]!.key).toBe(seller);
    expect(got[0]!.value).toMatchObject({ recipientId: seller, roomId, senderId: buyer, preview: 'are you there?' });

    // the seller comes online on another instance: no notification for the next message. The
    // buyer's instance has heard of it once the room's presence event reached the buyer there.
    const atBuyer = b.subscribe(`/sub/chat/room/${roomId}`);
    await atBuyer.live();
    const sellerPresence = (online: boolean) => atBuyer.ofType('presence').filter((e) => e.body.userId === seller && e.body.online === online);
    const sellerOnline = await stompOn(2, seller);
    await waitFor(() => sellerPresence(true).length > 0, 'the seller online, as the buyer’s instance sees it');
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'ah, hi' });
    // the push decision for 'ah, hi' asks Redis on the buyer's instance; a presence read there
    // answered after it (same Redis connection) means the decision was made while the seller was on
    const onBuyersInstance = trpcClient(node(1).url, { token: await tokenFor(buyer) });
    expect((await onBuyersInstance.query('rooms.get', { roomId })).data.counterpart.online).toBe(true);
    // then the seller leaves again, and a third message is pushed: notifications go out in
    // order on one partition (keyed by the seller), so had 'ah, hi' been pushed it would come first
    await sellerOnline.disconnect();
    await waitFor(() => sellerPresence(false).length > 0, 'the seller offline, as the buyer’s instance sees it');
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'gone again?' });
    await waitFor(() => got.length >= 2, 'a notification for the seller, offline again');
    expect(got.map((g) => g.value.preview)).toEqual(['are you there?', 'gone again?']);
    await consumer.disconnect();
  }, 30_000);

  it('removes memberships on user-delete events, JSON or bare string, skipping garbage', async () => {
    const seller = `seller-${randomUUID()}`;
    const gone1 = `gone1-${randomUUID()}@example.com`;
    const gone2 = `gone2-${randomUUID()}@example.com`;
    const r1 = await openRoom(gone1, seller);
    const r2 = await openRoom(gone2, seller);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: `${cluster.prefix}user-delete`,
      messages: [{ value: JSON.stringify({ email: gone1 }) }, { value: '\u0000garbage{' }, { value: gone2 }],
    });
    await producer.disconnect();
    const api = trpcClient(node(0).url, { token: await tokenFor(gone1) });
    await waitFor(async () => (await api.query('rooms.get', { roomId: r1 })).error?.data.code === 'FORBIDDEN', 'gone1 refused its room');
    const api2 = trpcClient(node(1).url, { token: await tokenFor(gone2) });
    await waitFor(async () => (await api2.query('rooms.get', { roomId: r2 })).error?.data.code === 'FORBIDDEN', 'gone2 refused its room');
    const sellerRooms = await trpcClient(node(2).url, { token: await tokenFor(seller) }).query('rooms.list');
    expect(sellerRooms.data.rooms).toHaveLength(2); // the seller keeps the rooms and their history
  }, 30_000);

  it('turns a killed instance’s users offline within the session expiry, tells their rooms once, and their clients resync elsewhere without loss', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const roomId = await openRoom(buyer, seller);
    const extra = await cluster.start('d');
    await waitFor(async () => (await kafkaState(extra)) === 'up', 'kafka up on the new instance', 60_000);
    const dest = `/sub/chat/room/${roomId}`;
    const victim = await connectStomp(extra.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const atVictim = victim.subscribe(dest);
    const s = await stompOn(0, seller);
    const atSeller = s.subscribe(dest);
    await Promise.all([atVictim.live(), atSeller.live()]);
    await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'm1' });
    const [first] = await atVictim.waitForType('message', 1);
    const lastSeen = String(first!.body.id);

    const sellerApi = trpcClient(node(0).url, { token: await tokenFor(seller) });
    expect((await sellerApi.query('rooms.get', { roomId })).data.counterpart.online).toBe(true);
    extra.proc.kill('SIGKILL');
    await victim.closed;
    for (let i = 2; i <= 6; i++) await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `m${i}` });

    // presence expires on its own (SESSION_TTL_SECONDS=3)
    await waitFor(async () => (await sellerApi.query('rooms.get', { roomId })).data.counterpart.online === false, 'the buyer offline', 10_000);
    // and the room hears it: one instance announces the expired user offline
    const wentOffline = () => atSeller.ofType('presence').filter((e) => e.body.userId === buyer && e.body.online === false);
    await waitFor(() => wentOffline().length > 0, 'the room told the buyer went offline', 10_000);
    expect(wentOffline()).toHaveLength(1);

    const back = await stompOn(1, buyer);
    const resynced = back.subscribe(dest, { 'x-since': lastSeen });
    expect((await resynced.waitForType('message', 5)).map((m) => m.body.content)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6']);
  }, 40_000);
});
