/**
 * The store path of messages, with group commit: appends queued while a transaction is in
 * flight are written together by the next one (one multi-row INSERT, one fsync), so throughput
 * grows with load while every caller is still answered only after its own row is committed.
 *
 * Invariants:
 * - One batch in flight per instance, and batches commit in queue order, so this instance
 *   announces its messages in commit order.
 * - Inside a batch the room rows are locked (SELECT … FOR UPDATE, in sorted id order to avoid
 *   deadlocks between instances) before seq values are taken, so within a room seq, id and
 *   commit order agree across all instances.
 * - A repeated clientMsgId of the same sender in the same room resolves to the stored message.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Logger } from '../logger.js';
import { ChatError } from './errors.js';
import type { StoredMessage } from './events.js';

export interface AppendInput {
  roomId: string;
  senderId: string;
  content: string;
  clientMsgId: string | null;
  /** room members at the time of sending, carried to the delivery step */
  members?: string[];
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
  /** called once per committed batch, in commit order, with the newly stored messages */
  onCommitted(messages: StoredMessage[]): void;
}

export class MessageStore {
  private queue: Pending[] = [];
  private flushing = false;
  private readonly maxBatch: number;
  private idleWaiters: Array<() => void> = [];
  private autoIncStep = 1;
  private stepRead = false;
  private consecutiveIds = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly opts: MessageStoreOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
  }

  append(input: AppendInput): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // let the rest of this tick's sends join the batch
        setImmediate(() => void this.drain());
      }
    });
  }

  /** resolves once everything queued so far is committed or failed (shutdown) */
  idle(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      await this.writeBatch(batch);
    }
    this.flushing = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let conn: PoolConnection | undefined;
      try {
        conn = await this.pool.getConnection();
        if (!this.stepRead) {
          const [r] = await conn.query<RowDataPacket[]>(
            'SELECT @@auto_increment_increment AS step, @@innodb_autoinc_lock_mode AS mode',
          );
          this.autoIncStep = Number(r[0]?.step ?? 1);
          this.consecutiveIds = Number(r[0]?.mode ?? 2) < 2;
          this.stepRead = true;
        }
        const outcome = await this.writeInTransaction(conn, batch);
        // announce before answering callers: delivery order must equal commit order
        if (outcome.fresh.length > 0) {
          try {
            this.opts.onCommitted(outcome.fresh);
          } catch (err) {
            this.logger.error({ err }, 'delivery after commit failed');
          }
        }
        batch.forEach((p, i) => {
          const r = outcome.results[i];
          if (r instanceof Error) p.reject(r);
          else if (r) p.resolve(r);
        });
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        const retriable = code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
        if (retriable && attempt < 5) {
          this.logger.warn({ code, attempt }, 'message batch retried');
          continue;
        }
        this.logger.error({ err, size: batch.length }, 'message batch failed');
        const failure = new ChatError('UNAVAILABLE');
        for (const p of batch) p.reject(failure);
        return;
      } finally {
        conn?.release();
      }
    }
  }

  private async writeInTransaction(
    conn: PoolConnection,
    batch: Pending[],
  ): Promise<{ results: Array<AppendResult | Error | undefined>; fresh: StoredMessage[] }> {
    const results: Array<AppendResult | Error | undefined> = new Array(batch.length);
    await conn.beginTransaction();
    try {
      const roomIds = [...new Set(batch.map((p) => p.input.roomId))].sort();
      const [roomRows] = await conn.query<RowDataPacket[]>(
        'SELECT id, last_seq FROM rooms WHERE id IN (?) ORDER BY id FOR UPDATE',
        [roomIds],
      );
      const lastSeq = new Map<string, number>(roomRows.map((r) => [String(r.id), Number(r.last_seq)]));

      // idempotency: earlier rows with the same (room, sender, clientMsgId)
      const keyed = batch.filter((p) => p.input.clientMsgId !== null && lastSeq.has(p.input.roomId));
      const existing = new Map<string, StoredMessage>();
      if (keyed.length > 0) {
        const [rows] = await conn.query<RowDataPacket[]>(
          'SELECT id, room_id, seq, sender_id, content, client_msg_id, created_at FROM messages WHERE (room_id, sender_id, client_msg_id) IN (?)',
          [keyed.map((p) => [p.input.roomId, p.input.senderId, p.input.clientMsgId])],
        );
        for (const r of rows) existing.set(dedupeKey(r.room_id, r.sender_id, r.client_msg_id), toStored(r));
      }

      const now = new Date();
      const insertRows: Array<[string, number, string, string, string | null, Date]> = [];
      const fresh: StoredMessage[] = [];
      const accepted: Array<{ index: number; message: StoredMessage; duplicate: boolean }> = [];
      const inBatch = new Map<string, StoredMessage>();
      batch.forEach((p, index) => {
        const { roomId, senderId, content, clientMsgId, members } = p.input;
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
        const message: StoredMessage = { id: 0, roomId, seq: seq + 1, senderId, content, clientMsgId, createdAt: now };
        if (members) message.members = members;
        lastSeq.set(roomId, seq + 1);
        if (key) inBatch.set(key, message);
        insertRows.push([roomId, seq + 1, senderId, content, clientMsgId, now]);
        fresh.push(message);
        accepted.push({ index, message, duplicate: false });
      });

      if (insertRows.length > 0) {
        const [res] = await conn.query<ResultSetHeader>(
          'INSERT INTO messages (room_id, seq, sender_id, content, client_msg_id, created_at) VALUES ?',
          [insertRows],
        );
        if (this.consecutiveIds) {
          // a multi-row INSERT takes consecutive auto-increment values in row order
          // (innodb_autoinc_lock_mode 0 or 1, read at the first batch)
          fresh.forEach((m, i) => (m.id = res.insertId + i * this.autoIncStep));
        } else {
          const [rows] = await conn.query<RowDataPacket[]>(
            'SELECT id, room_id, seq FROM messages WHERE (room_id, seq) IN (?)',
            [fresh.map((m) => [m.roomId, m.seq])],
          );
          const ids = new Map(rows.map((r) => [`${r.room_id}\u0000${r.seq}`, Number(r.id)]));
          for (const m of fresh) m.id = ids.get(`${m.roomId}\u0000${m.seq}`) ?? 0;
        }
        // newest message per room → rooms.last_*, one statement for every room of the batch
        const newest = new Map<string, StoredMessage>();
        for (const m of fresh) newest.set(m.roomId, m);
        const touched = [...newest.values()];
        const seqCase = touched.map(() => 'WHEN ? THEN ?').join(' ');
        await conn.query(
          `UPDATE rooms SET last_seq = CASE id ${seqCase} END, last_message_id = CASE id ${seqCase} END, last_activity_at = ? WHERE id IN (?)`,
          [...touched.flatMap((m) => [m.roomId, m.seq]), ...touched.flatMap((m) => [m.roomId, m.id]), now, touched.map((m) => m.roomId)],
        );
      }
      await conn.commit();
      for (const a of accepted) results[a.index] = { message: a.message, duplicate: a.duplicate };
      return { results, fresh };
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    }
  }
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
  };
}
