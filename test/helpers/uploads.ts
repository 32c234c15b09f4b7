/**
 * Photo-upload helpers: test images made with sharp (including the bad kinds), a plain
 * multipart POST as any HTTP client would send it, and a look into where the service stores
 * photos (a folder, or an S3 bucket) so a test can tell that nothing was left behind.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import sharp, { type Sharp } from 'sharp';
import { S3_ACCESS_KEY_ID, S3_ENDPOINT, S3_SECRET_ACCESS_KEY } from './services.js';

export interface UploadReply {
  status: number;
  body: any;
}

/** POST /api/uploads?roomId=… with one multipart field `file`, through fetch (Content-Length known) */
export async function uploadPhoto(
  baseUrl: string,
  roomId: string,
  data: Buffer,
  opts: { token?: string; filename?: string; type?: string; field?: string; headers?: Record<string, string> } = {},
): Promise<UploadReply> {
  const form = new FormData();
  form.append(opts.field ?? 'file', new Blob([new Uint8Array(data)], { type: opts.type ?? 'image/jpeg' }), opts.filename ?? 'photo.jpg');
  const res = await fetch(`${baseUrl}/api/uploads?roomId=${encodeURIComponent(roomId)}`, {
    method: 'POST',
    body: form,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
  });
  return { status: res.status, body: await res.json() };
}

/** the same upload sent chunked, without Content-Length, so only the streaming limit can stop it */
export function uploadPhotoChunked(baseUrl: string, roomId: string, data: Buffer, token: string): Promise<UploadReply> {
  const boundary = `----reuse${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}/api/uploads?roomId=${encodeURIComponent(roomId)}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    // the server may close once it has answered; the answer is what the test looks at
    req.on('error', () => undefined);
    req.write(head);
    for (let i = 0; i < data.length; i += 64 * 1024) req.write(data.subarray(i, i + 64 * 1024));
    req.end(tail);
  });
}

/** a photo with some structure (so JPEG does not compress it to nothing) */
export function photo(width: number, height: number): Sharp {
  const noise = randomBytes(Math.ceil(width / 8) * Math.ceil(height / 8) * 3);
  return sharp(noise, { raw: { width: Math.ceil(width / 8), height: Math.ceil(height / 8), channels: 3 } }).resize(width, height, {
    kernel: 'cubic',
  });
}

/** a phone photo: EXIF with a GPS position and orientation 6 (to be shown turned 90° clockwise) */
export async function phonePhotoWithGps(width: number, height: number): Promise<Buffer> {
  return photo(width, height)
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'ReusePhone', Model: 'Seller Cam' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '37/1 33/1 3/1', GPSLongitudeRef: 'E', GPSLongitude: '126/1 58/1 40/1' },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** a valid 1×1 PNG whose header then claims width × height (a decompression bomb's shape) */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer());
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC follows at 29
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** the start of an HEIC file (ISO-BMFF `ftyp` box with brand heic) followed by junk */
export function heicLike(): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypheic', 4, 'latin1');
  ftyp.writeUInt32BE(0, 12);
  ftyp.write('mif1heic', 16, 'latin1');
  return Buffer.concat([ftyp, randomBytes(2048)]);
}

/** where a test server keeps photos, and how to look inside */
export interface PhotoStore {
  kind: 'disk' | 's3';
  env: Record<string, string>;
  /** every stored object key */
  list(): Promise<string[]>;
  remove(): Promise<void>;
}

export function diskStore(dir: string): PhotoStore {
  return {
    kind: 'disk',
    env: { UPLOAD_DIR: dir },
    async list() {
      try {
        const entries = await readdir(dir, { recursive: true, withFileTypes: true });
        return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export function s3Store(bucket: string): PhotoStore {
  const client = new S3Client({
    endpoint: S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
  });
  const list = async () => {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (out.Contents ?? []).map((o) => o.Key!);
  };
  return {
    kind: 's3',
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT,
      S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY,
    },
    list,
    async remove() {
      try {
        const keys = await list();
        // one by one: DeleteObjects needs a checksum header S3Proxy does not implement
        for (const Key of keys) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
  };
}
