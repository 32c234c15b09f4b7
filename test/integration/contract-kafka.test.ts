/**
 * The Kafka side of the published contract (docs/asyncapi.yaml) against a running server on a
 * real broker: the records it produces on `chat.room-events` and `chat.notifications` match the
 * documented schemas and keys, and the documented `user-update` / `user-delete` examples, produced
 * as written, do what the document says.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deref, loadDoc, validators, type Doc } from '../helpers/contract.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { KAFKA_BROKERS } from '../helpers/services.js';
import { connectStomp } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';

const PREFIX = `test-${inject('runId')}-contract-${randomBytes(3).toString('hex')}-`;
const { doc } = loadDoc('docs/asyncapi.yaml');
const check = validators('draft-07');
const kafka = new Kafka({ clientId: 'contract-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });

let server: TestServer;
let producer: Producer;
let consumer: Consumer;
const records: Array<{ topic: string; key: string; value: unknown }> = [];

/** the channel of a topic and its one message */
function topic(address: string): { name: string; message: Doc } {
  const channel = Object.values<Doc>(doc.channels).find((c) => c.address === address);
  expect(channel, `${address} is documented`).toBeDefined();
  return { name: PREFIX + address, message: deref(doc, Object.values<Doc>(channel!.messages)[0]) };
}

async function eventually(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  server = await startTestServer({ env: { KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: PREFIX, KAFKA_PARTITIONS: '1' } });
  await eventually('the server is connected to Kafka', async () => ((await (await fetch(`${server.url}/readyz`)).json()) as Doc).kafka === 'up');
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  consumer = kafka.consumer({ groupId: `${PREFIX}observer` });
  await consumer.connect();
  await consumer.subscribe({ topics: [PREFIX + 'chat.room-events', PREFIX + 'chat.notifications'], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic: t, message }) => void records.push({ topic: t, key: message.key?.toString() ?? '', value: JSON.parse(message.value?.toString() ?? 'null') }),
  });
}, 90_000);

afterAll(async () => {
  await consumer?.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await server?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([`${PREFIX}observer`, `${PREFIX}chat-account-events`]).catch(() => undefined);
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
}, 60_000);

describe('the Kafka topics of the published contract', () => {
  it('publishes room events and push notifications of the documented shape, keyed as documented', async () => {
    const buyer = 'alice@example.com';
    const opened = await trpcClient(server.url, { token: await tokenFor(buyer) }).mutate('rooms.open', { productId: 'bike-1', sellerId: 'bob@example.com' });
    const alice = await connectStomp(server.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    await alice.sendWithReceipt(`/pub/room/${opened.data.id}/message`, { content: 'Is the bike still available?' });
    await alice.disconnect();

    const roomEvents = topic('chat.room-events');
    const notifications = topic('chat.notifications');
    const of = (name: string) => records.filter((r) => r.topic === name);
    await eventually('the message and its notification are on Kafka', () => of(roomEvents.name).some((r) => (r.value as Doc).event.type === 'message') && of(notifications.name).length > 0);
    for (const r of of(roomEvents.name)) {
      check(roomEvents.message.payload, r.value, 'chat.room-events record');
      expect(r.key).toBe((r.value as Doc).roomId);
    }
    for (const r of of(notifications.name)) {
      check(notifications.message.payload, r.value, 'chat.notifications record');
      expect(r.key).toBe((r.value as Doc).recipientId);
    }
    expect(of(notifications.name).map((r) => (r.value as Doc).recipientId)).toEqual(['bob@example.com']);
  });

  it('re-keys and then removes users as the documented account-event examples say', async () => {
    const rooms = async (user: string) => ((await trpcClient(server.url, { token: await tokenFor(user) }).query('rooms.list', {})).data as Doc).rooms as Doc[];
    expect(await rooms('alice@example.com')).toHaveLength(1);

    const update = topic('user-update');
    for (const ex of update.message.examples) await producer.send({ topic: update.name, messages: [{ key: ex.payload.oldEmail, value: JSON.stringify(ex.payload) }] });
    await eventually('the room belongs to the new email', async () => (await rooms('alice.kim@example.com')).length === 1);
    expect(await rooms('alice@example.com')).toEqual([]);

    const del = topic('user-delete');
    const deleted = del.message.examples.map((ex: Doc) => (typeof ex.payload === 'string' ? ex.payload : ex.payload.email) as string);
    expect(deleted).toEqual(['alice.kim@example.com', 'bob@example.com']);
    for (const ex of del.message.examples) {
      const value = typeof ex.payload === 'string' ? ex.payload : JSON.stringify(ex.payload);
      await producer.send({ topic: del.name, messages: [{ key: typeof ex.payload === 'string' ? ex.payload : ex.payload.email, value }] });
    }
    await eventually('both users have no rooms', async () => (await rooms('alice.kim@example.com')).length === 0 && (await rooms('bob@example.com')).length === 0);
  });
});
