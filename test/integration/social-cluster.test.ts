/**
 * Photos, block, delete and reports across two real service processes on one MariaDB, Redis
 * and Kafka: what one instance changes, the other delivers or enforces.
 */
import { Kafka, logLevel } from 'kafkajs';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { openRoom } from '../helpers/rooms.js';
import { KAFKA_BROKERS } from '../helpers/services.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { photo, uploadPhoto } from '../helpers/uploads.js';
import { waitFor } from '../helpers/wait.js';

let cluster: Cluster;
const clients: StompUser[] = [];
const sockets: Socket[] = [];
const kafka = new Kafka({ clientId: 'social-cluster-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });

beforeAll(async () => {
  cluster = await startCluster(['a', 'b']);
  await waitFor(
    async () => (await Promise.all(cluster.nodes.map(async (n) => ((await (await fetch(`${n.url}/readyz`)).json()) as any).dependencies.kafka))).every((k) => k === 'up'),
    'kafka up on both instances',
    60_000,
  );
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  for (const s of sockets) s.disconnect();
  // drops the database and the cluster's topics
  await cluster?.stop();
}, 60_000);

const node = (i: number) => cluster.nodes[i]!;

async function stompOn(i: number, user: string): Promise<StompUser> {
  const c = await connectStomp(node(i).wsUrl, { Authorization: `Bearer ${await tokenFor(user)}` });
  clients.push(c);
  return c;
}

async function socketOn(i: number, user: string): Promise<Socket> {
  const s = ioClient(`${node(i).url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: await tokenFor(user) } });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => (s.once('connect', resolve), s.once('connect_error', reject)));
  return s;
}

const apiOn = async (i: number, user: string) => trpcClient(node(i).url, { token: await tokenFor(user) });

describe('across two instances on Kafka', () => {
  it('delivers a photo sent on one instance to a member on the other, with URLs the other instance serves', async () => {
    const room = await openRoom(node(0).url);
    const up = await uploadPhoto(node(0).url, room.roomId, await photo(400, 300).jpeg().toBuffer(), { token: await tokenFor(room.buyer) });
    expect(up.status).toBe(201);
    const seller = await stompOn(1, room.seller);
    const inbox = seller.subscribe(`/sub/chat/room/${room.roomId}`);
    await inbox.live();
    const buyer = await stompOn(0, room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'the scratch', attachments: [up.body.id] });

    const [got] = await inbox.waitForType('message', 1, 20_000);
    const [attachment] = got!.body.attachments as any[];
    expect(attachment).toMatchObject({ id: up.body.id, width: 400, height: 300 });
    expect((await fetch(`${node(1).url}${attachment.thumbUrl}`)).status).toBe(200);
  });

  it('refuses SENDs on the other instance once a member blocked on this one, storing nothing', async () => {
    const room = await openRoom(node(0).url);
    const seller = await stompOn(1, room.seller);
    // a first message warms the other instance's access cache: the block must reach it over the bus
    await seller.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'hi' });
    const watcher = await stompOn(1, room.seller);
    const roomEvents = watcher.subscribe(`/sub/chat/room/${room.roomId}`);
    await roomEvents.live();

    expect((await (await apiOn(0, room.buyer)).mutate('rooms.block', { roomId: room.roomId })).data.blocked).toBe('byMe');
    // the block's bus event and this typing event share the room's partition: once the typing
    // event is delivered on the other instance, the block was seen there first
    const buyer = await stompOn(0, room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/typing`, {});
    await roomEvents.waitForType('typing', 1, 20_000);

    const errors = seller.subscribe('/user/queue/errors');
    await errors.live();
    seller.send(`/pub/room/${room.roomId}/message`, { content: 'are you there?' });
    const [refusal] = await errors.waitForType('error', 1, 20_000);
    expect(refusal!.body.code).toBe('BLOCKED');
    expect((await (await apiOn(1, room.seller)).query('rooms.get', { roomId: room.roomId })).data.blocked).toBe('byThem');
    const history = await (await apiOn(1, room.seller)).query('history.list', { roomId: room.roomId });
    expect(history.data.messages.map((m: any) => m.content)).toEqual(['hi']);
  });

  it('tells members on the other instance of a deletion, over STOMP and Socket.IO', async () => {
    const room = await openRoom(node(0).url);
    const buyer = await stompOn(0, room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'typo' });
    const [message] = (await (await apiOn(0, room.buyer)).query('history.list', { roomId: room.roomId })).data.messages;
    const seller = await stompOn(1, room.seller);
    const inbox = seller.subscribe(`/sub/chat/room/${room.roomId}`);
    await inbox.live();
    const socket = await socketOn(1, room.seller);
    const socketEvents: any[] = [];
    socket.on('room:event', (e) => void socketEvents.push(e));
    expect((await socket.timeout(10_000).emitWithAck('room:join', { roomId: room.roomId })).ok).toBe(true);

    expect((await (await apiOn(0, room.buyer)).mutate('history.delete', { roomId: room.roomId, messageId: message.id })).status).toBe(200);
    const [event] = await inbox.waitForType('deleted', 1, 20_000);
    expect(event!.body).toEqual({ type: 'deleted', roomId: room.roomId, messageId: message.id });
    await waitFor(() => socketEvents.some((e) => e.type === 'deleted' && e.messageId === message.id), 'the deleted event over Socket.IO on the other instance');
    const [tombstone] = (await (await apiOn(1, room.seller)).query('history.list', { roomId: room.roomId })).data.messages;
    expect(tombstone).toMatchObject({ deleted: true, content: '' });
  });

  it('publishes a stored report on the chat.reports topic', async () => {
    const room = await openRoom(node(0).url);
    const buyer = await stompOn(0, room.buyer);
    await buyer.sendWithReceipt(`/pub/room/${room.roomId}/message`, { content: 'send the money first' });
    const [message] = (await (await apiOn(1, room.seller)).query('history.list', { roomId: room.roomId })).data.messages;

    const groupId = `${cluster.prefix}reports-reader`;
    const consumer = kafka.consumer({ groupId });
    const received: any[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${cluster.prefix}chat.reports`, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message: m }) => void received.push({ key: m.key?.toString(), value: JSON.parse(m.value!.toString()) }) });
    try {
      const created = await (await apiOn(1, room.seller)).mutate('reports.create', { roomId: room.roomId, messageId: message.id, reason: 'fraud' });
      expect(created.status).toBe(200);
      const record = await waitFor(() => received.find((r) => r.value.id === created.data.id), 'the report on chat.reports', 30_000);
      expect(record.key).toBe(room.roomId);
      expect(record.value).toMatchObject({ reporterId: room.seller, reportedUserId: room.buyer, messageId: message.id, messageContent: 'send the money first', reason: 'fraud' });
    } finally {
      await consumer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
