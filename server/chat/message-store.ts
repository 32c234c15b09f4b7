/**
 * The store path of messages, with group commit: appends queued while transactions are in
 * flight are written together by the next one (one multi-row INSERT, one fsync), so throughput
 * grows with load while every caller is still answered only after its own row is committed.
 *
 * Invariants:
 * - Inside a batch the room rows are locked (SELECT … FOR UPDATE, in sorted id order so that
 *   concurrent batches, here or on other instances, cannot deadlock on them) before seq values
 *   are taken, so within a room seq, id and commit order agree everywhere.
 * - Batches are written one after another by default (see maxInFlight); callers are answered
 *   per batch after its COMMIT, in batch order. The store announces nothing: the chat pipeline
 *   does, once per answer, and the hub orders each room by seq whatever order batches complete in.
 * - A repeated clientMsgId of the same sender in the same room resolves to the stored message.
 *   The common case has no repeat, so a batch first goes without looking for one and lets the
 *   unique index object (ER_DUP_ENTRY → rollback → the batch again, looking first).
 *
 * - Photos (`attachments`, upload ids) are claimed in the same transaction: their `uploads` rows
 *   are locked after the room rows (the same order everywhere), checked (same room, same
 *   sender, not yet claimed) and pointed at the new message before COMMIT. A message whose
 *   photos do not qualify is refused alone; the rest of the batch is written.
 *
 * Round trips: one in the common case — [START TRANSACTION; SELECT … FOR UPDATE; INSERT; UPDATE
 * rooms; COMMIT] as one multi-statement query on a pool of its own (`multipleStatements`; every
 * value is a placeholder): each row takes its seq as `(SELECT last_seq FROM rooms …) + k`, read
 * under the lock the statement before took, so the seq the caller is told (last_seq from the
 * SELECT + k) is the stored one; consecutive auto-increment ids let the UPDATE name the new ids
 * with LAST_INSERT_ID() + k. Anything unusual takes two round trips, [START TRANSACTION; SELECT …
 * FOR UPDATE] then [INSERT; UPDATE rooms; COMMIT] with seq values from the client: looking for
 * repeats, a clientMsgId twice in one batch, a missing room (its NULL seq fails the one-trip
 * INSERT in strict SQL mode, which that path requires), ids that may not be consecutive, and
 * photos (their rows are locked in the first trip and claimed in the second).
 *
 * Hand-written SQL on purpose, the one place outside Drizzle: the query builder has no
 * multi-statement queries, and the batch's speed comes from them — going from per-statement
 * round trips to these two moved the durable-insert figure of bench S6 to 23,724 receipts/s
 * (bench/RESULTS.md, runs of 2026-11-25/26). Rows come back as `StoredMessage`, the same shape
 * as Drizzle's inferred `MessageRow`.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { ChatError } from '../shared/errors.js';
import type { StoredAttachment, StoredMessage } from '../shared/events.js';

export interface AppendInput {
  roomId: string;
  senderId: string;
  content: string;
  clientMsgId: string | null;
  /** upload ids of the sender's photos in this room, not yet carried by another message */
  attachments?: readonly string[];
}

export interface AppendResult {
  message: StoredMessage;
  /** true when the clientMsgId had been stored before: nothing new was written */
  duplicate: boolean;
}

interface Pending {
  input: AppendInput;
  resolve(r: AppendResult): void;
  reject(e: unknown): void;
}

export interface MessageStoreOptions {
  maxBatch?: number;
  /**
   * batches written concurrently (each on its own connection). Default 1: with 3 in flight the
   * bench lost receipts for ~0.1% of messages past saturation (stalled batches, cause not yet
   * found), so more than one is not used until that is understood.
   */
  maxInFlight?: number;
  /** counts committed batches (size, age at hand-over) */
  metrics?: Pick<Metrics, 'stored'> | undefined;
  /** told of a failed batch; true when it was MySQL being unavailable (already logged once) */
  isOutage?: ((err: unknown) => boolean) | undefined;
}

type Outcome = { results: Array<AppendResult | Error | undefined>; fresh: StoredMessage[] };


export class MessageStore {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly metrics: Pick<Metrics, 'stored'> | undefined;
  private readonly isOutage: (err: unknown) => boolean;
  private idleWaiters: Array<() => void> = [];
  private autoIncStep = 1;
  private consecutiveIds = false;
  /** STRICT_TRANS_TABLES or STRICT_ALL_TABLES: a NULL seq (missing room) fails the INSERT */
  private strictSql = false;
  private settingsRead: Promise<void> | undefined;

  constructor(
    /** a pool with `multipleStatements: true`, used by nothing else */
    private readonly pool: Pool,
    private readonly logger: Logger,
    opts: MessageStoreOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.metrics = opts.metrics;
    this.isOutage = opts.isOutage ?? (() => false);
  }

  append(input: AppendInput): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** resolves once everything queued so far is committed or failed (shutdown) */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // let the rest of this tick's sends join the batch
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.inFlight++;
        void this.writeBatch(batch).finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.schedule();
          else if (this.inFlight === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
        // while one batch is being written the queue refills; later ones take what arrives
        if (this.queue.length < 8) break;
      }
    });
  }

  private readSettings(conn: PoolConnection): Promise<void> {
    this.settingsRead ??= conn
      .query<RowDataPacket[]>('SELECT @@auto_increment_increment AS step, @@innodb_autoinc_lock_mode AS mode, @@SESSION.sql_mode AS sqlMode')
      .then(([r]) => {
        this.autoIncStep = Number(r[0]?.step ?? 1);
        this.strictSql = /STRICT_(TRANS|ALL)_TABLES/.test(String(r[0]?.sqlMode ?? ''));
        // 0 and 1 give a multi-row INSERT consecutive ids; 2 (interleaved) may not
        this.consecutiveIds = Number(r[0]?.mode ?? 2) < 2;
      })
      .catch((err: unknown) => {
        // read again on the next batch (e.g. after an outage) rather than failing every batch
        this.settingsRead = undefined;
        throw err;
      });
    return this.settingsRead;
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    let lookForRepeats = false;
    for (let attempt = 1; ; attempt++) {
      let conn: PoolConnection | undefined;
      try {
        conn = await this.pool.getConnection();
        await this.readSettings(conn);
        const outcome = (!lookForRepeats && (await this.writeInOneTrip(conn, batch))) || (await this.writeInTransaction(conn, batch, lookForRepeats));
        this.metrics?.stored(outcome.fresh);
        // in batch order, which is commit order: callers resume (and announce) in that order
        batch.forEach((p, i) => {
          const r = outcome.results[i];
          if (r instanceof Error) p.reject(r);
          else if (r) p.resolve(r);
        });
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ER_DUP_ENTRY' && !lookForRepeats) {
          // a clientMsgId was sent before: write the batch again, resolving repeats first
          lookForRepeats = true;
          attempt--;
          continue;
        }
        const retriable = code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
        if (retriable && attempt < 5) {
          this.logger.warn({ code, attempt }, 'message batch retried');
          continue;
        }
        if (!this.isOutage(err)) this.logger.error({ err, size: batch.length }, 'message batch failed');
        const failure = new ChatError('UNAVAILABLE');
        for (const p of batch) p.reject(failure);
        return;
      } finally {
        conn?.release();
      }
    }
  }

  /**
   * The common batch in one round trip (see the header); null when this batch needs the two-trip
   * path. A repeated clientMsgId fails on the unique index as it does there (ER_DUP_ENTRY).
   */
  private async writeInOneTrip(conn: PoolConnection, batch: Pending[]): Promise<Outcome | null> {
    if (!this.consecutiveIds || !this.strictSql) return null;
    const now = new Date();
    /** per message: its place among this batch's messages of its room (1, 2, …) */
    const offsets = new Array<number>(batch.length);
    const perRoom = new Map<string, number>();
    const newestIndex = new Map<string, number>();
    const keys = new Set<string>();
    const values: unknown[] = [];
    for (let i = 0; i < batch.length; i++) {
      const { roomId, senderId, content, clientMsgId, attachments } = batch[i]!.input;
      // photos are locked and claimed on the two-trip path
      if (attachments && attachments.length > 0) return null;
      if (clientMsgId !== null) {
        const key = dedupeKey(roomId, senderId, clientMsgId);
        if (keys.has(key)) return null;
        keys.add(key);
      }
      const k = (perRoom.get(roomId) ?? 0) + 1;
      perRoom.set(roomId, k);
      offsets[i] = k;
      newestIndex.set(roomId, i);
      values.push(roomId, roomId, k, senderId, content, clientMsgId, now);
    }
    const touched = [...newestIndex.entries()];
    const rowSql = '(?, (SELECT last_seq FROM rooms WHERE id = ?) + ?, ?, ?, ?, ?)';
    const sql =
      'START TRANSACTION; SELECT id, last_seq FROM rooms WHERE id IN (?) ORDER BY id FOR UPDATE; ' +
      `INSERT INTO messages (room_id, seq, sender_id, content, client_msg_id, created_at) VALUES ${new Array(batch.length).fill(rowSql).join(', ')}; ` +
      `UPDATE rooms SET last_seq = last_seq + CASE id ${touched.map(() => 'WHEN ? THEN ?').join(' ')} END, ` +
      `last_message_id = CASE id ${touched.map(() => 'WHEN ? THEN LAST_INSERT_ID() + ?').join(' ')} END, last_activity_at = ? WHERE id IN (?); COMMIT`;
    let done: [unknown, RowDataPacket[], ResultSetHeader, ...unknown[]];
    try {
      [done] = (await conn.query(sql, [
        [...perRoom.keys()].sort(),
        ...values,
        ...touched.flatMap(([roomId]) => [roomId, perRoom.get(roomId)]),
        ...touched.flatMap(([roomId, i]) => [roomId, i * this.autoIncStep]),
        now,
        touched.map(([roomId]) => roomId),
      ])) as unknown as [typeof done];
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      const code = (err as { code?: string }).code;
      // a room that is not there: the two-trip path refuses just its messages
      if (code === 'ER_BAD_NULL_ERROR') return null;
      throw err;
    }
    const lastSeq = new Map<string, number>(done[1].map((r) => [String(r.id), Number(r.last_seq)]));
    const firstId = done[2].insertId;
    const results: Outcome['results'] = new Array(batch.length);
    const fresh: StoredMessage[] = [];
    for (let i = 0; i < batch.length; i++) {
      const { roomId, senderId, content, clientMsgId } = batch[i]!.input;
      const message: StoredMessage = {
        id: firstId + i * this.autoIncStep,
        roomId,
        seq: lastSeq.get(roomId)! + offsets[i]!,
        senderId,
        content,
        clientMsgId,
        createdAt: now,
        deletedAt: null,
        attachments: [],
      };
      fresh.push(message);
      results[i] = { message, duplicate: false };
    }
    return { results, fresh };
  }

  private async writeInTransaction(conn: PoolConnection, batch: Pending[], lookForRepeats: boolean): Promise<Outcome> {
    const results: Outcome['results'] = new Array(batch.length);
    const roomIds = [...new Set(batch.map((p) => p.input.roomId))].sort();
    const uploadIds = [...new Set(batch.flatMap((p) => p.input.attachments ?? []))].sort();
    try {
      const [opened] = await conn.query<RowDataPacket[][]>(
        'START TRANSACTION; SELECT id, last_seq FROM rooms WHERE id IN (?) ORDER BY id FOR UPDATE' +
          (uploadIds.length > 0
            ? '; SELECT id, room_id, uploader_id, message_id, content_type, width, height FROM uploads WHERE id IN (?) ORDER BY id FOR UPDATE'
            : ''),
        uploadIds.length > 0 ? [roomIds, uploadIds] : [roomIds],
      );
      const roomRows = opened[1] ?? [];
      const photos = new Map((opened[2] ?? []).map((r) => [String(r.id), r]));
      const lastSeq = new Map<string, number>(roomRows.map((r) => [String(r.id), Number(r.last_seq)]));

      const existing = new Map<string, StoredMessage>();
      if (lookForRepeats) {
        const keyed = batch.filter((p) => p.input.clientMsgId !== null && lastSeq.has(p.input.roomId));
        if (keyed.length > 0) {
          const [rows] = await conn.query<RowDataPacket[]>(
            'SELECT id, room_id, seq, sender_id, content, client_msg_id, created_at, deleted_at FROM messages WHERE (room_id, sender_id, client_msg_id) IN (?)',
            [keyed.map((p) => [p.input.roomId, p.input.senderId, p.input.clientMsgId])],
          );
          for (const r of rows) existing.set(dedupeKey(r.room_id, r.sender_id, r.client_msg_id), toStored(r));
          await attachStored(conn, [...existing.values()]);
        }
      }

      const now = new Date();
      const insertRows: Array<[string, number, string, string, string | null, Date]> = [];
      const fresh: StoredMessage[] = [];
      const accepted: Array<{ index: number; message: StoredMessage; duplicate: boolean }> = [];
      const inBatch = new Map<string, StoredMessage>();
      /** upload id → index in `fresh` of the message that claims it */
      const claims = new Map<string, number>();
      batch.forEach((p, index) => {
        const { roomId, senderId, content, clientMsgId } = p.input;
        const seq = lastSeq.get(roomId);
        if (seq === undefined) {
          results[index] = new ChatError('NOT_FOUND');
          return;
        }
        const key = clientMsgId === null ? undefined : dedupeKey(roomId, senderId, clientMsgId);
        const stored = key && (existing.get(key) ?? inBatch.get(key));
        if (stored) {
          accepted.push({ index, message: stored, duplicate: true });
          return;
        }
        const wanted = p.input.attachments ?? [];
        const refused = wanted.map((id) => refusePhoto(id, photos.get(id), p.input, claims)).find((e) => e !== null);
        if (refused) {
          results[index] = refused;
          return;
        }
        const attachments: StoredAttachment[] = wanted.map((id) => {
          const r = photos.get(id)!;
          claims.set(id, fresh.length);
          return { id, contentType: String(r.content_type), width: Number(r.width), height: Number(r.height) };
        });
        const message: StoredMessage = { id: 0, roomId, seq: seq + 1, senderId, content, clientMsgId, createdAt: now, deletedAt: null, attachments };
        lastSeq.set(roomId, seq + 1);
        if (key) inBatch.set(key, message);
        insertRows.push([roomId, seq + 1, senderId, content, clientMsgId, now]);
        fresh.push(message);
        accepted.push({ index, message, duplicate: false });
      });

      if (insertRows.length === 0) {
        await conn.query('COMMIT');
      } else {
        // newest message per room → rooms.last_*, one statement for every room of the batch
        const newestIndex = new Map<string, number>();
        fresh.forEach((m, i) => newestIndex.set(m.roomId, i));
        const touched = [...newestIndex.entries()];
        const seqCase = touched.map(() => 'WHEN ? THEN ?').join(' ');
        const seqParams = touched.flatMap(([roomId, i]) => [roomId, fresh[i]!.seq]);
        const insertSql = 'INSERT INTO messages (room_id, seq, sender_id, content, client_msg_id, created_at) VALUES ?';
        const claimed = [...claims.entries()];
        if (this.consecutiveIds) {
          const idCase = touched.map(() => 'WHEN ? THEN LAST_INSERT_ID() + ?').join(' ');
          const idParams = touched.flatMap(([roomId, i]) => [roomId, i * this.autoIncStep]);
          // LAST_INSERT_ID() stays the INSERT's first id through both UPDATEs (neither inserts)
          const claimSql =
            claimed.length > 0
              ? `; UPDATE uploads SET message_id = CASE id ${claimed.map(() => 'WHEN ? THEN LAST_INSERT_ID() + ?').join(' ')} END WHERE id IN (?)`
              : '';
          const claimParams =
            claimed.length > 0 ? [...claimed.flatMap(([id, i]) => [id, i * this.autoIncStep]), claimed.map(([id]) => id)] : [];
          const [done] = await conn.query<ResultSetHeader[]>(
            `${insertSql}; UPDATE rooms SET last_seq = CASE id ${seqCase} END, last_message_id = CASE id ${idCase} END, last_activity_at = ? WHERE id IN (?)${claimSql}; COMMIT`,
            [insertRows, ...seqParams, ...idParams, now, touched.map(([roomId]) => roomId), ...claimParams],
          );
          const firstId = done[0]!.insertId;
          fresh.forEach((m, i) => (m.id = firstId + i * this.autoIncStep));
        } else {
          await conn.query(insertSql, [insertRows]);
          const [rows] = await conn.query<RowDataPacket[]>('SELECT id, room_id, seq FROM messages WHERE (room_id, seq) IN (?)', [
            fresh.map((m) => [m.roomId, m.seq]),
          ]);
          const ids = new Map(rows.map((r) => [`${r.room_id}\u0000${r.seq}`, Number(r.id)]));
          for (const m of fresh) m.id = ids.get(`${m.roomId}\u0000${m.seq}`) ?? 0;
          const idCase = touched.map(() => 'WHEN ? THEN ?').join(' ');
          const idParams = touched.flatMap(([roomId, i]) => [roomId, fresh[i]!.id]);
          const claimSql =
            claimed.length > 0 ? `; UPDATE uploads SET message_id = CASE id ${claimed.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (?)` : '';
          const claimParams = claimed.length > 0 ? [...claimed.flatMap(([id, i]) => [id, fresh[i]!.id]), claimed.map(([id]) => id)] : [];
          await conn.query(
            `UPDATE rooms SET last_seq = CASE id ${seqCase} END, last_message_id = CASE id ${idCase} END, last_activity_at = ? WHERE id IN (?)${claimSql}; COMMIT`,
            [...seqParams, ...idParams, now, touched.map(([roomId]) => roomId), ...claimParams],
          );
        }
      }
      for (const a of accepted) results[a.index] = { message: a.message, duplicate: a.duplicate };
      return { results, fresh };
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}

/** why a photo cannot go with this message, or null when it can */
function refusePhoto(id: string, row: RowDataPacket | undefined, input: AppendInput, claims: Map<string, number>): ChatError | null {
  if (!row || String(row.room_id) !== input.roomId || String(row.uploader_id) !== input.senderId) {
    return new ChatError('BAD_REQUEST', `attachments: ${id} is not a photo you uploaded into this room`);
  }
  if (row.message_id !== null || claims.has(id)) {
    return new ChatError('BAD_REQUEST', `attachments: ${id} is already attached to another message`);
  }
  return null;
}

/** loads the photos of stored messages (one query) into their `attachments` */
export async function attachStored(conn: Pick<PoolConnection, 'query'>, messages: StoredMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT id, message_id, content_type, width, height FROM uploads WHERE message_id IN (?) ORDER BY created_at, id',
    [messages.map((m) => m.id)],
  );
  const byMessage = new Map<number, StoredAttachment[]>();
  for (const r of rows) {
    const list = byMessage.get(Number(r.message_id)) ?? [];
    list.push({ id: String(r.id), contentType: String(r.content_type), width: Number(r.width), height: Number(r.height) });
    byMessage.set(Number(r.message_id), list);
  }
  for (const m of messages) m.attachments = byMessage.get(m.id) ?? [];
}

function dedupeKey(roomId: string, senderId: string, clientMsgId: string): string {
  return `${roomId}\u0000${senderId}\u0000${clientMsgId}`;
}

export function toStored(r: RowDataPacket): StoredMessage {
  return {
    id: Number(r.id),
    roomId: String(r.room_id),
    seq: Number(r.seq),
    senderId: String(r.sender_id),
    content: String(r.content),
    clientMsgId: r.client_msg_id === null ? null : String(r.client_msg_id),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    deletedAt: r.deleted_at == null ? null : r.deleted_at instanceof Date ? r.deleted_at : new Date(r.deleted_at),
  };
}

