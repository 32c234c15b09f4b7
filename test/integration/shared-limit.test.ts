/**
 * The limit shared through Redis (inquiries per author per hour): two instances count one
 * window together; with Redis unreachable each counts on its own instead of refusing everyone.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SharedWindowLimiter } from '../../server/shared/shared-limiter.js';
import { REDIS_URL } from '../helpers/services.js';

const prefix = `test:${inject('runId')}:${randomBytes(3).toString('hex')}:`;
const logger = pino({ level: 'silent' });
const clients: Redis[] = [];

async function redisClient(url = REDIS_URL): Promise<Redis> {
  const r = new Redis(url, { keyPrefix: prefix, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500, retryStrategy: () => null });
  r.on('error', () => undefined);
  clients.push(r);
  await new Promise<void>((resolve) => {
    if (r.status === 'ready') return resolve();
    r.once('ready', () => resolve());
    r.once('end', () => resolve());
  });
  return r;
}

afterAll(async () => {
  for (const r of clients) r.disconnect();
});

async function takeMany(limiter: SharedWindowLimiter, key: string, n: number) {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(await limiter.take(key));
  return out;
}

describe('a limit shared through Redis', () => {
  it('lets through the limit once across two instances, per key, and keeps counting in the window', async () => {
    const opts = { name: 'inquiries', limit: 3, windowMs: 3_600_000 };
    const a = new SharedWindowLimiter(await redisClient(), opts, logger);
    const b = new SharedWindowLimiter(await redisClient(), opts, logger);
    expect(await takeMany(a, 'user:alice', 2)).toEqual([true, true]);
    expect(await takeMany(b, 'user:alice', 2)).toEqual([true, false]);
    expect(await a.take('user:alice')).toBe(false);
    // another author has a window of their own
    expect(await takeMany(b, 'user:bob', 3)).toEqual([true, true, true]);
  });

  it('starts a fresh window when the last one ends', async () => {
    let now = 1_000_000;
    const opts = { name: 'short', limit: 1, windowMs: 60_000 };
    const r = await redisClient();
    const limiter = new SharedWindowLimiter(r, opts, logger, () => now);
    expect(await takeMany(limiter, 'k', 2)).toEqual([true, false]);
    now += 60_000;
    expect(await limiter.take('k')).toBe(true);
    // the window's key expires by itself
    const ttl = await r.pttl(`limit:short:${Math.floor(now / 60_000)}:k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('counts per instance while Redis is unreachable, refusing only past the limit', async () => {
    const down = await redisClient('redis://127.0.0.1:1');
    expect(down.status).not.toBe('ready');
    const limiter = new SharedWindowLimiter(down, { name: 'inquiries', limit: 2, windowMs: 3_600_000 }, logger);
    expect(await takeMany(limiter, 'user:carol', 3)).toEqual([true, true, false]);
  });
});
