/**
 * A fixed-window limit shared by every instance through Redis (INCR + PEXPIRE on one key per
 * window), e.g. inquiries per author per hour. While Redis does not answer, each instance falls
 * back to its own in-memory window: the limit then holds per instance instead of cluster-wide,
 * and nothing is refused just because Redis is away.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { WindowLimiter } from './rate-limit.js';

export class SharedWindowLimiter {
  private readonly local: WindowLimiter;
  private fallbackLogged = false;

  constructor(
    private readonly redis: Redis | null,
    private readonly opts: { name: string; limit: number; windowMs: number },
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.local = new WindowLimiter(opts.limit, opts.windowMs);
  }

  /** true when one more is allowed for `key` (and counts it) */
  async take(key: string): Promise<boolean> {
    const now = this.now();
    if (this.redis && this.redis.status === 'ready') {
      const window = Math.floor(now / this.opts.windowMs);
      const redisKey = `limit:${this.opts.name}:${window}:${key}`;
      try {
        const replies = await this.redis.multi().incr(redisKey).pexpire(redisKey, this.opts.windowMs).exec();
        const count = Number(replies?.[0]?.[1]);
        if (Number.isFinite(count)) {
          this.fallbackLogged = false;
          return count <= this.opts.limit;
        }
      } catch (err) {
        this.logFallback(err);
      }
    } else if (this.redis) {
      this.logFallback(null);
    }
    return this.local.take(key, now);
  }

  private logFallback(err: unknown) {
    if (this.fallbackLogged) return;
    this.fallbackLogged = true;
    this.logger.warn({ err, limit: this.opts.name }, 'redis does not answer: this limit is counted per instance until it does');
  }
}
