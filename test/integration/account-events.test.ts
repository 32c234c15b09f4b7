/**
 * Account events against the real broker and a per-run MariaDB database: the user service's
 * user-delete and user-update records change who can reach which room.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  accountEventsGroupId,
  startAccountEvents,
  userDeleteTopic,
  userUpdateTopic,
  type AccountEvents,
} from '../../server/bus/account-events.js';
import { DELETED_USER_NAME } from '../../server/db/accounts.js';
import { openDatabase, type Database } from '../../server/db/client.js';
import { loadEnv, type Env } from '../../server/env.js';
import { KAFKA_BROKERS, MYSQL_URL, TEST_AUTH_SECRET } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const PREFIX = `test-${inject('runId')}-${randomBytes(3).toString('hex')}-`;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
// named after the run, so the global teardown drops it even if this file does not get to
const dbName = `reuse_chat_test_${inject('runId')}_accounts_${randomBytes(3).toString('hex')}`;
const databaseUrl = `${MYSQL_URL.replace(/\/$/, '')}/${dbName}`;

async function dropDatabase(): Promise<void> {
  const conn = await mysql.createConnection(MYSQL_URL);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  } finally {
    await conn.end();
  }
}

const kafka = new Kafka({
  clientId: 'account-events-test',
  brokers: KAFKA_BROKERS.split(','),
  connectionTimeout: 2_000,
  retry: { retries: 2, initialRetryTime: 100 },
  logLevel: logLevel.NOTHING,
});

let env: Env;
let admin: Admin;
let producer: Producer;
let database: Database;
let events: AccountEvents;
let changes = 0;

async function rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [r] = await database.pool.query<RowDataPacket[]>(sql, params);
  return r;
}

async function membersOf(roomId: string): Promise<string[]> {
  return (await rows('SELECT user_id FROM room_members WHERE room_id = ? ORDER BY user_id', [roomId])).map((r) => String(r.user_id));
}

async function roomsOf(userId: string): Promise<string[]> {
  return (await rows('SELECT room_id FROM room_members WHERE user_id = ? ORDER BY room_id', [userId])).map((r) => String(r.room_id));
}

/** a room between buyer and seller, with one message from each */
async function seedRoom(buyerId: string, sellerId: string, productId = `product-${randomUUID()}`): Promise<string> {
  const roomId = randomUUID();
  await database.pool.query('INSERT INTO rooms (id, product_id, buyer_id, seller_id, last_seq) VALUES (?, ?, ?, ?, 2)', [
    roomId,
    productId,
    buyerId,
    sellerId,
  ]);
  await database.pool.query(
    "INSERT INTO room_members (room_id, user_id, role) VALUES (?, ?, 'buyer'), (?, ?, 'seller')",
    [roomId, buyerId, roomId, sellerId],
  );
  await database.pool.query('INSERT INTO messages (room_id, seq, sender_id, content) VALUES (?, 1, ?, ?), (?, 2, ?, ?)', [
    roomId,
    buyerId,
    'is it still available?',
    roomId,
    sellerId,
    'yes',
  ]);
  return roomId;
}

async function seedUser(id: string, name: string, email: string | null): Promise<void> {
  await database.pool.query('INSERT INTO users (id, name, email) VALUES (?, ?, ?)', [id, name, email]);
}

async function send(topic: string, key: string, value: string | null): Promise<void> {
  await producer.send({ topic, messages: [{ key, value }] });
}

beforeAll(async () => {
  admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(
      `Kafka is not reachable at ${KAFKA_BROKERS} (${(err as Error).message}). Start it with \`bash scripts/kafka.sh start\` — these tests need a real broker.`,
    );
  }
  env = loadEnv({
    NODE_ENV: 'test',
    AUTH_SECRET: TEST_AUTH_SECRET,
    INSTANCE_ID: 'accounts-a',
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: PREFIX,
    KAFKA_PARTITIONS: '2',
  });
  database = await openDatabase({ url: env.DATABASE_URL, poolSize: 4, logger });
  events = await startAccountEvents({ env, logger, pool: database.pool, onChanged: () => changes++ });
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await events?.close();
  await producer?.disconnect().catch(() => undefined);
  if (admin) {
    await admin.deleteGroups([accountEventsGroupId(env)]).catch(() => undefined);
    const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(PREFIX));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
  }
  await database?.close();
  await dropDatabase();
});

describe('account events', () => {
  it('joins the shared consumer group and reports up', () => {
    expect(events.status()).toBe('up');
  });

  it('removes every membership of a user deleted with a JSON event, and the counterpart keeps the room', async () => {
    await seedUser('alice@example.com', 'Alice', 'alice@example.com');
    const r1 = await seedRoom('alice@example.com', 'seller1@example.com');
    const r2 = await seedRoom('buyer2@example.com', 'alice@example.com');
    const before = changes;
    await send(userDeleteTopic(env), 'alice@example.com', JSON.stringify({ email: 'alice@example.com' }));
    await waitFor(async () => (await roomsOf('alice@example.com')).length === 0, 'alice has no rooms');
    expect(await membersOf(r1)).toEqual(['seller1@example.com']);
    expect(await membersOf(r2)).toEqual(['buyer2@example.com']);
    const [profile] = await rows('SELECT name, email FROM users WHERE id = ?', ['alice@example.com']);
    expect(profile).toMatchObject({ name: DELETED_USER_NAME, email: null });
    // the counterpart's history stays whole
    expect(await rows('SELECT id FROM messages WHERE room_id = ?', [r1])).toHaveLength(2);
    expect(changes).toBeGreaterThan(before);
  });

  it('removes memberships of a user deleted with a bare or a JSON-quoted email', async () => {
    const bob = await seedRoom('bob@example.com', 'seller3@example.com');
    const carol = await seedRoom('carol@example.com', 'seller4@example.com');
    await send(userDeleteTopic(env), 'bob@example.com', 'bob@example.com');
    await send(userDeleteTopic(env), 'carol@example.com', '"carol@example.com"');
    await waitFor(async () => (await membersOf(bob)).length === 1 && (await membersOf(carol)).length === 1, 'bob and carol are gone');
    expect(await membersOf(bob)).toEqual(['seller3@example.com']);
    expect(await membersOf(carol)).toEqual(['seller4@example.com']);
  });

  it('finds a user with an opaque id through the email on their profile', async () => {
    await seedUser('u-dave-17', 'Dave', 'dave@example.com');
    const room = await seedRoom('u-dave-17', 'seller5@example.com');
    await send(userDeleteTopic(env), 'dave@example.com', JSON.stringify({ email: 'dave@example.com' }));
    await waitFor(async () => (await membersOf(room)).length === 1, 'dave is gone');
    expect(await membersOf(room)).toEqual(['seller5@example.com']);
  });

  it('skips a garbage event and still applies the next valid one on the same partition', async () => {
    const room = await seedRoom('frank@example.com', 'seller6@example.com');
    const key = 'frank@example.com';
    await producer.send({
      topic: userDeleteTopic(env),
      messages: [
        { key, value: '{"email": ' },
        { key, value: null },
        { key, value: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
        { key, value: JSON.stringify({ mail: 'frank@example.com' }) },
        { key, value: 'frank@example.com' },
      ],
    });
    await producer.send({ topic: userUpdateTopic(env), messages: [{ key, value: 'not an update' }] });
    await waitFor(async () => (await membersOf(room)).length === 1, 'frank is gone after the garbage');
    expect(await membersOf(room)).toEqual(['seller6@example.com']);
    expect(events.status()).toBe('up');
  });

  it('re-keys memberships, rooms, own messages and the profile of a user whose email changed', async () => {
    await seedUser('old@example.com', 'Olga', 'old@example.com');
    const asBuyer = await seedRoom('old@example.com', 'seller7@example.com');
    const asSeller = await seedRoom('buyer8@example.com', 'old@example.com');
    await database.pool.query('UPDATE room_members SET last_read_message_id = 5 WHERE room_id = ? AND user_id = ?', [asBuyer, 'old@example.com']);
    const before = changes;
    await send(userUpdateTopic(env), 'old@example.com', JSON.stringify({ oldEmail: 'old@example.com', newEmail: 'new@example.com' }));
    await waitFor(async () => (await roomsOf('old@example.com')).length === 0, 'old@ has no rooms');

    expect(await roomsOf('new@example.com')).toEqual([asBuyer, asSeller].sort());
    expect(await membersOf(asBuyer)).toEqual(['new@example.com', 'seller7@example.com']);
    const [m] = await rows('SELECT role, last_read_message_id FROM room_members WHERE room_id = ? AND user_id = ?', [asBuyer, 'new@example.com']);
    expect(m).toMatchObject({ role: 'buyer', last_read_message_id: 5 });
    expect(await rows('SELECT buyer_id, seller_id FROM rooms WHERE id IN (?) ORDER BY buyer_id', [[asBuyer, asSeller]])).toEqual([
      { buyer_id: 'buyer8@example.com', seller_id: 'new@example.com' },
      { buyer_id: 'new@example.com', seller_id: 'seller7@example.com' },
    ]);
    const senders = await rows('SELECT sender_id FROM messages WHERE room_id = ? ORDER BY seq', [asBuyer]);
    expect(senders.map((r) => r.sender_id)).toEqual(['new@example.com', 'seller7@example.com']);
    expect(await rows('SELECT id, name, email FROM users WHERE id IN (?) ORDER BY id', [['old@example.com', 'new@example.com']])).toEqual([
      { id: 'new@example.com', name: 'Olga', email: 'new@example.com' },
    ]);
    expect(changes).toBeGreaterThan(before);
  });

  it('merges a membership the new email already had instead of failing the update', async () => {
    // the same person chatting with themselves across their two accounts
    const room = await seedRoom('twin-old@example.com', 'twin-new@example.com');
    await seedUser('twin-new@example.com', 'Twin', 'twin-new@example.com');
    await database.pool.query('UPDATE room_members SET last_read_message_id = 9 WHERE room_id = ? AND user_id = ?', [
      room,
      'twin-old@example.com',
    ]);
    // …and a room that cannot move: the new id already has one with the same seller and product
    const product = `product-${randomUUID()}`;
    const stuck = await seedRoom('twin-old@example.com', 'seller9@example.com', product);
    const existing = await seedRoom('twin-new@example.com', 'seller9@example.com', product);
    await send(userUpdateTopic(env), 'twin-old@example.com', JSON.stringify({ oldEmail: 'twin-old@example.com', newEmail: 'twin-new@example.com' }));
    await waitFor(async () => (await membersOf(room)).length === 1, 'the two memberships are one');

    const [merged] = await rows('SELECT user_id, last_read_message_id FROM room_members WHERE room_id = ?', [room]);
    expect(merged).toMatchObject({ user_id: 'twin-new@example.com', last_read_message_id: 9 });
    // the room that would collide stays whole under the old id; the existing one is untouched
    expect(await membersOf(stuck)).toEqual(['seller9@example.com', 'twin-old@example.com']);
    expect(await membersOf(existing)).toEqual(['seller9@example.com', 'twin-new@example.com']);
    expect(events.status()).toBe('up');
  });

  it('changes only the email of a user with an opaque id', async () => {
    await seedUser('u-erin-3', 'Erin', 'erin-old@example.com');
    const room = await seedRoom('u-erin-3', 'seller10@example.com');
    await send(userUpdateTopic(env), 'erin-old@example.com', JSON.stringify({ oldEmail: 'erin-old@example.com', newEmail: 'erin-new@example.com' }));
    await waitFor(async () => (await rows('SELECT 1 FROM users WHERE email = ?', ['erin-new@example.com'])).length === 1, 'erin has her new email');
    expect(await membersOf(room)).toEqual(['seller10@example.com', 'u-erin-3']);
    expect(await rows('SELECT id, email FROM users WHERE id = ?', ['u-erin-3'])).toEqual([{ id: 'u-erin-3', email: 'erin-new@example.com' }]);
  });
});
