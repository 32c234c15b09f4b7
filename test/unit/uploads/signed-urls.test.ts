import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../../server/env.js';
import { UrlSigner } from '../../../server/uploads/signed-urls.js';

const secret = 's'.repeat(40);
const query = (url: string) => new URL(url, 'http://x').searchParams;

describe('signed image URLs', () => {
  it('opens the image it was made for until it expires, and nothing else', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const signer = new UrlSigner(secret, 3600, () => now);
    const url = signer.url('abcdefghijklmnopqrstuv', 'image');
    expect(url).toMatch(/^\/api\/uploads\/abcdefghijklmnopqrstuv\?exp=\d+&sig=[\w-]+$/);
    const q = query(url);
    expect(() => signer.verify('abcdefghijklmnopqrstuv', 'image', q.get('exp'), q.get('sig'))).not.toThrow();
    expect(() => signer.verify('abcdefghijklmnopqrstuv', 'thumb', q.get('exp'), q.get('sig'))).toThrow(/not valid/);
    expect(() => signer.verify('bbcdefghijklmnopqrstuv', 'image', q.get('exp'), q.get('sig'))).toThrow(/not valid/);
    expect(() => new UrlSigner('t'.repeat(40), 3600, () => now).verify('abcdefghijklmnopqrstuv', 'image', q.get('exp'), q.get('sig'))).toThrow(/not valid/);
    now += 2 * 3600 * 1000;
    expect(() => signer.verify('abcdefghijklmnopqrstuv', 'image', q.get('exp'), q.get('sig'))).toThrow(/expired/);
  });

  it('keeps one URL per image for a while so clients can cache it, valid at least one TTL', () => {
    const start = Date.UTC(2026, 0, 1, 12, 0, 5);
    const a = new UrlSigner(secret, 3600, () => start).url('abcdefghijklmnopqrstuv', 'thumb');
    const b = new UrlSigner(secret, 3600, () => start + 50 * 60_000).url('abcdefghijklmnopqrstuv', 'thumb');
    expect(b).toBe(a);
    const exp = Number(query(a).get('exp')) * 1000;
    expect(exp - (start + 50 * 60_000)).toBeGreaterThanOrEqual(3600_000);
    expect(exp - start).toBeLessThanOrEqual(2 * 3600_000);
  });
});

describe('upload configuration', () => {
  it('defaults to local disk with a 10 MB limit and refuses half an S3 configuration', () => {
    const env = loadEnv({ AUTH_SECRET: secret });
    expect(env.UPLOAD_DIR).toBe('var/uploads');
    expect(env.UPLOAD_MAX_BYTES).toBe(10 * 1024 * 1024);
    expect(env.S3_BUCKET).toBeUndefined();
    expect(() => loadEnv({ AUTH_SECRET: secret, S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(/S3_BUCKET: required/);
    expect(() => loadEnv({ AUTH_SECRET: secret, S3_BUCKET: 'photos', S3_ACCESS_KEY_ID: 'k' })).toThrow(/set both or neither/);
    expect(() => loadEnv({ AUTH_SECRET: secret, S3_BUCKET: 'Not_A_Bucket' })).toThrow(/S3_BUCKET: must be an S3 bucket name/);
  });
});
