/**
 * KafkaRoomBus against the real broker (scripts/kafka.sh, 127.0.0.1:9092): fan-out between two
 * instances, per-room order, offline notifications, and starting while Kafka is unreachable.
 * Every topic and group lives under a per-run prefix and is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KafkaRoomBus, fanoutGroupId, notificationsTopic, roomEventsTopic } from '../../server/bus/kafka-bus.js';
import type { OfflineNotification, RoomEnvelope } from '../../server/bus/room-bus.js';
import { loadEnv, type Env } from '../../server/env.js';
import { KAFKA_BROKERS as BROKERS, TEST_AUTH_SECRET } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const PREFIX = `test-${inject('runId')}-${randomBytes(3).toString('hex')}-`;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

function busEnv(instanceId: string, brokers = BROKERS): Env {
  return loadEnv({
    NODE_ENV: 'test',
    AUTH_SECRET: TEST_AUTH_SECRET,
    INSTANCE_ID: instanceId,
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: PREFIX,
    KAFKA_PARTITIONS: '3',
  });
}

function envelope(roomId: string, seq: number, origin: string): RoomEnvelope {
  const createdAt = new Date().toISOString();
  return {
    roomId,
    members: ['buyer@example.com', 'seller@example.com'],
    seq,
    origin,
    event: {
      type: 'message',
      id: String(seq),
      roomId,
      senderId: 'buyer@example.com',
      content: `message ${seq}`,
      clientMsgId: null,
      createdAt,
      attachments: [],
      deleted: false,
      roomUUID: roomId,
      sender: 'buyer@example.com',
      timestamp: createdAt,
    },
  };
}

let admin: Admin;
const plainKafka = new Kafka({
  clientId: 'kafka-bus-test',
  brokers: BROKERS.split(','),
  connectionTimeout: 2_000,
  retry: { retries: 2, initialRetryTime: 100 },
  logLevel: logLevel.NOTHING,
});
const groups = new Set<string>();

beforeAll(async () => {
  admin = plainKafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(
      `Kafka is not reachable at ${BROKERS} (${(err as Error).message}). Start it with \`bash scripts/kafka.sh start\` — these tests need a real broker.`,
    );
  }
});

afterAll(async () => {
  if (!admin) return;
  await admin.deleteGroups([...groups]).catch(() => undefined);
  const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(PREFIX));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
});

describe('KafkaRoomBus', () => {
  let a: KafkaRoomBus;
  let b: KafkaRoomBus;

  beforeAll(async () => {
    a = await KafkaRoomBus.start(busEnv('instance-a'), logger);
    b = await KafkaRoomBus.start(busEnv('instance-b'), logger);
    groups.add(fanoutGroupId(busEnv('instance-a'))).add(fanoutGroupId(busEnv('instance-b')));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('starts up with the broker reachable and creates both topics', async () => {
    expect(a.status()).toBe('up');
    expect(b.status()).toBe('up');
    const topics = await admin.listTopics();
    expect(topics).toContain(roomEventsTopic({ KAFKA_TOPIC_PREFIX: PREFIX }));
    expect(topics).toContain(notificationsTopic({ KAFKA_TOPIC_PREFIX: PREFIX }));
    const meta = await admin.fetchTopicMetadata({ topics: [roomEventsTopic({ KAFKA_TOPIC_PREFIX: PREFIX })] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);
  });

  it('delivers an envelope published on one instance to the other exactly once, each room in publish order', async () => {
    const received: RoomEnvelope[] = [];
    b.onEvent((e) => {
      if (e.origin === 'instance-a') received.push(e);
    });
    const rooms = ['room-1', 'room-2', 'room-3'];
    const seqs = new Map(rooms.map((r) => [r, 0]));
    const sent: RoomEnvelope[] = [];
    for (let i = 0; i < 200; i++) {
      const roomId = rooms[i % 3 === 2 ? 2 : i % 7 === 0 ? 1 : 0]!;
      const seq = seqs.get(roomId)! + 1;
      seqs.set(roomId, seq);
      const e = envelope(roomId, seq, 'instance-a');
      sent.push(e);
      a.publish(e);
      // a few bursts and a few pauses, as in real traffic
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    // one more in room-1 after all: a repeated or missing one of that room would come before it
    const marker = envelope('room-1', seqs.get('room-1')! + 1, 'instance-a');
    a.publish(marker);
    await waitFor(() => received.some((e) => e.roomId === 'room-1' && e.seq === marker.seq), 'the last envelope of room-1', 10_000);
    await waitFor(() => received.length >= sent.length + 1, 'every envelope', 10_000);
    sent.push(marker);
    expect(received).toHaveLength(sent.length);
    for (const roomId of rooms) {
      const got = received.filter((e) => e.roomId === roomId).map((e) => e.seq);
      const want = sent.filter((e) => e.roomId === roomId).map((e) => e.seq);
      expect(got, `order of ${roomId}`).toEqual(want);
    }
    // the envelope arrives whole (order across rooms is not promised: rooms span partitions)
    const first = sent[0]!;
    expect(received.find((e) => e.roomId === first.roomId && e.seq === first.seq)).toEqual(first);
    expect(b.status()).toBe('up');
    expect(a.status()).toBe('up');
  });

  it('does not hand an instance back its own events, while the other instance receives them', async () => {
    const atA: RoomEnvelope[] = [];
    const atB: RoomEnvelope[] = [];
    a.onEvent((e) => {
      if (e.roomId === 'room-echo') atA.push(e);
    });
    b.onEvent((e) => {
      if (e.roomId === 'room-echo') atB.push(e);
    });
    a.publish(envelope('room-echo', 1, 'instance-a'));
    await waitFor(() => atB.length > 0, 'instance-b received the event of instance-a', 5_000);
    // same room, so same partition and after it: once instance-a has this reply, it has
    // already passed over its own event
    b.publish(envelope('room-echo', 2, 'instance-b'));
    await waitFor(() => atA.length > 0, 'instance-a received the reply of instance-b', 5_000);
    expect(atA.map((e) => [e.origin, e.seq])).toEqual([['instance-b', 2]]);
    expect(atB.map((e) => [e.origin, e.seq])).toEqual([['instance-a', 1]]);
  });

  it('skips a malformed value on the topic and keeps delivering the events after it', async () => {
    const got: RoomEnvelope[] = [];
    b.onEvent((e) => {
      if (e.roomId === 'room-malformed') got.push(e);
    });
    const producer = plainKafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: roomEventsTopic({ KAFKA_TOPIC_PREFIX: PREFIX }),
      messages: [
        { key: 'room-malformed', value: '{not json' },
        { key: 'room-malformed', value: JSON.stringify({ roomId: 'room-malformed' }) },
        { key: 'room-malformed', value: JSON.stringify(envelope('room-malformed', 7, 'instance-x')) },
      ],
    });
    await producer.disconnect();
    await waitFor(() => got.length > 0, 'got.length > 0', 5_000);
    expect(got.map((e) => e.seq)).toEqual([7]);
  });

  it('sends one chat.notifications record, keyed by the recipient, per notify', async () => {
    const groupId = `${PREFIX}notifications-reader`;
    groups.add(groupId);
    const reader = plainKafka.consumer({ groupId, maxWaitTimeInMs: 50 });
    const records: Array<{ key: string; value: OfflineNotification }> = [];
    await reader.connect();
    await reader.subscribe({ topics: [notificationsTopic({ KAFKA_TOPIC_PREFIX: PREFIX })], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        records.push({ key: message.key!.toString(), value: JSON.parse(message.value!.toString()) as OfflineNotification });
      },
    });
    const notification: OfflineNotification = {
      recipientId: 'seller@example.com',
      roomId: 'room-1',
      messageId: '42',
      senderId: 'buyer@example.com',
      senderName: 'Buyer',
      preview: 'is the bike still available?',
      createdAt: new Date().toISOString(),
    };
    a.notify(notification);
    // a second one after it, to the same recipient (same partition): a repeat of the first would come before it
    const second = { ...notification, messageId: '43' };
    a.notify(second);
    await waitFor(() => records.some((r) => r.value.messageId === '43'), 'the second notification', 10_000);
    await reader.disconnect();
    expect(records).toEqual([
      { key: 'seller@example.com', value: notification },
      { key: 'seller@example.com', value: second },
    ]);
  });
});

describe('KafkaRoomBus without a reachable broker', () => {
  it('starts anyway, reports down, and publishing neither throws nor blocks', async () => {
    const started = Date.now();
    const bus = await KafkaRoomBus.start(busEnv('instance-offline', '127.0.0.1:1'), logger);
    try {
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(bus.status()).toBe('down');
      // synchronous calls: returning at all shows nothing waited for the broker
      for (let i = 0; i < 20_000; i++) bus.publish(envelope('room-offline', i + 1, 'instance-offline'));
      bus.notify({
        recipientId: 'seller@example.com',
        roomId: 'room-offline',
        messageId: '1',
        senderId: 'buyer@example.com',
        senderName: 'Buyer',
        preview: 'hello',
        createdAt: new Date().toISOString(),
      });
      expect(bus.status()).toBe('down');
    } finally {
      const closing = Date.now();
      await bus.close();
      expect(Date.now() - closing).toBeLessThan(10_000);
    }
  });
});
