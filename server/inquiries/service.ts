/**
 * InquiryService: customers' inquiries, stored in MySQL first and then mailed to support by the
 * mail worker (mail-worker.ts, which states the delivery steps and guarantees).
 *
 *  - `create()` rate-limits the author, inserts the row as `pending` (due now), reads it back
 *    in the same transaction and then wakes the worker. Once it returns, the inquiry is stored,
 *    whatever happens to the mail: no inquiry is lost, and it leaves `pending` only as `sent`
 *    or `failed`.
 *  - The rate limit is counted in Redis across instances (per instance while Redis is away).
 *    Anonymous authors are keyed by the email they give, so it caps mail to one address, not
 *    one sender who changes addresses.
 */
import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import { drizzleOn, type Db } from '../db/client.js';
import { inquiries } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { MailTransport } from '../mail/transport.js';
import { ChatError } from '../shared/errors.js';
import { SharedWindowLimiter } from '../shared/shared-limiter.js';
import { InquiryMailWorker } from './mail-worker.js';
import { readInquiry, toView, type InquiryRow, type InquiryStatus, type InquiryView } from './rows.js';

export type { InquiryStatus, InquiryView };

export interface NewInquiry {
  name: string;
  email: string;
  phone?: string | null | undefined;
  category?: string | null | undefined;
  message: string;
}

export interface InquiryServiceOptions {
  pool: Pool;
  mail: MailTransport;
  logger: Logger;
  /** where inquiries are mailed */
  supportEmail: string;
  /** From: of both mails */
  mailFrom: string;
  /** attempts at the support mail before the inquiry is `failed` */
  maxAttempts: number;
  /** first retry delay; doubles with each failed attempt */
  retryBaseMs: number;
  /** inquiries one author (user id, or email when anonymous) may create per hour */
  ratePerHour: number;
  /** where `ratePerHour` is counted across instances; without it, in this process only */
  redis?: Redis | null;
  /** ceiling of the retry delay; default 1 h */
  retryCapMs?: number;
  /** how often the worker looks for due inquiries; create() wakes it at once anyway. Default 1.5 s */
  pollMs?: number;
  /** how long a claimed inquiry stays reserved for its worker (see mail-worker.ts). Default 2 min. */
  leaseMs?: number;
}

const MAX_LIST = 100;
const HOUR_MS = 3_600_000;

export class InquiryService {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly limiter: SharedWindowLimiter;
  private readonly worker: InquiryMailWorker;

  constructor(opts: InquiryServiceOptions) {
    this.db = drizzleOn(opts.pool);
    this.logger = opts.logger;
    this.limiter = new SharedWindowLimiter(opts.redis ?? null, { name: 'inquiries', limit: opts.ratePerHour, windowMs: HOUR_MS }, opts.logger);
    this.worker = new InquiryMailWorker(opts);
  }

  /** Stores the inquiry as `pending`, then wakes the mail worker. Input was validated at the edge. */
  async create(input: NewInquiry, author: { id: string } | null): Promise<InquiryView> {
    const key = author ? `user:${author.id}` : `email:${input.email.toLowerCase()}`;
    if (!(await this.limiter.take(key))) {
      throw new ChatError('TOO_MANY_REQUESTS', 'too many inquiries in the last hour, please try again later');
    }
    let row: InquiryRow | undefined;
    try {
      row = await this.insert(input, author);
    } catch (err) {
      this.logger.error({ err }, 'could not store an inquiry');
      throw new ChatError('UNAVAILABLE', 'the inquiry could not be stored, please try again');
    }
    this.worker.wake();
    return toView(row);
  }

  /**
   * INSERT and read back in one transaction: no worker can claim the row before it commits, so
   * the caller gets the inquiry exactly as stored (pending, no attempts), never a worker's update.
   */
  private insert(input: NewInquiry, author: { id: string } | null): Promise<InquiryRow> {
    return this.db.transaction(async (tx) => {
      const now = sql`NOW(3)`;
      const [created] = await tx
        .insert(inquiries)
        .values({
          userId: author?.id ?? null,
          name: input.name,
          email: input.email,
          phone: input.phone ?? null,
          category: input.category ?? null,
          message: input.message,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        })
        .$returningId();
      const row = created && (await readInquiry(tx, created.id));
      if (!row) throw new Error(`inquiry ${created?.id} not found right after its INSERT`);
      return row;
    });
  }

  /**
   * The caller's own inquiries, newest first (at most 100). `lastError` is left out: it is an
   * SMTP server's answer, meant for operators, not customers.
   */
  async mine(userId: string): Promise<InquiryView[]> {
    const rows = await this.db.select().from(inquiries).where(eq(inquiries.userId, userId)).orderBy(desc(inquiries.id)).limit(MAX_LIST);
    return rows.map((r) => ({ ...toView(r), lastError: null }));
  }

  /** Every inquiry, newest first, keyset-paginated by id (admin). */
  async list(opts: { cursor?: string; limit: number; status?: InquiryStatus }): Promise<{
    inquiries: InquiryView[];
    nextCursor: string | null;
  }> {
    const limit = Math.min(MAX_LIST, Math.max(1, Math.trunc(opts.limit)));
    const where: SQL[] = [];
    if (opts.cursor !== undefined) {
      if (!/^\d{1,20}$/.test(opts.cursor)) throw new ChatError('BAD_REQUEST', 'cursor must be an inquiry id');
      // exact comparison: a string compared with a BIGINT would go through a double
      where.push(lt(inquiries.id, sql`CAST(${opts.cursor} AS UNSIGNED)`));
    }
    if (opts.status) where.push(eq(inquiries.status, opts.status));
    const rows = await this.db
      .select()
      .from(inquiries)
      .where(and(...where))
      .orderBy(desc(inquiries.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit).map(toView);
    const last = page[page.length - 1];
    return { inquiries: page, nextCursor: rows.length > limit && last ? last.id : null };
  }

  /** Starts the mail worker: a pass now, then every pollMs and whenever create() stores one. */
  start(): void {
    this.worker.start();
  }

  /** Stops the worker and waits for the inquiry in hand; the pool and transport belong to the caller. */
  close(): Promise<void> {
    return this.worker.close();
  }
}
