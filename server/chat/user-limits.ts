/**
 * Per-user limits that hold across every connection and every instance of one user:
 *
 * - Concurrent connections (all transports). A connection registers its session in presence
 *   first and then counts the user's live sessions (Redis: the presence sorted set, whose entries
 *   expire unless their instance refreshes them, so a crashed instance's sessions stop counting
 *   within SESSION_TTL_SECONDS). Over the cap it unregisters again and is refused. Registering
 *   before counting means a burst of parallel connects can refuse one too many, never admit one
 *   too many. While Redis is away the count is this instance's own sessions.
 *
 * - Messages per second (SEND / message:send, read marks, typing). The hot path never waits for
 *   Redis: each instance keeps a token bucket per user (rate, burst) in process, which is exact
 *   for all the user's connections on this instance. Accepted sends are counted locally and
 *   flushed every SYNC_MS in one pipeline of INCRBY per user into a cluster-wide window of
 *   WINDOW_MS allowing what one bucket allows in that time (burst + rate × window), so one
 *   instance's bucket is never tighter than the shared count, and the sustained cluster rate is
 *   at most rate + burst/window. A user over it is refused on each instance whose count comes back over, until
 *   the window ends. The cluster bound is enforced within SYNC_MS, at the cost of one Redis
 *   pipeline per SYNC_MS per instance, not a round trip per message. While Redis is away, the
 *   local bucket alone holds.
 *
 * - Rooms opened per hour, through the shared Redis window the inquiries use (per instance while
 *   Redis is away). Only opens that would create a room count; reopening one's own room is free.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Presence } from '../presence/presence.js';
import { ChatError } from '../shared/errors.js';
import { TokenBucket } from '../shared/rate-limit.js';
import { SharedWindowLimiter } from '../shared/shared-limiter.js';

/** how often accepted sends are added to the cluster-wide counters */
const SYNC_MS = 250;
/** the cluster-wide counting window of the per-user send limit */
const WINDOW_MS = 10_000;
/** a user's bucket unused this long is dropped (it would be full again anyway) */
const IDLE_BUCKET_MS = 60_000;

export interface UserLimitSettings {
  maxConnections: number;
  sendRatePerSecond: number;
  sendBurst: number;
  roomsPerHour: number;
}

export class UserLimits {
  private readonly send: UserSendLimiter;
  private readonly roomOpens: SharedWindowLimiter;

  constructor(
    private readonly deps: {
      settings: UserLimitSettings;
      presence: Presence;
      redis: Redis | null;
      logger: Logger;
      metrics?: Metrics | undefined;
      /** wall clock of the shared windows (tests pin it so a run cannot straddle two windows) */
      now?: (() => number) | undefined;
    },
  ) {
    const { settings, redis, logger } = deps;
    this.send = new UserSendLimiter(redis, settings.sendRatePerSecond, settings.sendBurst, logger, deps.now ?? Date.now);
    this.roomOpens = new SharedWindowLimiter(redis, { name: 'rooms-open', limit: settings.roomsPerHour, windowMs: 3_600_000 }, logger);
  }

  /**
   * Counts the connection against the user's cap, after it was registered in presence.
   * Throws TOO_MANY_REQUESTS (naming the limit) when the user already had the maximum open.
   */
  async checkConnections(userId: string): Promise<void> {
    const open = await this.deps.presence.sessionCount(userId);
    const max = this.deps.settings.maxConnections;
    if (open <= max) return;
    this.deps.metrics?.limitRefusals.inc({ limit: 'user_connections' });
    throw new ChatError('TOO_MANY_REQUESTS', `too many connections: a user may keep at most ${max} open at once (USER_MAX_CONNECTIONS); close one and retry`);
  }

  /** one send by the user, across all their connections; throws TOO_MANY_REQUESTS when over */
  takeSend(userId: string): void {
    if (this.send.take(userId)) return;
    this.deps.metrics?.limitRefusals.inc({ limit: 'user_send_rate' });
    throw new ChatError(
      'TOO_MANY_REQUESTS',
      `sending too fast: at most ${this.deps.settings.sendRatePerSecond} per second per user across all connections; slow down and retry`,
    );
  }

  /** a room about to be created by `userId`; throws TOO_MANY_REQUESTS over the hourly cap */
  async takeRoomOpen(userId: string): Promise<void> {
    if (await this.roomOpens.take(userId)) return;
    this.deps.metrics?.limitRefusals.inc({ limit: 'rooms_per_hour' });
    throw new ChatError('TOO_MANY_REQUESTS', `too many new rooms: at most ${this.deps.settings.roomsPerHour} per hour per user; try again later`);
  }

  /** adds this instance's counted sends to the shared counters now (they are otherwise every SYNC_MS) */
  syncSendCounts(): Promise<void> {
    return this.send.flush();
  }

  close(): void {
    this.send.close();
  }
}

/** the per-user send limit: a local bucket per user plus a batched cluster-wide window */
class UserSendLimiter {
  private readonly buckets = new Map<string, { bucket: TokenBucket; used: number }>();
  private pending = new Map<string, number>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly windowMs = WINDOW_MS;
  private readonly allowance: number;
  private readonly timer: NodeJS.Timeout;
  private rounds: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis | null,
    private readonly rate: number,
    private readonly burst: number,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.allowance = burst + rate * (WINDOW_MS / 1000);
    this.timer = setInterval(() => void this.flush(), SYNC_MS);
    this.timer.unref();
  }

  take(userId: string): boolean {
    const now = this.now();
    const until = this.blockedUntil.get(userId);
    if (until !== undefined) {
      if (until > now) return false;
      this.blockedUntil.delete(userId);
    }
    let entry = this.buckets.get(userId);
    if (!entry) this.buckets.set(userId, (entry = { bucket: new TokenBucket(this.rate, this.burst), used: now }));
    entry.used = now;
    if (!entry.bucket.take()) return false;
    if (this.redis) this.pending.set(userId, (this.pending.get(userId) ?? 0) + 1);
    return true;
  }

  /** one round at a time: a round asked for while one runs follows it (and its counts are in it) */
  flush(): Promise<void> {
    this.rounds = this.rounds.then(() => this.flushOnce());
    return this.rounds;
  }

  private async flushOnce(): Promise<void> {
    const now = this.now();
    for (const [userId, e] of this.buckets) if (now - e.used > IDLE_BUCKET_MS) this.buckets.delete(userId);
    for (const [userId, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(userId);
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // counts made while Redis is away are dropped: the local bucket already bounded them
    if (!this.redis || this.redis.status !== 'ready') return;
    try {
      const window = Math.floor(now / this.windowMs);
      const windowEnd = (window + 1) * this.windowMs;
      const users = [...batch.keys()];
      const pipeline = this.redis.pipeline();
      for (const userId of users) {
        const key = `limit:user-send:${window}:${userId}`;
        pipeline.incrby(key, batch.get(userId)!);
        pipeline.pexpire(key, this.windowMs * 2);
      }
      const replies = (await pipeline.exec()) ?? [];
      users.forEach((userId, i) => {
        const total = Number(replies[i * 2]?.[1] ?? 0);
        if (total > this.allowance) this.blockedUntil.set(userId, windowEnd);
      });
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'per-user send counters not shared this round');
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
