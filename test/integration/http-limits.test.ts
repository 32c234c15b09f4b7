/**
 * Bounded HTTP requests: a body over HTTP_MAX_BODY_BYTES is refused with 413 before it is
 * read (the server's memory does not follow the body), and a tRPC batch holds at most
 * TRPC_MAX_BATCH calls, refused as a whole before any of them runs.
 */
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { postLargeBody } from '../helpers/http-raw.js';
import { databaseUrl, dropDatabase, startChildServer, startTestServer, testEnvVars, uniqueName, type ChildServer, type TestServer } from '../helpers/server.js';
import { tokenFor } from '../helpers/tokens.js';
import { uploadPhoto, uploadPhotoChunked } from '../helpers/uploads.js';

const MB = 1024 * 1024;
const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

/** resident memory of a process, in bytes */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

describe('request bodies over the limit', () => {
  let child: ChildServer;
  let dbName: string;

  beforeAll(async () => {
    dbName = uniqueName('bodies');
    child = await startChildServer(testEnvVars(dbName));
  }, 60_000);
  afterAll(async () => {
    await child?.stop();
    if (dbName) await dropDatabase(dbName);
  });

  it('answers 413 to a declared Content-Length over the limit without waiting for a byte of it', async () => {
    const answer = await postLargeBody(child.url, '/api/trpc/inquiries.create', 256 * MB, { declare: true });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: `request body too large: at most ${MB} bytes` });
  });

  it('cuts a streamed 256 MB body off at the limit, and the server does not grow by it', async () => {
    // an anonymous caller, on a procedure that reads its input (as the reported attack did);
    // warm up that path first, so the baseline includes its code
    const path = '/api/trpc/inquiries.create';
    await postLargeBody(child.url, path, 2 * MB);
    await fetch(`${child.url}${path}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const before = rssOf(child.proc.pid!);

    const alone = await postLargeBody(child.url, path, 256 * MB);
    expect(alone.status).toBe(413);
    // the server stopped reading long before the end of the body
    expect(alone.sent).toBeLessThan(64 * MB);

    // three at once do not add up either
    const together = await Promise.all([1, 2, 3].map(() => postLargeBody(child.url, path, 128 * MB)));
    expect(together.map((a) => a.status)).toEqual([413, 413, 413]);

    const grown = rssOf(child.proc.pid!) - before;
    expect(grown).toBeLessThan(50 * MB);
    // and it still answers at once
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
  });

  it('still takes bodies under the limit', async () => {
    const token = await tokenFor(uid('buyer'));
    const padded = `{"productId":"p-1","sellerId":"${uid('seller')}"${' '.repeat(MB - 200)}}`;
    const res = await fetch(`${child.url}/api/trpc/rooms.open`, {
      method: 'POST',
      body: padded,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
  });
});

describe('tRPC batches', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  async function batchOpen(buyer: string, calls: number) {
    const token = await tokenFor(buyer);
    const paths = Array.from({ length: calls }, () => 'rooms.open').join(',');
    const input = Object.fromEntries(Array.from({ length: calls }, (_, i) => [String(i), { productId: `p-${i}`, sellerId: `seller-of-${buyer}` }]));
    const res = await fetch(`${srv.url}/api/trpc/${paths}?batch=1`, {
      method: 'POST',
      body: JSON.stringify(input),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  async function roomsOf(buyer: string): Promise<number> {
    const conn = await mysql.createConnection(databaseUrl(srv.dbName));
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM rooms WHERE buyer_id = ?', [buyer]);
      return Number(rows[0]?.n);
    } finally {
      await conn.end();
    }
  }

  it('refuses a batch of 21 calls with a clear error and opens no room', async () => {
    const buyer = uid('batcher');
    const refused = await batchOpen(buyer, 21);
    expect(refused.status).toBe(400);
    expect(refused.body.error.data.code).toBe('BAD_REQUEST');
    expect(refused.body.error.message).toBe('a batch holds at most 20 calls (this one has 21); nothing was run');
    expect(await roomsOf(buyer)).toBe(0);
  });

  it('runs a batch of 20 calls', async () => {
    const buyer = uid('batcher');
    const done = await batchOpen(buyer, 20);
    expect(done.status).toBe(200);
    expect(done.body).toHaveLength(20);
    expect(await roomsOf(buyer)).toBe(20);
  });
});

describe('photo uploads', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { HTTP_MAX_BODY_BYTES: String(MB), UPLOAD_MAX_BYTES: String(8 * MB) } });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('are taken above the general body limit, up to their own', async () => {
    const buyer = uid('buyer');
    const room = await srv.service.chat.openRoom({ id: buyer, name: buyer, role: 'user' }, uid('seller'), 'p-photo');
    // pure noise does not compress: a PNG of about 3 MB
    const big = await sharp(randomBytes(1000 * 1000 * 3), { raw: { width: 1000, height: 1000, channels: 3 } }).png().toBuffer();
    expect(big.length).toBeGreaterThan(2 * MB);
    const token = await tokenFor(buyer);

    const declared = await uploadPhoto(srv.url, room.id, big, { token, type: 'image/png', filename: 'noise.png' });
    expect(declared.status).toBe(201);
    expect(declared.body.contentType).toBe('image/png');
    expect((await uploadPhotoChunked(srv.url, room.id, big, token)).status).toBe(201);
  });
});
