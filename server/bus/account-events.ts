/**
 * Account events from the marketplace's user service, applied to chat memberships:
 *   `${prefix}user-delete`  value `{"email": "..."}`, a bare email, or a JSON-quoted email
 *   `${prefix}user-update`  value `{"oldEmail": "...", "newEmail": "..."}`
 * All instances share one consumer group (`${prefix}chat-account-events`), so each event is
 * applied once, by whichever instance owns its partition.
 *
 * Users are identified by an opaque id that in the marketplace is usually the email; `users`
 * maps ids to emails. So an event's email names both the id equal to it and every id whose
 * `users.email` is it. What each event changes is data access (db/accounts.ts); this file owns
 * parsing and consuming.
 *
 * A malformed event is logged and skipped; a database error is retried a few times and then
 * logged and skipped — neither may stop the partition. After a change the applying instance
 * calls `onChanged()`, which drops the access caches here and, through the room bus, on every
 * other instance.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import { z } from 'zod';
import { applyUserDelete, applyUserUpdate } from '../db/accounts.js';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import type { DependencyStatus } from '../presence/presence.js';
import { createKafka, ensureTopics, ReconnectLoop } from './kafka-client.js';


export interface AccountEvents {
  close(): Promise<void>;
  status(): DependencyStatus;
}

export interface AccountEventsOptions {
  env: Env;
  logger: Logger;
  pool: Pool;
  /** memberships changed: the chat service drops its access cache */
  onChanged: () => void;
}

/** database attempts per event before it is logged and skipped */
const APPLY_ATTEMPTS = 4;
const APPLY_RETRY_MS = [250, 1_000, 3_000] as const;
const START_WAIT_MS = 6_000;

export function userDeleteTopic(env: Pick<Env, 'KAFKA_TOPIC_PREFIX'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}user-delete`;
}

export function userUpdateTopic(env: Pick<Env, 'KAFKA_TOPIC_PREFIX'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}user-update`;
}

export function accountEventsGroupId(env: Pick<Env, 'KAFKA_TOPIC_PREFIX'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}chat-account-events`;
}

// ---------------------------------------------------------------- parsing (pure)

/**
 * Loose on purpose: the user service owns the address format. What we refuse is what cannot be
 * an address at all (no @, whitespace, JSON or RFC 5322 punctuation outside quotes) or cannot be
 * stored (ids are varchar(191)).
 * Case is kept: ids are compared byte for byte (utf8mb4_bin).
 */
const email = z
  .string()
  .trim()
  .min(3)
  .max(191)
  .regex(/^[^\s@"<>()[\]{}\\,;:]+@[^\s@"<>()[\]{}\\,;:]+$/);

export const userDeleteObject = z.object({ email });
export const userUpdateObject = z.object({ oldEmail: email, newEmail: email });

function text(value: Buffer | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const s = (typeof value === 'string' ? value : value.toString('utf8')).trim();
  return s.length > 0 ? s : null;
}

function json(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** `{"email": "a@b"}`, `a@b` or `"a@b"`; null for anything else */
export function parseUserDelete(value: Buffer | string | null | undefined): { email: string } | null {
  const s = text(value);
  if (s === null) return null;
  if (s.startsWith('{')) {
    const parsed = userDeleteObject.safeParse(json(s));
    return parsed.success ? { email: parsed.data.email } : null;
  }
  const bare = s.startsWith('"') ? json(s) : s;
  const parsed = email.safeParse(bare);
  return parsed.success ? { email: parsed.data } : null;
}

/** `{"oldEmail": "a@b", "newEmail": "c@d"}`; null for anything else */
export function parseUserUpdate(value: Buffer | string | null | undefined): { oldEmail: string; newEmail: string } | null {
  const s = text(value);
  if (s === null || !s.startsWith('{')) return null;
  const parsed = userUpdateObject.safeParse(json(s));
  return parsed.success ? { oldEmail: parsed.data.oldEmail, newEmail: parsed.data.newEmail } : null;
}

// ---------------------------------------------------------------- consuming

export async function startAccountEvents(opts: AccountEventsOptions): Promise<AccountEvents> {
  const log = opts.logger;
  if (!opts.env.KAFKA_BROKERS) {
    log.warn('KAFKA_BROKERS is not set: account events of the user service (user-delete, user-update) are not applied');
    return { close: async () => undefined, status: () => 'embedded' };
  }
  const consumer = new AccountEventsConsumer(opts);
  await consumer.start();
  return consumer;
}

class AccountEventsConsumer implements AccountEvents {
  private readonly kafka: Kafka;
  private readonly deleteTopic: string;
  private readonly updateTopic: string;
  private readonly groupId: string;
  private readonly logger: Logger;
  private consumer: Consumer | null = null;
  private joined = false;
  private closed = false;
  private readonly loop: ReconnectLoop;

  constructor(private readonly opts: AccountEventsOptions) {
    this.logger = opts.logger;
    this.deleteTopic = userDeleteTopic(opts.env);
    this.updateTopic = userUpdateTopic(opts.env);
    this.groupId = accountEventsGroupId(opts.env);
    this.loop = new ReconnectLoop({
      logger: this.logger,
      attempt: () => this.connectOnce(),
      // up once the group is joined (GROUP_JOIN); a consumer that never started is tried again
      afterAttempt: () => {
        if (!this.consumer) this.unavailable();
      },
      outage: 'KAFKA IS UNREACHABLE: account events (user-delete, user-update) wait in Kafka until it answers; retrying in the background',
      recovery: 'account events consumer is back',
      context: () => ({ brokers: opts.env.KAFKA_BROKERS, group: this.groupId }),
    });
    this.kafka = createKafka(opts.env, opts.logger, {
      clientId: `${opts.env.KAFKA_CLIENT_ID}-${opts.env.INSTANCE_ID}-accounts`,
      quiet: () => !this.joined || this.loop.down || this.closed,
    });
  }

  async start(): Promise<void> {
    const settled = await Promise.race([this.loop.connect().then(() => true), sleep(START_WAIT_MS, false, { ref: false })]);
    if (this.joined) {
      this.logger.info({ group: this.groupId, topics: [this.deleteTopic, this.updateTopic] }, 'consuming account events');
    } else if (!settled) {
      this.logger.warn({ waitedMs: START_WAIT_MS }, 'account events consumer not ready yet: joining in the background');
    }
  }

  status(): DependencyStatus {
    return this.joined ? 'up' : 'down';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loop.stop();
    const consumer = this.consumer;
    this.consumer = null;
    this.joined = false;
    // waits for the event being applied; an event cut short is not committed and is applied again
    await consumer?.disconnect().catch((err) => this.logger.debug({ err }, 'account events consumer disconnect failed'));
  }

  private async connectOnce(): Promise<void> {
    if (this.closed) return;
    // the user service owns these topics; they are created here only so that a deployment
    // (or a test run) without it still has a consumer that joins and says 'up'
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(admin, [this.deleteTopic, this.updateTopic], this.opts.env.KAFKA_PARTITIONS);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (this.closed) return;
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      // account events are rare and not latency-critical
      maxWaitTimeInMs: 1_000,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (this.consumer !== consumer) return;
      this.joined = true;
      this.loop.recovered();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.joined = false;
      this.loop.report(payload.error);
      // kafkajs restarts itself after retriable errors; after the others it stays stopped
      if (payload.restart) return;
      this.consumer = null;
      void consumer.disconnect().catch(() => undefined);
      this.unavailable();
    });
    this.consumer = consumer;
    try {
      await consumer.connect();
      // from the beginning on the group's first start: deletions that happened before chat
      // consumed them still have to be applied (applying is idempotent)
      await consumer.subscribe({ topics: [this.deleteTopic, this.updateTopic], fromBeginning: true });
      await consumer.run({ eachMessage: (payload) => this.handle(payload) });
    } catch (err) {
      if (this.consumer === consumer) this.consumer = null;
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private unavailable(): void {
    if (this.closed) return;
    this.joined = false;
    this.loop.retry();
  }

  /** never throws for a bad event or a failing database: the partition must keep moving */
  private async handle({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const where = { topic, partition, offset: message.offset };
    if (topic === this.deleteTopic) {
      const event = parseUserDelete(message.value);
      if (!event) return this.skipMalformed(where, message.value);
      await this.apply(where, () => applyUserDelete(this.opts.pool, event.email), heartbeat);
    } else if (topic === this.updateTopic) {
      const event = parseUserUpdate(message.value);
      if (!event) return this.skipMalformed(where, message.value);
      await this.apply(where, () => applyUserUpdate(this.opts.pool, event.oldEmail, event.newEmail), heartbeat);
    }
  }

  private skipMalformed(where: object, value: Buffer | null): void {
    // a prefix is enough to find the event; the value may be large or hold personal data
    this.logger.warn({ ...where, value: value?.subarray(0, 64).toString('utf8') ?? null }, 'malformed account event skipped');
  }

  private async apply(where: object, work: () => Promise<number>, heartbeat: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const changed = await work();
        this.logger.info({ ...where, changed }, 'account event applied');
        if (changed > 0) {
          try {
            this.opts.onChanged();
          } catch (err) {
            this.logger.error({ err }, 'onChanged failed after an account event');
          }
        }
        return;
      } catch (err) {
        if (this.closed) {
          // not committed: another instance applies it after the rebalance
          throw err;
        }
        if (attempt >= APPLY_ATTEMPTS) {
          this.logger.error({ err, ...where, attempts: attempt }, 'account event could not be applied: skipped');
          return;
        }
        this.logger.warn({ err, ...where, attempt }, 'account event failed, retrying');
        await sleep(APPLY_RETRY_MS[attempt - 1] ?? 3_000);
        await heartbeat().catch(() => undefined);
      }
    }
  }
}
