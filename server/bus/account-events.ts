/**
 * Account events from the marketplace's user service, applied to chat memberships:
 *   `${prefix}user-delete`  value `{"email": "..."}`, a bare email, or a JSON-quoted email
 *   `${prefix}user-update`  value `{"oldEmail": "...", "newEmail": "..."}`
 * All instances share one consumer group (`${prefix}chat-account-events`), so each event is
 * applied once, by whichever instance owns its partition.
 *
 * Users are identified by an opaque id that in the marketplace is usually the email; `users`
 * maps ids to emails. So an event's email names both the id equal to it and every id whose
 * `users.email` is it:
 *   - delete: that user's memberships are removed (they lose access to every room; the
 *     counterpart keeps the room and its history), and the profile is anonymised — the row
 *     stays so the counterpart sees "Deleted user" rather than an id that may be an email.
 *   - update: an id equal to the old email is re-keyed to the new email everywhere it is a key
 *     (memberships, rooms, message authors, inquiries, the profile) in one transaction, so the
 *     user keeps their rooms and their own messages still count as theirs (unread counts
 *     compare sender ids). An opaque id keeps its id; only its email changes.
 *
 * A malformed event is logged and skipped; a database error is retried a few times and then
 * logged and skipped — neither may stop the partition. The deleting/updating instance calls
 * `onChanged()`; other instances' access caches expire on their own (chat service TTL).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import type { DependencyStatus } from '../presence/presence.js';
import { createKafka, ensureTopics, retryDelay } from './kafka-bus.js';

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
/** how the profile of a deleted account is shown to the people they chatted with */
export const DELETED_USER_NAME = 'Deleted user';

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

// ---------------------------------------------------------------- applying

async function inTransaction<T>(pool: Pool, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await work(conn);
    await conn.commit();
    return result;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}

async function exec(conn: PoolConnection, sql: string, params: unknown[]): Promise<number> {
  const [res] = await conn.query<ResultSetHeader>(sql, params);
  return res.affectedRows;
}

/** Removes the memberships of the account with this email; resolves to the number of rows changed. */
export async function applyUserDelete(pool: Pool, address: string): Promise<number> {
  return inTransaction(pool, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT id FROM users WHERE id = ? OR email = ? FOR UPDATE', [address, address]);
    const ids = [...new Set([address, ...rows.map((r) => String(r.id))])];
    let changed = await exec(conn, 'DELETE FROM room_members WHERE user_id IN (?)', [ids]);
    changed += await exec(
      conn,
      'UPDATE users SET name = ?, email = NULL, updated_at = CURRENT_TIMESTAMP(3) WHERE id IN (?)',
      [DELETED_USER_NAME, ids],
    );
    return changed;
  });
}

/**
 * Re-keys the id equal to `oldEmail` to `newEmail`, and moves `users.email` of opaque ids.
 * Resolves to the number of rows changed.
 */
export async function applyUserUpdate(pool: Pool, oldEmail: string, newEmail: string): Promise<number> {
  if (oldEmail === newEmail) return 0;
  return inTransaction(pool, async (conn) => {
    const oldId = oldEmail;
    const newId = newEmail;
    // every statement below reaches rows through an index: rooms by id, messages by
    // (room_id, sender_id), memberships by user_id, so a re-key never scans a whole table
    const [memberRows] = await conn.query<RowDataPacket[]>('SELECT room_id FROM room_members WHERE user_id = ? FOR UPDATE', [oldId]);
    const [buyerRows] = await conn.query<RowDataPacket[]>('SELECT id FROM rooms WHERE buyer_id = ? FOR UPDATE', [oldId]);
    const roomIds = [...new Set([...memberRows.map((r) => String(r.room_id)), ...buyerRows.map((r) => String(r.id))])];
    let changed = 0;
    let stuck: string[] = [];
    if (roomIds.length > 0) {
      // IGNORE: when the new id already has a room with the same counterpart and product, that
      // room cannot take the new id (unique index); it stays whole under the old id
      changed += await exec(conn, 'UPDATE IGNORE rooms SET buyer_id = ? WHERE id IN (?) AND buyer_id = ?', [newId, roomIds, oldId]);
      changed += await exec(conn, 'UPDATE IGNORE rooms SET seller_id = ? WHERE id IN (?) AND seller_id = ?', [newId, roomIds, oldId]);
      const [stuckRows] = await conn.query<RowDataPacket[]>('SELECT id FROM rooms WHERE id IN (?) AND (buyer_id = ? OR seller_id = ?)', [
        roomIds,
        oldId,
        oldId,
      ]);
      stuck = stuckRows.map((r) => String(r.id));
      const movable = roomIds.filter((id) => !stuck.includes(id));
      if (movable.length > 0) {
        // a membership the new id already has wins, keeping the further read mark of the two
        changed += await exec(
          conn,
          `INSERT INTO room_members (room_id, user_id, role, last_read_message_id, joined_at, left_at)
           SELECT src.room_id, ?, src.role, src.last_read_message_id, src.joined_at, src.left_at
             FROM room_members src WHERE src.user_id = ? AND src.room_id IN (?)
           ON DUPLICATE KEY UPDATE last_read_message_id = GREATEST(room_members.last_read_message_id, VALUES(last_read_message_id))`,
          [newId, oldId, movable],
        );
        changed += await exec(conn, 'DELETE FROM room_members WHERE user_id = ? AND room_id IN (?)', [oldId, movable]);
        // IGNORE: the same clientMsgId sent under both ids in one room keeps the old author
        changed += await exec(conn, 'UPDATE IGNORE messages SET sender_id = ? WHERE room_id IN (?) AND sender_id = ?', [
          newId,
          movable,
          oldId,
        ]);
      }
    }
    changed += await exec(conn, 'UPDATE inquiries SET user_id = ? WHERE user_id = ?', [newId, oldId]);
    // the profile follows the id; if the new id already has one, it is kept and the old one goes
    changed += await exec(conn, 'UPDATE IGNORE users SET id = ?, email = ?, updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?', [
      newId,
      newEmail,
      oldId,
    ]);
    if (stuck.length === 0) changed += await exec(conn, 'DELETE FROM users WHERE id = ?', [oldId]);
    // opaque ids keep their id; only the address they are known by moves
    changed += await exec(conn, 'UPDATE users SET email = ?, updated_at = CURRENT_TIMESTAMP(3) WHERE email = ?', [newEmail, oldEmail]);
    return changed;
  });
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
  private downReported = false;
  private failures = 0;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AccountEventsOptions) {
    this.logger = opts.logger;
    this.deleteTopic = userDeleteTopic(opts.env);
    this.updateTopic = userUpdateTopic(opts.env);
    this.groupId = accountEventsGroupId(opts.env);
    this.kafka = createKafka(opts.env, opts.logger, {
      clientId: `${opts.env.KAFKA_CLIENT_ID}-${opts.env.INSTANCE_ID}-accounts`,
      quiet: () => !this.joined || this.downReported || this.closed,
    });
  }

  async start(): Promise<void> {
    const settled = await Promise.race([this.connect().then(() => true), sleep(START_WAIT_MS, false, { ref: false })]);
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.connecting?.catch(() => undefined);
    const consumer = this.consumer;
    this.consumer = null;
    this.joined = false;
    // waits for the event being applied; an event cut short is not committed and is applied again
    await consumer?.disconnect().catch((err) => this.logger.debug({ err }, 'account events consumer disconnect failed'));
  }

  private connect(): Promise<void> {
    this.connecting ??= this.connectOnce()
      .catch((err: unknown) => {
        this.connecting = null;
        this.unavailable(err);
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
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
      this.failures = 0;
      if (this.downReported) this.logger.warn({ group: this.groupId }, 'account events consumer is back');
      this.downReported = false;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.joined = false;
      this.reportDown(payload.error);
      // kafkajs restarts itself after retriable errors; after the others it stays stopped
      if (payload.restart) return;
      this.consumer = null;
      void consumer.disconnect().catch(() => undefined);
      this.unavailable(payload.error);
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

  private unavailable(err: unknown): void {
    if (this.closed) return;
    this.joined = false;
    this.reportDown(err);
    if (this.retryTimer || this.connecting) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, retryDelay(this.failures++));
    this.retryTimer.unref();
  }

  private reportDown(err: unknown): void {
    if (this.closed) return;
    if (!this.downReported) {
      this.downReported = true;
      this.logger.error(
        { err, brokers: this.opts.env.KAFKA_BROKERS, group: this.groupId },
        'KAFKA IS UNREACHABLE: account events (user-delete, user-update) wait in Kafka until it answers; retrying in the background',
      );
    } else {
      this.logger.debug({ err }, 'account events consumer still down');
    }
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
