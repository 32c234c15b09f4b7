/**
 * Redis presence. Keys (all under REDIS_KEY_PREFIX):
 *   presence:user:{userId}  sorted set of "{instance}/{session}" scored by expiry time (ms)
 * A member whose score is in the past is a dead session (its instance stopped refreshing it),
 * so a killed instance's users turn offline within SESSION_TTL_SECONDS without any cleanup job.
 * The key itself also expires, so users who never come back leave nothing behind.
 *   presence:sessions       sorted set of "{userId}\0{instance}/{session}" by the same expiry:
 *                           every instance sweeps it; whoever removes an expired member (ZREM
 *                           answers 1 to exactly one of them) announces that user offline if no
 *                           live session is left, so a killed instance's users go offline for
 *                           everyone, once.
 *
 * While Redis is unreachable chat keeps working: local sessions are answered from process
 * memory, remote users are reported as unknown (null), and when Redis returns every local
 * session is written back.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { LocalSessions, type DependencyStatus, type Presence } from './presence.js';

const SESSIONS = 'presence:sessions';

export class RedisPresence implements Presence {
  private readonly local = new LocalSessions();
  /** also lent to other users of Redis (shared limits); its prefix is REDIS_KEY_PREFIX */
  readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly refreshTimer: NodeJS.Timeout;

  constructor(
    opts: { url: string; keyPrefix: string; instanceId: string; ttlSeconds: number },
    private readonly logger: Logger,
  ) {
    this.ttlMs = opts.ttlSeconds * 1000;
    this.instanceId = opts.instanceId;
    this.redis = new Redis(opts.url, {
      keyPrefix: opts.keyPrefix,
      lazyConnect: false,
      // fail fast while Redis is down instead of queueing commands in memory
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    });
    let wasReady = false;
    this.redis.on('ready', () => {
      if (wasReady) this.logger.info('redis is back: writing local sessions again');
      wasReady = true;
      void this.rewriteAll();
    });
    this.redis.on('error', (err) => this.logger.debug({ err: err.message }, 'redis error'));
    this.redis.on('end', () => this.logger.warn('redis connection ended'));
    // One timer for all sessions, every third of the TTL. The expiry only has to outlive this
    // instance: a dead connection is closed by its transport (missed heart-beats) and
    // unregistered then, so per-heart-beat refreshes would add Redis traffic and prove nothing.
    this.refreshTimer = setInterval(() => {
      void this.rewriteAll();
      void this.sweepExpired();
    }, Math.max(250, Math.floor(this.ttlMs / 3)));
    this.refreshTimer.unref();
  }

  private readonly instanceId: string;

  private key(userId: string) {
    return `presence:user:${userId}`;
  }

  private sessionEntry(userId: string, sessionId: string) {
    return `${userId}\u0000${this.member(sessionId)}`;
  }

  /** called with each user whose last session expired (its instance died) */
  onExpired(handler: (userId: string) => void): void {
    this.expiredHandlers.push(handler);
  }

  private readonly expiredHandlers: Array<(userId: string) => void> = [];

  /** removes expired sessions of any instance; announces users with no live session left */
  async sweepExpired(): Promise<void> {
    if (this.status() !== 'up') return;
    try {
      const now = Date.now();
      const expired = await this.redis.zrangebyscore(SESSIONS, '-inf', now, 'LIMIT', 0, 1000);
      if (expired.length === 0) return;
      const removal = this.redis.pipeline();
      for (const entry of expired) removal.zrem(SESSIONS, entry);
      const removed = (await removal.exec()) ?? [];
      const users = new Set<string>();
      expired.forEach((entry, i) => {
        if (Number(removed[i]?.[1] ?? 0) === 1) users.add(entry.slice(0, entry.indexOf('\u0000')));
      });
      if (users.size === 0) return;
      const check = this.redis.pipeline();
      for (const u of users) check.zcount(this.key(u), now, '+inf');
      const counts = (await check.exec()) ?? [];
      [...users].forEach((userId, i) => {
        if (Number(counts[i]?.[1] ?? 0) === 0 && !this.local.has(userId)) {
          for (const h of this.expiredHandlers) h(userId);
        }
      });
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'presence sweep failed');
    }
  }

  private member(sessionId: string) {
    return `${this.instanceId}/${sessionId}`;
  }

  status(): DependencyStatus {
    return this.redis.status === 'ready' ? 'up' : 'down';
  }

  async register(userId: string, sessionId: string): Promise<boolean> {
    const firstLocal = this.local.add(userId, sessionId);
    if (this.status() !== 'up') return firstLocal;
    const key = this.key(userId);
    const now = Date.now();
    try {
      const res = await this.redis
        .multi()
        .zremrangebyscore(key, '-inf', now)
        .zcard(key)
        .zadd(key, now + this.ttlMs, this.member(sessionId))
        .pexpire(key, this.ttlMs * 2)
        .zadd(SESSIONS, now + this.ttlMs, this.sessionEntry(userId, sessionId))
        .exec();
      const before = Number(res?.[1]?.[1] ?? 0);
      return before === 0;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'presence register failed; kept locally');
      return firstLocal;
    }
  }

  async unregister(userId: string, sessionId: string): Promise<boolean> {
    const lastLocal = this.local.remove(userId, sessionId);
    if (this.status() !== 'up') return lastLocal;
    const key = this.key(userId);
    try {
      const res = await this.redis
        .multi()
        .zrem(key, this.member(sessionId))
        .zremrangebyscore(key, '-inf', Date.now())
        .zcard(key)
        .zrem(SESSIONS, this.sessionEntry(userId, sessionId))
        .exec();
      return Number(res?.[2]?.[1] ?? 0) === 0;
    } catch {
      return lastLocal;
    }
  }

  async sessionCount(userId: string): Promise<number> {
    const local = this.local.count(userId);
    if (this.status() !== 'up') return local;
    try {
      // entries of crashed instances are past their score and do not count
      const live = await this.redis.zcount(this.key(userId), Date.now(), '+inf');
      return Math.max(live, local);
    } catch {
      return local;
    }
  }

  async online(userIds: readonly string[]): Promise<Map<string, boolean | null>> {
    const result = new Map<string, boolean | null>();
    const remote: string[] = [];
    for (const id of userIds) {
      if (this.local.has(id)) result.set(id, true);
      else remote.push(id);
    }
    if (remote.length === 0) return result;
    if (this.status() !== 'up') {
      for (const id of remote) result.set(id, null);
      return result;
    }
    try {
      const now = Date.now();
      const pipeline = this.redis.pipeline();
      for (const id of remote) pipeline.zcount(this.key(id), now, '+inf');
      const res = await pipeline.exec();
      remote.forEach((id, i) => result.set(id, Number(res?.[i]?.[1] ?? 0) > 0));
    } catch {
      for (const id of remote) result.set(id, null);
    }
    return result;
  }

  private async refreshMany(userIds: string[]): Promise<void> {
    if (userIds.length === 0 || this.status() !== 'up') return;
    const expiry = Date.now() + this.ttlMs;
    // in slices, so 20,000 sessions do not become one 40,000-command burst
    for (let i = 0; i < userIds.length; i += 2000) {
      const pipeline = this.redis.pipeline();
      for (const userId of userIds.slice(i, i + 2000)) {
        const sessions = this.local.sessionsOf(userId);
        if (!sessions) continue;
        const key = this.key(userId);
        for (const s of sessions) {
          pipeline.zadd(key, expiry, this.member(s));
          pipeline.zadd(SESSIONS, expiry, this.sessionEntry(userId, s));
        }
        pipeline.pexpire(key, this.ttlMs * 2);
      }
      await pipeline.exec().catch(() => undefined);
    }
  }

  private async rewriteAll(): Promise<void> {
    await this.refreshMany([...this.local.entries()].map(([u]) => u));
  }

  /** Removes this instance's sessions from Redis (graceful shutdown), then disconnects. */
  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    if (this.status() === 'up') {
      const pipeline = this.redis.pipeline();
      for (const [userId, sessions] of this.local.entries()) {
        for (const s of sessions) {
          pipeline.zrem(this.key(userId), this.member(s));
          pipeline.zrem(SESSIONS, this.sessionEntry(userId, s));
        }
      }
      await pipeline.exec().catch(() => undefined);
    }
    this.redis.disconnect();
  }
}
