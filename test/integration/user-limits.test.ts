/**
 * Per-user limits across connections and instances: concurrent connections (STOMP and
 * Socket.IO together, counted in Redis by every instance), messages per second across all of a
 * user's connections, and rooms created per hour.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import pino from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { UserLimits } from '../../server/chat/user-limits.js';
import { RedisPresence } from '../../server/presence/redis-presence.js';
import { ChatError } from '../../server/shared/errors.js';
import { openRoom } from '../helpers/rooms.js';
import { databaseUrl, dropDatabase, startTestServer, uniqueName, type TestServer } from '../helpers/server.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { REDIS_URL } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const servers: TestServer[] = [];
const stomps: StompUser[] = [];
const sockets: Socket[] = [];
const databases: string[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await Promise.all(stomps.splice(0).map((s) => s.disconnect().catch(() => undefined)));
  for (const s of servers.splice(0)) await s.stop();
  for (const d of databases.splice(0)) await dropDatabase(d);
});

async function server(env: Record<string, string>, dbName?: string): Promise<TestServer> {
  const srv = await startTestServer({ env, ...(dbName ? { dbName } : {}) });
  servers.push(srv);
  return srv;
}

async function stomp(srv: TestServer, userId: string): Promise<StompUser> {
  const s = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(userId)}` });
  stomps.push(s);
  return s;
}

/** a Socket.IO connection; resolves once connected, rejects with the server's connect_error */
async function socketIo(srv: TestServer, userId: string): Promise<Socket> {
  const socket = ioClient(`${srv.url}/chat`, { auth: { token: await tokenFor(userId) }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function refusals(srv: TestServer, limit: string): Promise<number> {
  return (await srv.service.metrics.limitRefusals.get()).values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

async function query<T>(dbName: string, sql: string, params: unknown[]): Promise<T[]> {
  const conn = await mysql.createConnection(databaseUrl(dbName));
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(sql, params);
    return rows as T[];
  } finally {
    await conn.end();
  }
}

describe('connections per user', () => {
  it('refuses the 21st connection of a user on a second instance, over STOMP and Socket.IO, until one closes', async () => {
    const dbName = uniqueName('userconn');
    databases.push(dbName);
    const shared = { REDIS_KEY_PREFIX: `test:${inject('runId')}:${randomBytes(3).toString('hex')}:`, USER_MAX_CONNECTIONS: '20' };
    const a = await server({ ...shared, INSTANCE_ID: 'a' }, dbName);
    const b = await server({ ...shared, INSTANCE_ID: 'b' }, dbName);
    const userId = `many-${randomUUID()}`;

    const onA: StompUser[] = [];
    for (let i = 0; i < 10; i++) onA.push(await stomp(a, userId));
    for (let i = 0; i < 5; i++) await socketIo(a, userId);
    for (let i = 0; i < 5; i++) await stomp(b, userId);

    // 20 open on two instances: the 21st is refused on either transport, naming the limit
    await expect(stomp(b, userId)).rejects.toThrow(/ERROR too many connections for this user/);
    await expect(socketIo(b, userId)).rejects.toThrow(/too many connections: a user may keep at most 20/);
    expect(await refusals(b, 'user_connections')).toBe(2);

    // another user is not affected
    await stomp(b, `other-${randomUUID()}`);

    // closing one connection on A frees a slot for B
    await onA[0]!.disconnect();
    await waitFor(async () => (await b.service.presence.sessionCount(userId)) === 19, 'the closed session to be gone', 10_000);
    const again = await stomp(b, userId);
    expect(again.client.connected).toBe(true);
  }, 60_000);
});

describe('messages per user', () => {
  it('limits a user across 5 connections to one budget: more is refused than any single connection would, and refused sends are not stored', async () => {
    // each connection alone may send 40 at once; the user together only 10 (+5 per second)
    const srv = await server({ USER_SEND_RATE_PER_SECOND: '5', USER_SEND_BURST: '10', SEND_RATE_PER_SECOND: '20', SEND_BURST: '40' });
    const { roomId, buyer } = await openRoom(srv.url);
    const conns: StompUser[] = [];
    for (let i = 0; i < 5; i++) conns.push(await stomp(srv, buyer));
    const errors = conns[0]!.subscribe('/user/queue/errors');
    await errors.live();

    const receipts = new Set<string>();
    const started = performance.now();
    conns.forEach((c, n) => {
      for (let i = 0; i < 20; i++) {
        const receipt = `u-${n}-${i}`;
        c.client.watchForReceipt(receipt, () => receipts.add(receipt));
        c.client.publish({ destination: `/pub/room/${roomId}/message`, headers: { receipt }, body: JSON.stringify({ content: `m ${n}/${i}` }) });
      }
    });
    // every SEND is answered exactly once: its RECEIPT or an error event
    await waitFor(() => receipts.size + errors.items.length >= 100, 'an answer to every send', 30_000);
    const seconds = (performance.now() - started) / 1000;

    const limited = errors.items.filter((e) => e.body.code === 'TOO_MANY_REQUESTS');
    expect(receipts.size + limited.length).toBe(100);
    // the 5 connection buckets would have let all 100 through; the user's budget lets ~10 + 5/s
    expect(receipts.size).toBeLessThanOrEqual(Math.floor(10 + 5 * seconds) + 1);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.body.message).toMatch(/per user across all connections/);
    const stored = await query<{ n: number }>(srv.dbName, 'SELECT COUNT(*) AS n FROM messages WHERE room_id = ?', [roomId]);
    expect(Number(stored[0]!.n)).toBe(receipts.size);
    expect(conns.every((c) => c.client.connected)).toBe(true);
    expect(await refusals(srv, 'user_send_rate')).toBe(limited.length);
  }, 60_000);
});

describe('the per-user send limit across instances', () => {
  it('refuses a user on an instance whose own bucket still has room once the instances together sent more than one bucket allows', async () => {
    const prefix = `test:${inject('runId')}:${randomBytes(3).toString('hex')}:`;
    const logger = pino({ level: 'silent' });
    const settings = { maxConnections: 20, sendRatePerSecond: 1, sendBurst: 20, roomsPerHour: 30 };
    // one pinned clock: both instances count in the same shared window
    const now = () => 1_700_000_000_000;
    const instances = ['a', 'b'].map((instanceId) => {
      const presence = new RedisPresence({ url: REDIS_URL, keyPrefix: prefix, instanceId, ttlSeconds: 60 }, logger);
      return { presence, limits: new UserLimits({ settings, presence, redis: presence.redis, logger, now }) };
    });
    try {
      await waitFor(() => instances.every((i) => i.presence.status() === 'up'), 'redis');
      const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
      const sends = (limits: UserLimits, n: number) => {
        let accepted = 0;
        for (let i = 0; i < n; i++) {
          try {
            limits.takeSend('spammer');
            accepted++;
          } catch (err) {
            expect(err).toBeInstanceOf(ChatError);
          }
        }
        return accepted;
      };
      // a sends its whole burst, b nearly all of its own: 35 together, over the shared
      // allowance of one bucket in the window (20 + 1/s × 10 s = 30)
      expect(sends(a.limits, 20)).toBe(20);
      await a.limits.syncSendCounts();
      expect(sends(b.limits, 15)).toBe(15);
      await b.limits.syncSendCounts();
      // b's own bucket still holds ~5, yet b refuses: the user is over the shared count
      expect(sends(b.limits, 5)).toBe(0);
      // another user on b is not affected
      expect(() => b.limits.takeSend('someone-else')).not.toThrow();
    } finally {
      for (const i of instances) {
        i.limits.close();
        await i.presence.close();
      }
    }
  });
});

describe('rooms per user', () => {
  it("refuses new rooms over the hourly cap with TOO_MANY_REQUESTS, while the caller's existing rooms still open", async () => {
    const srv = await server({ USER_ROOMS_PER_HOUR: '3' });
    const buyer = `buyer-${randomUUID()}`;
    const trpc = trpcClient(srv.url, { token: await tokenFor(buyer) });
    const sellers = [0, 1, 2, 3].map(() => `unknown-seller-${randomUUID()}`);
    for (const s of sellers.slice(0, 3)) expect((await trpc.mutate('rooms.open', { productId: 'bike-1', sellerId: s })).status).toBe(200);

    const refused = await trpc.mutate('rooms.open', { productId: 'bike-1', sellerId: sellers[3] });
    expect(refused.status).toBe(429);
    expect(refused.error?.data.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.error?.message).toMatch(/at most 3 per hour/);

    // reopening a room the caller already has is not a new room
    const reopened = await trpc.mutate('rooms.open', { productId: 'bike-1', sellerId: sellers[0] });
    expect(reopened.status).toBe(200);

    const rooms = await query<{ seller_id: string }>(srv.dbName, 'SELECT seller_id FROM rooms WHERE buyer_id = ?', [buyer]);
    expect(rooms.map((r) => r.seller_id).sort()).toEqual(sellers.slice(0, 3).sort());
    // a seller never seen before gets a placeholder row named by its id, and the refused one none
    const users = await query<{ id: string; name: string }>(srv.dbName, 'SELECT id, name FROM users WHERE id IN (?)', [sellers]);
    expect(users.map((u) => u.id).sort()).toEqual(sellers.slice(0, 3).sort());
    expect(users.every((u) => u.name === u.id)).toBe(true);
    expect(await refusals(srv, 'rooms_per_hour')).toBe(1);
  }, 30_000);
});
