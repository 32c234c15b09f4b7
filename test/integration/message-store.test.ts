/**
 * The message store on its own, against a per-run MariaDB database: group commit, the repeated
 * clientMsgId, an unknown room, and a batch that waits on a locked room row until MariaDB gives
 * up, then is written again.
 */
import { randomUUID } from 'node:crypto';
import mysql, { type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageStore } from '../../server/chat/message-store.js';
import { openDatabase, type Database } from '../../server/db/client.js';
import { ChatError } from '../../server/shared/errors.js';
import { databaseUrl, dropDatabase, uniqueName } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const dbName = uniqueName('store');
let database: Database;
/** the store's own pool, as the service builds it, with a short lock wait so the test is quick */
let storePool: Pool;
const warnings: string[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(String(JSON.parse(line).msg)) });

beforeAll(async () => {
  database = await openDatabase({ url: databaseUrl(dbName), poolSize: 4, logger: pino({ level: 'silent' }) });
  const u = new URL(databaseUrl(dbName));
  storePool = mysql.createPool({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    database: dbName,
    connectionLimit: 2,
    multipleStatements: true,
    timezone: 'Z',
  });
  storePool.on('connection', (conn) => {
    // every store connection gives up on a locked row after one second
    void (conn as unknown as { query(sql: string): unknown }).query('SET SESSION innodb_lock_wait_timeout = 1');
  });
}, 60_000);

afterAll(async () => {
  await storePool?.end();
  await database?.close();
  await dropDatabase(dbName);
});

async function newRoom(): Promise<string> {
  const id = randomUUID();
  await database.pool.query('INSERT INTO rooms (id, product_id, buyer_id, seller_id) VALUES (?, ?, ?, ?)', [id, `p-${id}`, 'buyer', 'seller']);
  return id;
}

async function storedRows(roomId: string): Promise<RowDataPacket[]> {
  const [rows] = await database.pool.query<RowDataPacket[]>('SELECT id, seq, content FROM messages WHERE room_id = ? ORDER BY seq', [roomId]);
  return rows;
}

describe('MessageStore', () => {
  it('writes messages sent in one tick as one batch, with consecutive seq per room and the room row moved on', async () => {
    const store = new MessageStore(storePool, logger);
    const roomId = await newRoom();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.append({ roomId, senderId: 'buyer', content: `m${i}`, clientMsgId: null })),
    );
    expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const rows = await storedRows(roomId);
    expect(rows.map((r) => r.content)).toEqual(results.map((r) => r.message.content));
    expect(rows.map((r) => Number(r.id))).toEqual(results.map((r) => r.message.id));
    const [room] = await database.pool.query<RowDataPacket[]>('SELECT last_seq, last_message_id FROM rooms WHERE id = ?', [roomId]);
    expect(room[0]).toMatchObject({ last_seq: 50, last_message_id: results[49]!.message.id });
  });

  it('writes one batch across several rooms with each room numbered on from where it stood', async () => {
    const store = new MessageStore(storePool, logger);
    const [first, second] = [await newRoom(), await newRoom()];
    await store.append({ roomId: second, senderId: 'seller', content: 'earlier', clientMsgId: null });
    const rooms = [first, second, second, first, second];
    const results = await Promise.all(
      rooms.map((roomId, i) => store.append({ roomId, senderId: 'buyer', content: `m${i}`, clientMsgId: randomUUID() })),
    );
    expect(results.map((r) => [r.message.roomId, r.message.seq])).toEqual([
      [first, 1],
      [second, 2],
      [second, 3],
      [first, 2],
      [second, 4],
    ]);
    for (const roomId of [first, second]) {
      const rows = await storedRows(roomId);
      const mine = results.filter((r) => r.message.roomId === roomId).map((r) => r.message);
      expect(rows.slice(-mine.length).map((r) => [Number(r.id), Number(r.seq), r.content])).toEqual(mine.map((m) => [m.id, m.seq, m.content]));
      const [room] = await database.pool.query<RowDataPacket[]>('SELECT last_seq, last_message_id FROM rooms WHERE id = ?', [roomId]);
      expect(room[0]).toMatchObject({ last_seq: mine.at(-1)!.seq, last_message_id: mine.at(-1)!.id });
    }
  });

  it('answers a repeated clientMsgId with the stored message, in the same batch and in a later one', async () => {
    const store = new MessageStore(storePool, logger);
    const roomId = await newRoom();
    const clientMsgId = randomUUID();
    const [a, b] = await Promise.all([
      store.append({ roomId, senderId: 'buyer', content: 'once', clientMsgId }),
      store.append({ roomId, senderId: 'buyer', content: 'once', clientMsgId }),
    ]);
    const later = await store.append({ roomId, senderId: 'buyer', content: 'once', clientMsgId });
    expect([a!.duplicate, b!.duplicate, later.duplicate]).toEqual([false, true, true]);
    expect(b!.message.id).toBe(a!.message.id);
    expect(later.message.id).toBe(a!.message.id);
    expect((await storedRows(roomId)).map((r) => r.content)).toEqual(['once']);
  });

  it('refuses a message to a room that does not exist, without failing the others of its batch', async () => {
    const store = new MessageStore(storePool, logger);
    const roomId = await newRoom();
    const [ok, missing] = await Promise.allSettled([
      store.append({ roomId, senderId: 'buyer', content: 'here', clientMsgId: null }),
      store.append({ roomId: randomUUID(), senderId: 'buyer', content: 'nowhere', clientMsgId: null }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(missing.status === 'rejected' && missing.reason instanceof ChatError && missing.reason.code).toBe('NOT_FOUND');
    expect((await storedRows(roomId)).map((r) => r.content)).toEqual(['here']);
  });

  it('writes a batch again after waiting too long on a room row another transaction holds, and stores it once', async () => {
    const store = new MessageStore(storePool, logger);
    const roomId = await newRoom();
    const blocker: PoolConnection = await database.pool.getConnection();
    try {
      await blocker.beginTransaction();
      await blocker.query('SELECT id FROM rooms WHERE id = ? FOR UPDATE', [roomId]);
      const before = warnings.filter((w) => w === 'message batch retried').length;
      const appended = store.append({ roomId, senderId: 'buyer', content: 'patient', clientMsgId: randomUUID() });
      // MariaDB gives up on the lock after a second; the store says so and tries again
      await waitFor(() => warnings.filter((w) => w === 'message batch retried').length > before, 'the store to retry the batch');
      await blocker.commit();
      const result = await appended;
      expect(result).toMatchObject({ duplicate: false, message: { seq: 1, content: 'patient' } });
    } finally {
      blocker.release();
    }
    expect((await storedRows(roomId)).map((r) => r.content)).toEqual(['patient']);
  });

  it('resolves idle() once everything queued is committed', async () => {
    const store = new MessageStore(storePool, logger);
    const roomId = await newRoom();
    const pending = Array.from({ length: 5 }, (_, i) => store.append({ roomId, senderId: 'seller', content: `s${i}`, clientMsgId: null }));
    await store.idle();
    expect((await storedRows(roomId)).map((r) => r.content)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    await Promise.all(pending);
  });
});
