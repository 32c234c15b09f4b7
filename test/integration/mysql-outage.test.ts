/**
 * A calm MySQL outage: the service runs on a MariaDB of the test's own, which is killed and
 * started again. Meanwhile connections stay open, SENDs are refused with UNAVAILABLE (no
 * receipt, nothing stored), members can still subscribe to rooms they are known in, new users
 * can connect, tRPC answers 503 with Retry-After, the log stays short; afterwards everything
 * works again without restarting the service.
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';
import { openRoom, type TestRoom } from '../helpers/rooms.js';
import { startChildServer, testEnvVars, type ChildServer } from '../helpers/server.js';
import { connectStomp, type Collector, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

let mariadb: PrivateMariadb;
let srv: ChildServer;
const stomps: StompUser[] = [];

beforeAll(async () => {
  mariadb = await startPrivateMariadb();
  // a member list is trusted for 1 ms only, so every SEND during the outage needs MySQL for it
  srv = await startChildServer(
    testEnvVars('chat', { DATABASE_URL: mariadb.url('chat'), LOG_LEVEL: 'info', ROOM_ACCESS_TTL_MS: '1' }),
    { timeoutMs: 60_000 },
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(stomps.map((s) => s.disconnect().catch(() => undefined)));
  await srv?.stop();
  await mariadb?.destroy();
});

async function stomp(userId: string): Promise<StompUser> {
  const s = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(userId)}` });
  stomps.push(s);
  return s;
}

/** one SEND with a receipt: 'stored' on its RECEIPT, or the code of its error event */
async function attempt(user: StompUser, errors: Collector, roomId: string, body: object): Promise<string> {
  const receipt = `r-${randomUUID()}`;
  const receipted = new Promise<string>((resolve) => user.client.watchForReceipt(receipt, () => resolve('stored')));
  user.client.publish({ destination: `/pub/room/${roomId}/message`, headers: { receipt }, body: JSON.stringify(body) });
  const refused = waitFor(() => errors.items.find((e) => e.body.receipt === receipt), `an answer to ${receipt}`, 20_000).then((e) => String(e.body.code));
  return Promise.race([receipted, refused]);
}

async function storedContents(roomId: string): Promise<string[]> {
  const conn = await mysql.createConnection(mariadb.url('chat'));
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT content FROM messages WHERE room_id = ? ORDER BY id', [roomId]);
    return rows.map((r) => String(r.content));
  } finally {
    await conn.end();
  }
}

describe('MySQL outage', () => {
  let room: TestRoom;

  it('keeps connections open, refuses sends with UNAVAILABLE, serves known rooms and new users, answers tRPC with 503, and recovers on its own', async () => {
    room = await openRoom(srv.url);
    const buyer = await stomp(room.buyer);
    const errors = buyer.subscribe('/user/queue/errors');
    const buyerRoom = buyer.subscribe(`/sub/chat/room/${room.roomId}`);
    await Promise.all([errors.live(), buyerRoom.live()]);
    expect(await attempt(buyer, errors, room.roomId, { content: 'before' })).toBe('stored');

    await mariadb.kill();
    const logFrom = srv.output().length;

    // sends: refused as UNAVAILABLE, many of them, on a connection that stays open
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await attempt(buyer, errors, room.roomId, { content: `during ${i}` }));
    expect(answers.every((a) => a === 'UNAVAILABLE')).toBe(true);
    expect(buyer.client.connected).toBe(true);

    // the seller, a member this instance knows, connects and subscribes to the room
    const seller = await stomp(room.seller);
    const sellerRoom = seller.subscribe(`/sub/chat/room/${room.roomId}`);
    await sellerRoom.live();
    // a user never seen before connects on a valid token alone
    const newcomer = `newcomer-${randomUUID()}`;
    const fresh = await stomp(newcomer);
    expect(fresh.client.connected).toBe(true);

    // tRPC: 503 with Retry-After, not 500
    const res = await fetch(`${srv.url}/api/trpc/rooms.list?input=%7B%7D`, { headers: { authorization: `Bearer ${await tokenFor(room.buyer)}` } });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe('SERVICE_UNAVAILABLE');

    // the log: one line for the outage, not one per refused request
    const outageLog = srv.output().slice(logFrom).split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    expect(outageLog.filter((l) => l.includes('MYSQL IS UNAVAILABLE'))).toHaveLength(1);
    expect(outageLog.length).toBeLessThanOrEqual(5);

    await mariadb.start();
    const recoveredAt = Date.now();
    // the same clientMsgId on every try: however many tries it takes, it is stored once
    await waitFor(async () => (await attempt(buyer, errors, room.roomId, { content: 'after', clientMsgId: 'after-1' })) === 'stored', 'a send to succeed again', 60_000);
    console.log(`sends succeed again ${Date.now() - recoveredAt} ms after MariaDB answers`);
    // the subscription made during the outage delivers
    await waitFor(() => sellerRoom.items.some((m) => m.body.content === 'after'), 'the seller to receive the message', 20_000);
    expect(await storedContents(room.roomId)).toEqual(['before', 'after']);
    await waitFor(() => srv.output().slice(logFrom).includes('mysql is back'), 'the log line saying MySQL is back', 20_000);
    // the user met during the outage is recorded once MySQL is back
    await waitFor(async () => {
      const conn = await mysql.createConnection(mariadb.url('chat'));
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT id FROM users WHERE id = ?', [newcomer]);
        return rows.length === 1;
      } finally {
        await conn.end();
      }
    }, 'the newcomer to be recorded', 20_000);
    const list = await fetch(`${srv.url}/api/trpc/rooms.list?input=%7B%7D`, { headers: { authorization: `Bearer ${await tokenFor(room.buyer)}` } });
    expect(list.status).toBe(200);
  }, 180_000);
});
