/**
 * Where photo bytes live, behind one interface: local disk by default (UPLOAD_DIR, nothing to
 * configure), any S3-compatible store when S3_BUCKET is set (see s3-storage.ts). Keys are
 * produced by the upload service (`<roomId>/<uploadId>…`), never taken from a client.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import { projectRoot } from '../paths.js';

export interface StoredObject {
  body: Readable;
  bytes: number;
}

export interface UploadStorage {
  /** a short description for logs: `disk:/path` or `s3://bucket` */
  readonly name: string;
  /** stores the bytes under key; visible to get() only once complete */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** the stored bytes as a stream, or null when there is no such key */
  get(key: string): Promise<StoredObject | null>;
  /** removes the key; a missing key is not an error */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** keys are ours, but a path must never leave the upload folder whatever they hold */
const SAFE_KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
}

/** Files under one folder; a write goes to a temporary name first and is renamed when complete. */
export class DiskStorage implements UploadStorage {
  readonly name: string;

  constructor(private readonly dir: string) {
    this.name = `disk:${dir}`;
  }

  private path(key: string): string {
    assertSafeKey(key);
    const p = join(this.dir, ...key.split('/'));
    if (!p.startsWith(this.dir + sep)) throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
    return p;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.partial`;
    try {
      await writeFile(tmp, body);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    const file = this.path(key);
    try {
      const s = await stat(file);
      return { body: createReadStream(file), bytes: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.path(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async close(): Promise<void> {}
}

export function uploadDir(env: Pick<Env, 'UPLOAD_DIR'>): string {
  return isAbsolute(env.UPLOAD_DIR) ? env.UPLOAD_DIR : resolve(projectRoot(), env.UPLOAD_DIR);
}

/** S3 when S3_BUCKET is set (the SDK is loaded only then), local disk otherwise. */
export async function createUploadStorage(env: Env, logger: Logger): Promise<UploadStorage> {
  if (env.S3_BUCKET) {
    const { S3Storage } = await import('./s3-storage.js');
    const storage = await S3Storage.open({
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE ?? Boolean(env.S3_ENDPOINT),
      credentials:
        env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
          : undefined,
    });
    logger.info({ storage: storage.name }, 'photos are stored in S3');
    return storage;
  }
  const dir = uploadDir(env);
  await mkdir(dir, { recursive: true });
  logger.info({ storage: `disk:${dir}` }, 'photos are stored on local disk (set S3_BUCKET for S3)');
  return new DiskStorage(dir);
}
