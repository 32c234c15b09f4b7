/**
 * InquiryService: customers' inquiries, stored in MySQL first and then mailed to support by a
 * worker that works from the `inquiries` table, so retries survive restarts and several
 * instances can run the worker side by side.
 *
 * Delivery, step by step:
 *  1. `create()` rate-limits the author, inserts the row as `pending` (due now), reads it back
 *     in the same transaction and then wakes the worker. Once it returns, the inquiry is
 *     stored, whatever happens to the mail.
 *  2. The worker claims a due row with one conditional UPDATE (`… WHERE status = 'pending' AND
 *     next_attempt_at <= NOW(3)`) that also counts the attempt and pushes `next_attempt_at` one
 *     lease ahead. Row locks make exactly one claimer see affectedRows = 1; the others move on.
 *     The attempt number it leaves behind is the claim's fencing token: every later UPDATE of
 *     that attempt requires `attempts = <ours>`, so a worker whose lease ran out cannot
 *     overwrite the outcome of the worker that took over.
 *  3. It sends the support mail (to SUPPORT_EMAIL, Reply-To the customer). Accepted → the row
 *     becomes `sent`. Refused or unreachable → `last_error`, and `next_attempt_at` moves by
 *     retryBaseMs·2^(attempts-1) (capped, with jitter); the claim that makes the maxAttempts-th
 *     attempt marks it `failed` instead. The row is never deleted.
 *  4. Only then the confirmation goes to the customer. The schema has no column for "support
 *     mail done, confirmation pending", so the confirmation is best-effort: one retry after
 *     retryBaseMs, then a logged warning. The alternative — keeping the row pending until both
 *     mails are out — would resend the support mail whenever only the confirmation failed.
 *
 * Guarantees and their limits:
 *  - No inquiry is lost: it is stored before create() returns, and it leaves `pending` only as
 *    `sent` or `failed`.
 *  - The support mail is sent at least once, and once in the normal course: a crash (or a DB
 *    outage) between the SMTP server accepting the mail and the `sent` UPDATE sends it again
 *    after the lease, and so would a send that outlived its lease (the SMTP transport bounds
 *    sends to well under the default lease).
 *  - A claim that crashed still counts as an attempt; if it was the last one, one extra attempt
 *    is made before the row becomes `failed`.
 *  - The rate limit is counted in Redis across instances (per instance while Redis is away).
 *    Anonymous authors are keyed by the email they give, so it caps mail to one address, not
 *    one sender who changes addresses.
 * Every "now" is the database's NOW(3), so instances with skewed clocks agree on what is due.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ChatError } from '../shared/errors.js';
import type { Redis } from 'ioredis';
import { SharedWindowLimiter } from '../shared/shared-limiter.js';
import type { Logger } from '../logger.js';
import type { MailTransport, OutgoingMail } from '../mail/transport.js';

export type InquiryStatus = 'pending' | 'sent' | 'failed';

/** an inquiry as the API returns it: ids are decimal strings, times ISO-8601 strings */
export interface InquiryView {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  category: string | null;
  message: string;
  status: InquiryStatus;
  /** delivery attempts made so far (a claim counts even when it did not finish) */
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

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
  /**
   * how long a claimed inquiry stays reserved for its worker. Must exceed the longest send
   * (the SMTP transport's timeouts) or another worker may send it too. Default 2 min.
   */
  leaseMs?: number;
}

interface InquiryRow extends RowDataPacket {
  id: number | string;
  user_id: string | null;
  name: string;
  email: string;
  phone: string | null;
  category: string | null;
  message: string;
  status: InquiryStatus;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

const SELECT_INQUIRY =
  'SELECT id, user_id, name, email, phone, category, message, status, attempts, last_error, created_at, updated_at, sent_at FROM inquiries';
const MAX_LIST = 100;
const MAX_ERROR_CHARS = 1000;
const CLAIM_BATCH = 10;
const HOUR_MS = 3_600_000;

export class InquiryService {
  private readonly pool: Pool;
  private readonly mail: MailTransport;
  private readonly logger: Logger;
  private readonly supportEmail: string;
  private readonly mailFrom: string;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly limiter: SharedWindowLimiter;

  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | null = null;
  /** create() arrived while a pass was running: run another one right after it */
  private wokenDuringPass = false;
  /** cancels the wait before a confirmation's retry on close() */
  private stopping = new AbortController();

  constructor(opts: InquiryServiceOptions) {
    this.pool = opts.pool;
    this.mail = opts.mail;
    this.logger = opts.logger;
    this.supportEmail = opts.supportEmail;
    this.mailFrom = opts.mailFrom;
    this.maxAttempts = Math.max(1, opts.maxAttempts);
    this.retryBaseMs = opts.retryBaseMs;
    this.retryCapMs = opts.retryCapMs ?? HOUR_MS;
    this.pollMs = opts.pollMs ?? 1_500;
    this.leaseMs = opts.leaseMs ?? 120_000;
    this.limiter = new SharedWindowLimiter(opts.redis ?? null, { name: 'inquiries', limit: opts.ratePerHour, windowMs: HOUR_MS }, opts.logger);
  }

  // ---------------------------------------------------------------- API

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
    this.wake();
    return toView(row);
  }

  /**
   * INSERT and read back in one transaction: no worker can claim the row before it commits, so
   * the caller gets the inquiry exactly as stored (pending, no attempts), never a worker's update.
   */
  private async insert(input: NewInquiry, author: { id: string } | null): Promise<InquiryRow> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const [res] = await conn.query<ResultSetHeader>(
        `INSERT INTO inquiries (user_id, name, email, phone, category, message, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, NOW(3), NOW(3), NOW(3))`,
        [author?.id ?? null, input.name, input.email, input.phone ?? null, input.category ?? null, input.message],
      );
      const [rows] = await conn.query<InquiryRow[]>(`${SELECT_INQUIRY} WHERE id = ?`, [res.insertId]);
      await conn.commit();
      const row = rows[0];
      if (!row) throw new Error(`inquiry ${res.insertId} not found right after its INSERT`);
      return row;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  /**
   * The caller's own inquiries, newest first (at most 100). `lastError` is left out: it is an
   * SMTP server's answer, meant for operators, not customers.
   */
  async mine(userId: string): Promise<InquiryView[]> {
    const [rows] = await this.pool.query<InquiryRow[]>(`${SELECT_INQUIRY} WHERE user_id = ? ORDER BY id DESC LIMIT ?`, [
      userId,
      MAX_LIST,
    ]);
    return rows.map((r) => ({ ...toView(r), lastError: null }));
  }

  /** Every inquiry, newest first, keyset-paginated by id (admin). */
  async list(opts: { cursor?: string; limit: number; status?: InquiryStatus }): Promise<{
    inquiries: InquiryView[];
    nextCursor: string | null;
  }> {
    const limit = Math.min(MAX_LIST, Math.max(1, Math.trunc(opts.limit)));
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.cursor !== undefined) {
      if (!/^\d{1,20}$/.test(opts.cursor)) throw new ChatError('BAD_REQUEST', 'cursor must be an inquiry id');
      // exact comparison: a string compared with a BIGINT would go through a double
      where.push('id < CAST(? AS UNSIGNED)');
      params.push(opts.cursor);
    }
    if (opts.status) {
      where.push('status = ?');
      params.push(opts.status);
    }
    const [rows] = await this.pool.query<InquiryRow[]>(
      `${SELECT_INQUIRY}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const page = rows.slice(0, limit).map(toView);
    const last = page[page.length - 1];
    return { inquiries: page, nextCursor: rows.length > limit && last ? last.id : null };
  }

  // ---------------------------------------------------------------- worker

  /** Starts the mail worker: a pass now, then every pollMs and whenever create() stores one. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.runPass();
  }

  /** Stops the worker and waits for the inquiry in hand; the pool and transport belong to the caller. */
  async close(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.draining;
  }

  private wake() {
    if (!this.running) return;
    if (this.draining) this.wokenDuringPass = true;
    else this.runPass();
  }

  private runPass() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wokenDuringPass = false;
    this.draining = this.drain()
      .catch((err: unknown) => {
        // usually the database being away; the rows wait, nothing is lost
        this.logger.warn({ err }, 'inquiry mail pass failed');
      })
      .finally(() => {
        this.draining = null;
        if (!this.running) return;
        if (this.wokenDuringPass) this.runPass();
        else {
          this.timer = setTimeout(() => this.runPass(), this.pollMs);
          this.timer.unref();
        }
      });
  }

  /** claims and delivers due inquiries until none is left that another worker has not taken */
  private async drain(): Promise<void> {
    while (this.running) {
      const [due] = await this.pool.query<RowDataPacket[]>(
        `SELECT id FROM inquiries WHERE status = 'pending' AND next_attempt_at <= NOW(3)
         ORDER BY next_attempt_at, id LIMIT ?`,
        [CLAIM_BATCH],
      );
      if (due.length === 0) return;
      let claimed = 0;
      for (const { id } of due) {
        if (!this.running) return;
        const row = await this.claim(String(id));
        if (!row) continue;
        claimed++;
        await this.deliver(row);
      }
      // every candidate was taken by another worker; look again at the next poll
      if (claimed === 0) return;
    }
  }

  /** one conditional UPDATE: exactly one worker gets affectedRows = 1 for a due row */
  private async claim(id: string): Promise<InquiryRow | null> {
    const [res] = await this.pool.query<ResultSetHeader>(
      `UPDATE inquiries
          SET attempts = attempts + 1,
              next_attempt_at = NOW(3) + INTERVAL ? MICROSECOND,
              updated_at = NOW(3)
        WHERE id = ? AND status = 'pending' AND next_attempt_at <= NOW(3)`,
      [this.leaseMs * 1000, id],
    );
    if (res.affectedRows !== 1) return null;
    // the lease keeps everyone else off this row while we read it
    return this.row(id);
  }

  private async deliver(row: InquiryRow): Promise<void> {
    const id = String(row.id);
    const attempt = row.attempts;
    try {
      await this.mail.send(supportMail(row, { from: this.mailFrom, to: this.supportEmail }));
    } catch (err) {
      await this.recordFailure(row, err);
      return;
    }
    const [res] = await this.pool.query<ResultSetHeader>(
      `UPDATE inquiries SET status = 'sent', sent_at = NOW(3), updated_at = NOW(3)
        WHERE id = ? AND status = 'pending' AND attempts = ?`,
      [id, attempt],
    );
    if (res.affectedRows !== 1) {
      // our lease ran out and another worker took the row: it owns the confirmation too
      this.logger.warn({ inquiryId: id, attempt }, 'inquiry was re-claimed while its support mail was being sent');
      return;
    }
    this.logger.info({ inquiryId: id, attempt }, 'inquiry mailed to support');
    await this.confirm(row);
  }

  private async recordFailure(row: InquiryRow, err: unknown) {
    const id = String(row.id);
    const attempt = row.attempts;
    const lastError = describeError(err);
    const giveUp = attempt >= this.maxAttempts;
    const delayMs = retryDelayMs(attempt, { baseMs: this.retryBaseMs, capMs: this.retryCapMs });
    await this.pool.query(
      `UPDATE inquiries
          SET status = ?, last_error = ?, next_attempt_at = NOW(3) + INTERVAL ? MICROSECOND, updated_at = NOW(3)
        WHERE id = ? AND status = 'pending' AND attempts = ?`,
      [giveUp ? 'failed' : 'pending', lastError, Math.round(delayMs * 1000), id, attempt],
    );
    if (giveUp) this.logger.error({ inquiryId: id, attempt, lastError }, 'inquiry could not be mailed to support; giving up');
    else this.logger.warn({ inquiryId: id, attempt, lastError, retryInMs: Math.round(delayMs) }, 'inquiry mail failed; will retry');
  }

  /** best-effort (see the header): one retry, then a warning */
  private async confirm(row: InquiryRow) {
    const mail = confirmationMail(row, { from: this.mailFrom, replyTo: this.supportEmail });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.mail.send(mail);
        return;
      } catch (err) {
        if (attempt >= 2 || this.stopping.signal.aborted) {
          this.logger.warn({ inquiryId: String(row.id), err: describeError(err) }, 'confirmation to the customer was not sent');
          return;
        }
        await sleep(this.retryBaseMs, this.stopping.signal);
      }
    }
  }

  private async row(id: number | string): Promise<InquiryRow | null> {
    const [rows] = await this.pool.query<InquiryRow[]>(`${SELECT_INQUIRY} WHERE id = ?`, [id]);
    return rows[0] ?? null;
  }
}

// ---------------------------------------------------------------- retry schedule

/**
 * Delay before the attempt after the `attempts`-th failed one: baseMs·2^(attempts-1), capped at
 * capMs, plus up to `jitter` of it at random so that inquiries that failed together (an SMTP
 * outage) do not all come back in the same instant.
 */
export function retryDelayMs(
  attempts: number,
  opts: { baseMs: number; capMs?: number; jitter?: number; random?: () => number },
): number {
  const capMs = opts.capMs ?? HOUR_MS;
  const exponent = Math.min(Math.max(0, attempts - 1), 52);
  const delay = Math.min(capMs, opts.baseMs * 2 ** exponent);
  return delay + delay * (opts.jitter ?? 0.2) * (opts.random ?? Math.random)();
}

// ---------------------------------------------------------------- mail bodies

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** a subject built from user text: one line (no header injection), not endless */
export function subjectLine(text: string, max = 200): string {
  const line = text.replace(/[\r\n\t\u2028\u2029]+/g, ' ').replace(/\p{Cc}/gu, '').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** the fields of a stored inquiry, as both mails show them */
export interface InquiryMailFields {
  id: number | string;
  user_id: string | null;
  name: string;
  email: string;
  phone: string | null;
  category: string | null;
  message: string;
  created_at: Date;
}

function fieldList(row: InquiryMailFields): Array<[string, string]> {
  return [
    ['Inquiry', `#${row.id}`],
    ['Received', row.created_at.toISOString()],
    ['Name', row.name],
    ['Email', row.email],
    ['Phone', row.phone ?? '(not given)'],
    ['Category', row.category ?? '(not given)'],
  ];
}

function htmlDocument(intro: string, fields: Array<[string, string]>, message: string, outro: string): string {
  const rows = fields
    .map(([k, v]) => `<tr><th align="left" style="padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  return [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif">',
    `<p>${escapeHtml(intro)}</p>`,
    `<table>\n${rows}\n</table>`,
    `<pre style="white-space:pre-wrap;font-family:inherit;border-left:3px solid #ccc;padding-left:1em">${escapeHtml(message)}</pre>`,
    `<p>${escapeHtml(outro)}</p>`,
    '</body></html>',
  ].join('\n');
}

function textDocument(intro: string, fields: Array<[string, string]>, message: string, outro: string): string {
  return [intro, '', ...fields.map(([k, v]) => `${k}: ${v}`), '', 'Message:', message, '', outro, ''].join('\n');
}

/** the mail to support; replying to it answers the customer */
export function supportMail(row: InquiryMailFields, to: { from: string; to: string }): OutgoingMail {
  const fields: Array<[string, string]> = [...fieldList(row), ['Signed-in user', row.user_id ?? '(anonymous)']];
  const intro = 'A new inquiry arrived through Re:Use Chat.';
  const outro = 'Reply to this mail to answer the customer.';
  return {
    from: to.from,
    to: to.to,
    replyTo: row.email,
    subject: subjectLine(`[Inquiry #${row.id}] ${row.category ?? 'general'}: ${row.name}`),
    text: textDocument(intro, fields, row.message, outro),
    html: htmlDocument(intro, fields, row.message, outro),
  };
}

/** the customer's copy, with the reference support will quote */
export function confirmationMail(row: InquiryMailFields, opts: { from: string; replyTo: string }): OutgoingMail {
  const intro = `Hello ${row.name}, thank you for contacting Re:Use. We received your inquiry and will answer by email.`;
  const outro = `Please quote #${row.id} if you write to us about it.`;
  const fields = fieldList(row);
  return {
    from: opts.from,
    to: row.email,
    replyTo: opts.replyTo,
    subject: subjectLine(`We received your inquiry #${row.id}`),
    text: textDocument(intro, fields, row.message, outro),
    html: htmlDocument(intro, fields, row.message, outro),
  };
}

// ---------------------------------------------------------------- helpers

function toView(r: InquiryRow): InquiryView {
  return {
    id: String(r.id),
    name: r.name,
    email: r.email,
    phone: r.phone,
    category: r.category,
    message: r.message,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    sentAt: r.sent_at ? r.sent_at.toISOString() : null,
  };
}

function describeError(err: unknown): string {
  const e = err as { code?: unknown; responseCode?: unknown; message?: unknown };
  const parts = [e?.code, e?.responseCode, e?.message ?? String(err)].filter((p) => p !== undefined && p !== null && p !== '');
  const text = parts.map(String).join(' ');
  return text.length > MAX_ERROR_CHARS ? text.slice(0, MAX_ERROR_CHARS) : text;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
