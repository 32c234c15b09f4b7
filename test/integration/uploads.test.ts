/**
 * Photo uploads over plain HTTP against the real server, once with photos on local disk and
 * once in S3Proxy's bucket: what is accepted, what is refused (and that a refusal leaves no
 * object and no row behind), who may upload, and who may read through the signed URLs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import exifReader from 'exif-reader';
import { encode } from 'next-auth/jwt';
import mysql from 'mysql2/promise';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { UrlSigner } from '../../server/uploads/signed-urls.js';
import { databaseUrl, startTestServer, type TestServer } from '../helpers/server.js';
import { TEST_AUTH_SECRET } from '../helpers/services.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import {
  diskStore,
  heicLike,
  phonePhotoWithGps,
  photo,
  pngClaiming,
  s3Store,
  uploadPhoto,
  uploadPhotoChunked,
  type PhotoStore,
} from '../helpers/uploads.js';

const MAX_BYTES = 1024 * 1024;
const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

const backends: Array<[string, () => PhotoStore]> = [
  ['on local disk', () => diskStore(join(projectRoot(), 'var', 'test-uploads', inject('runId'), randomBytes(4).toString('hex')))],
  ['in an S3 bucket (S3Proxy)', () => s3Store(`reuse-chat-test-${inject('runId')}-${randomBytes(4).toString('hex')}`.toLowerCase())],
];

describe.each(backends)('photo uploads %s', (_label, makeStore) => {
  let srv: TestServer;
  let store: PhotoStore;
  let db: mysql.Connection;
  let roomId: string;
  const buyer = uid('buyer');
  const seller = uid('seller');
  const stranger = uid('stranger');
  let buyerToken: string;
  let sellerToken: string;

  beforeAll(async () => {
    store = makeStore();
    srv = await startTestServer({ env: { ...store.env, UPLOAD_MAX_BYTES: String(MAX_BYTES), UPLOAD_MAX_PIXELS: '20000000' } });
    db = await mysql.createConnection(databaseUrl(srv.dbName));
    buyerToken = await tokenFor(buyer);
    sellerToken = await tokenFor(seller);
    const opened = await trpcClient(srv.url, { token: buyerToken }).mutate('rooms.open', { productId: 'camera-1', sellerId: seller });
    roomId = opened.data.id;
  });
  afterAll(async () => {
    await db?.end();
    await srv?.stop();
    await store?.remove();
  });

  const rowCount = async () => {
    const [rows] = await db.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM uploads');
    return Number(rows[0]!.n);
  };

  /** a refused upload changes nothing: same objects, same rows */
  async function expectRefusedLeavingNothing(send: () => Promise<{ status: number; body: any }>, status: number, code: string) {
    const objectsBefore = await store.list();
    const rowsBefore = await rowCount();
    const reply = await send();
    expect(reply.status).toBe(status);
    expect(reply.body.error.code).toBe(code);
    expect(reply.body.error.message.length).toBeGreaterThan(10);
    expect(await store.list()).toEqual(objectsBefore);
    expect(await rowCount()).toBe(rowsBefore);
    return reply;
  }

  it('stores a JPEG phone photo without its EXIF GPS position, turned upright, with a thumbnail', async () => {
    const original = await phonePhotoWithGps(1200, 800);
    const exif = (await sharp(original).metadata()).exif;
    expect(exifReader(exif!).GPSInfo?.GPSLatitude).toBeDefined();

    const reply = await uploadPhoto(srv.url, roomId, original, { token: buyerToken, filename: 'IMG_0001.jpg' });
    expect(reply.status).toBe(201);
    expect(Object.keys(reply.body).sort()).toEqual(['bytes', 'contentType', 'height', 'id', 'thumbUrl', 'url', 'width']);
    // orientation 6 applied to the pixels: the landscape sensor image is shown portrait
    expect(reply.body).toMatchObject({ contentType: 'image/jpeg', width: 800, height: 1200 });

    const image = await fetch(srv.url + reply.body.url, { headers: { authorization: `Bearer ${sellerToken}` } });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    const stored = Buffer.from(await image.arrayBuffer());
    expect(stored.length).toBe(reply.body.bytes);
    const meta = await sharp(stored).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect([meta.width, meta.height]).toEqual([800, 1200]);
    expect(stored.includes(Buffer.from('ReusePhone'))).toBe(false);

    const thumb = await fetch(srv.url + reply.body.thumbUrl);
    expect(thumb.status).toBe(200);
    const thumbMeta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(Math.max(thumbMeta.width!, thumbMeta.height!)).toBe(320);
    expect(thumbMeta.height).toBeGreaterThan(thumbMeta.width!);
    expect(thumbMeta.exif).toBeUndefined();
  });

  it('decides the type from the bytes: a PNG named .jpg is stored as PNG, a WebP as WebP', async () => {
    const png = await photo(640, 480).png().toBuffer();
    const asPng = await uploadPhoto(srv.url, roomId, png, { token: sellerToken, filename: 'looks-like.jpg', type: 'image/jpeg' });
    expect(asPng.status).toBe(201);
    expect(asPng.body).toMatchObject({ contentType: 'image/png', width: 640, height: 480 });

    const webp = await photo(300, 200).webp().toBuffer();
    const asWebp = await uploadPhoto(srv.url, roomId, webp, { token: buyerToken, filename: 'x.bin', type: 'application/octet-stream' });
    expect(asWebp.status).toBe(201);
    expect(asWebp.body).toMatchObject({ contentType: 'image/webp', width: 300, height: 200 });
    const read = await fetch(srv.url + asWebp.body.url);
    expect(read.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await read.arrayBuffer())).metadata()).format).toBe('webp');
    // a thumbnail is never larger than the photo
    const thumb = await sharp(Buffer.from(await (await fetch(srv.url + asWebp.body.thumbUrl)).arrayBuffer())).metadata();
    expect([thumb.width, thumb.height]).toEqual([300, 200]);
  });

  it('refuses a file that is not an image, whatever its name says, and keeps nothing', async () => {
    const reply = await expectRefusedLeavingNothing(
      () => uploadPhoto(srv.url, roomId, Buffer.from('%PDF-1.4 this is a contract, not a photo\n'.repeat(50)), { token: buyerToken, filename: 'photo.jpg' }),
      415,
      'UNSUPPORTED_TYPE',
    );
    expect(reply.body.error.message).toMatch(/JPEG, PNG or WebP/);
  });

  it('refuses a truncated JPEG with a clear error and keeps nothing', async () => {
    const whole = await photo(800, 600).jpeg().toBuffer();
    const reply = await expectRefusedLeavingNothing(
      () => uploadPhoto(srv.url, roomId, whole.subarray(0, Math.floor(whole.length * 0.6)), { token: buyerToken }),
      400,
      'INVALID_IMAGE',
    );
    expect(reply.body.error.message).toMatch(/truncated or damaged/);
  });

  it('refuses a tiny PNG that declares 50000×50000 pixels before decoding it, and keeps nothing', async () => {
    const bomb = await pngClaiming(50_000, 50_000);
    expect(bomb.length).toBeLessThan(200);
    const reply = await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, roomId, bomb, { token: buyerToken, type: 'image/png' }), 413, 'TOO_MANY_PIXELS');
    expect(reply.body.error.message).toContain('50000×50000');
  });

  it('says plainly that a HEIC photo it cannot decode is not accepted, and keeps nothing', async () => {
    const reply = await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, roomId, heicLike(), { token: buyerToken, filename: 'IMG_1.HEIC' }), 415, 'UNSUPPORTED_TYPE');
    expect(reply.body.error.message).toMatch(/HEIC/);
  });

  it('refuses a photo over the size limit with 413, with or without Content-Length, and keeps nothing', async () => {
    const big = randomBytes(MAX_BYTES + 300 * 1024);
    const declared = await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, roomId, big, { token: buyerToken }), 413, 'TOO_LARGE');
    expect(declared.body.error.message).toMatch(/larger than 1 MB/);
    await expectRefusedLeavingNothing(() => uploadPhotoChunked(srv.url, roomId, big, buyerToken), 413, 'TOO_LARGE');
    // and the server still takes the next photo
    const ok = await uploadPhoto(srv.url, roomId, await photo(100, 100).jpeg().toBuffer(), { token: buyerToken });
    expect(ok.status).toBe(201);
  });

  it('lets only members of the room upload: strangers get 403, anonymous callers 401, and nothing is kept', async () => {
    const jpeg = await photo(200, 200).jpeg().toBuffer();
    await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, roomId, jpeg, { token: undefined }), 401, 'UNAUTHORIZED');
    await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, roomId, jpeg, { token: 'not-a-jwt' }), 401, 'UNAUTHORIZED');
    await expectRefusedLeavingNothing(async () => uploadPhoto(srv.url, roomId, jpeg, { token: await tokenFor(stranger) }), 403, 'FORBIDDEN');
    await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, 'no-such-room', jpeg, { token: buyerToken }), 403, 'FORBIDDEN');
    await expectRefusedLeavingNothing(() => uploadPhoto(srv.url, roomId, jpeg, { token: buyerToken, field: 'picture' }), 400, 'BAD_REQUEST');
  });

  it("accepts the web page's session cookie from the page's own origin, not from another site", async () => {
    const cookie = `next-auth.session-token=${await encode({ token: { sub: buyer, name: buyer }, secret: TEST_AUTH_SECRET })}`;
    const jpeg = await photo(200, 150).jpeg().toBuffer();
    const fromPage = await uploadPhoto(srv.url, roomId, jpeg, { headers: { cookie, origin: srv.url } });
    expect(fromPage.status).toBe(201);
    expect(fromPage.body).toMatchObject({ contentType: 'image/jpeg', width: 200, height: 150 });
    // a form on another site posting with the victim's cookie
    await expectRefusedLeavingNothing(
      () => uploadPhoto(srv.url, roomId, jpeg, { headers: { cookie, origin: 'https://evil.example' } }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('serves an image only through its signed URL: unsigned, tampered, swapped or expired links are refused', async () => {
    const up = await uploadPhoto(srv.url, roomId, await photo(400, 300).jpeg().toBuffer(), { token: buyerToken });
    expect(up.status).toBe(201);
    const { id, url, thumbUrl } = up.body as { id: string; url: string; thumbUrl: string };
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await fetch(srv.url + url)).status).toBe(200);

    const refused = async (path: string) => {
      const res = await fetch(srv.url + path);
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
    };
    const unsigned = await refused(`/api/uploads/${id}`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.error.message).toMatch(/not signed/);

    const sig = new URL(url, srv.url).searchParams.get('sig')!;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect((await refused(url.replace(sig, flipped))).status).toBe(403);
    // the thumbnail's signature does not open the full image
    const thumbQuery = thumbUrl.slice(thumbUrl.indexOf('?'));
    expect((await refused(`/api/uploads/${id}${thumbQuery}`)).status).toBe(403);
    // a longer expiry with the old signature
    const exp = new URL(url, srv.url).searchParams.get('exp')!;
    expect((await refused(url.replace(`exp=${exp}`, `exp=${Number(exp) + 86_400}`))).status).toBe(403);

    const signedLongAgo = new UrlSigner(TEST_AUTH_SECRET, 60, () => Date.now() - 3 * 3600_000).url(id, 'image');
    const expired = await refused(signedLongAgo);
    expect(expired.status).toBe(403);
    expect(expired.body.error.message).toMatch(/expired/);

    // a URL signed for an id that does not exist finds nothing
    const ghost = new UrlSigner(TEST_AUTH_SECRET, 3600).url(randomBytes(16).toString('base64url'), 'image');
    expect((await refused(ghost)).status).toBe(404);
  });

  it('answers every one of a dozen photos sent at the same moment', async () => {
    const jpeg = await photo(320, 240).jpeg().toBuffer();
    const replies = await Promise.all(Array.from({ length: 12 }, () => uploadPhoto(srv.url, roomId, jpeg, { token: sellerToken })));
    expect(replies.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(12);
  });

  it('stores exactly two objects and one row per accepted photo', async () => {
    const objectsBefore = (await store.list()).length;
    const rowsBefore = await rowCount();
    const up = await uploadPhoto(srv.url, roomId, await photo(500, 500).png().toBuffer(), { token: sellerToken, type: 'image/png' });
    expect(up.status).toBe(201);
    expect((await store.list()).length).toBe(objectsBefore + 2);
    expect(await rowCount()).toBe(rowsBefore + 1);
    const [rows] = await db.query<mysql.RowDataPacket[]>('SELECT room_id, uploader_id, content_type, message_id FROM uploads WHERE id = ?', [up.body.id]);
    expect(rows[0]).toMatchObject({ room_id: roomId, uploader_id: seller, content_type: 'image/png', message_id: null });
  });
});
