/**
 * InquiryService: customers' inquiries, stored in MySQL first and then mailed to support by the
 * mail worker (mail-worker.ts, which states the delivery steps and guarantees).
 *
 *  - `create()` rate-limits the author, inserts the row as `pending` (due now), reads it back
 *    in the same transaction and then wakes the worker. Once it returns, the inquiry is stored,
 *    whatever happens to the mail: no inquiry is lost, and it leaves `pending` only as `sent`
 *    or `failed`.
 *  - The rate limit is counted in Redis across instances (per instance while Redis is away),
 *    per client address always and per user when signed in: the email typed in the form is
 *    not a key, since a sender can change it at will.
 *  - A signed-in author's email, as their identity provider states it, is kept in `users.email`:
 *    the worker sends the confirmation only there (see mail-worker.ts).
 */
import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { drizzleOn, type Db } from '../db/client.js';
import { inquiries, users } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { ChatError } from '../shared/errors.js';
import { SharedWindowLimiter } from '../shared/shared-limiter.js';
import { InquiryMailWorker, type InquiryMailWorkerOptions } from './mail-worker.js';
import { readInquiry, toView, type InquiryRow, type InquiryStatus, type InquiryView } from './rows.js';

export type { InquiryStatus, InquiryView };

/** who wrote an inquiry, when signed in; `email` only as the verified token or session states it */
export interface InquiryAuthor {
  id: string;
  name?: string;
  email?: string;
}

export interface NewInquiry {
  name: string;
  email: string;
  phone?: string | null | undefined;
  category?: string | null | undefined;
  message: string;
}

/** the mail worker's options (the service builds and starts it) plus the creation limits */
export interface InquiryServiceOptions extends InquiryMailWorkerOptions {
  /** inquiries one signed-in user, and one client address, may create per hour */
  ratePerHour: number;
  /** told when a limit refuses an inquiry, by which limit */
  onRefused?: (limit: 'inquiry_user' | 'inquiry_address') => void;
  /** where `ratePerHour` is counted across instances; without it, in this process only */
  redis?: Redis | null;
}

const MAX_LIST = 100;
const HOUR_MS = 3_600_000;

export class InquiryService {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly limiter: SharedWindowLimiter;
  private readonly worker: InquiryMailWorker;
  private readonly onRefused: InquiryServiceOptions['onRefused'];

  constructor(opts: InquiryServiceOptions) {
    this.db = drizzleOn(opts.pool);
    this.logger = opts.logger;
    this.limiter = new SharedWindowLimiter(opts.redis ?? null, { name: 'inquiries', limit: opts.ratePerHour, windowMs: HOUR_MS }, opts.logger);
    this.worker = new InquiryMailWorker(opts);
    this.onRefused = opts.onRefused;
  }

  /** Stores the inquiry as `pending`, then wakes the mail worker. Input was validated at the edge. */
  async create(input: NewInquiry, author: InquiryAuthor | null, clientAddress: string): Promise<InquiryView> {
    if (author && !(await this.limiter.take(`user:${author.id}`))) this.refuse('inquiry_user');
    if (!(await this.limiter.take(`addr:${clientAddress}`))) this.refuse('inquiry_address');
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

  private refuse(limit: 'inquiry_user' | 'inquiry_address'): never {
    this.onRefused?.(limit);
    throw new ChatError('TOO_MANY_REQUESTS', 'too many inquiries in the last hour, please try again later');
  }

  /**
   * INSERT and read back in one transaction: no worker can claim the row before it commits, so
   * the caller gets the inquiry exactly as stored (pending, no attempts), never a worker's update.
   */
  private insert(input: NewInquiry, author: InquiryAuthor | null): Promise<InquiryRow> {
    return this.db.transaction(async (tx) => {
      const now = sql`NOW(3)`;
      if (author?.email) {
        // the identity provider's word on the author's address: where the confirmation may go
        await tx
          .insert(users)
          .values({ id: author.id, name: author.name ?? author.id, email: author.email })
          .onDuplicateKeyUpdate({ set: { email: author.email, updatedAt: now } });
      }
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
