/**
 * The inquiry mail worker: works from the `inquiries` table, so retries survive restarts and
 * several instances can run it side by side.
 *
 * Delivery, step by step:
 *  1. The service stores the row as `pending` (due now) and wakes the worker (`wake()`).
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
 *  4. Only then the confirmation goes to the customer, and only to an address that is proven:
 *     the signed-in author's email as the identity provider stated it (kept in `users.email`).
 *     Anonymous inquiries and authors without a known email get none, so the form cannot be
 *     used to mail third parties. The schema has no column for "support
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
 * Every "now" is the database's NOW(3), so instances with skewed clocks agree on what is due.
 */
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Pool } from 'mysql2/promise';
import { isUnavailable } from '../db/availability.js';
import { drizzleOn, type Db } from '../db/client.js';
import { inquiries, users } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { MailTransport } from '../mail/transport.js';
import { confirmationMail, supportMail } from './mail-bodies.js';
import { readInquiry, type InquiryRow } from './rows.js';

/** every "now" is the database's, so instances with skewed clocks agree on what is due */
const NOW = sql`NOW(3)`;
const after = (ms: number) => sql`NOW(3) + INTERVAL ${Math.round(ms * 1000)} MICROSECOND`;
const MAX_ERROR_CHARS = 1000;
const CLAIM_BATCH = 10;
const HOUR_MS = 3_600_000;

export interface InquiryMailWorkerOptions {
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
  /** ceiling of the retry delay; default 1 h */
  retryCapMs?: number | undefined;
  /** how often the worker looks for due inquiries; wake() runs a pass at once anyway. Default 1.5 s */
  pollMs?: number | undefined;
  /**
   * how long a claimed inquiry stays reserved for its worker. Must exceed the longest send
   * (the SMTP transport's timeouts) or another worker may send it too. Default 2 min.
   */
  leaseMs?: number | undefined;
}

export class InquiryMailWorker {
  private readonly db: Db;
  private readonly mail: MailTransport;
  private readonly logger: Logger;
  private readonly supportEmail: string;
  private readonly mailFrom: string;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly pollMs: number;
  /** the last pass failed because MySQL was unavailable (already logged) */
  private waitingForMysql = false;
  private readonly leaseMs: number;

  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | null = null;
  /** wake() arrived while a pass was running: run another one right after it */
  private wokenDuringPass = false;
  /** cancels the wait before a confirmation's retry on close() */
  private stopping = new AbortController();

  constructor(opts: InquiryMailWorkerOptions) {
    this.db = drizzleOn(opts.pool);
    this.mail = opts.mail;
    this.logger = opts.logger;
    this.supportEmail = opts.supportEmail;
    this.mailFrom = opts.mailFrom;
    this.maxAttempts = Math.max(1, opts.maxAttempts);
    this.retryBaseMs = opts.retryBaseMs;
    this.retryCapMs = opts.retryCapMs ?? HOUR_MS;
    this.pollMs = opts.pollMs ?? 1_500;
    this.leaseMs = opts.leaseMs ?? 120_000;
  }

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

  /** a new inquiry is due: a pass now (or right after the running one) */
  wake(): void {
    if (!this.running) return;
    if (this.draining) this.wokenDuringPass = true;
    else this.runPass();
  }

  private runPass() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wokenDuringPass = false;
    this.draining = this.drain()
      .then(() => {
        this.waitingForMysql = false;
      })
      .catch((err: unknown) => {
        // the rows wait, nothing is lost; an outage is one line, not one per pass
        if (!isUnavailable(err)) this.logger.warn({ err }, 'inquiry mail pass failed');
        else if (!this.waitingForMysql) this.logger.warn({ err: (err as Error).message }, 'inquiry mail waits for MySQL');
        this.waitingForMysql = isUnavailable(err);
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
      const due = await this.db
        .select({ id: inquiries.id })
        .from(inquiries)
        .where(and(eq(inquiries.status, 'pending'), lte(inquiries.nextAttemptAt, NOW)))
        .orderBy(asc(inquiries.nextAttemptAt), asc(inquiries.id))
        .limit(CLAIM_BATCH);
      if (due.length === 0) return;
      let claimed = 0;
      for (const { id } of due) {
        if (!this.running) return;
        const row = await this.claim(id);
        if (!row) continue;
        claimed++;
        await this.deliver(row);
      }
      // every candidate was taken by another worker; look again at the next poll
      if (claimed === 0) return;
    }
  }

  /** one conditional UPDATE: exactly one worker gets affectedRows = 1 for a due row */
  private async claim(id: number): Promise<InquiryRow | null> {
    const [res] = await this.db
      .update(inquiries)
      .set({ attempts: sql`${inquiries.attempts} + 1`, nextAttemptAt: after(this.leaseMs), updatedAt: NOW })
      .where(and(eq(inquiries.id, id), eq(inquiries.status, 'pending'), lte(inquiries.nextAttemptAt, NOW)));
    if (res.affectedRows !== 1) return null;
    // the lease keeps everyone else off this row while we read it
    return readInquiry(this.db, id);
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
    const [res] = await this.db
      .update(inquiries)
      .set({ status: 'sent', sentAt: NOW, updatedAt: NOW })
      .where(this.stillOurs(row));
    if (res.affectedRows !== 1) {
      // our lease ran out and another worker took the row: it owns the confirmation too
      this.logger.warn({ inquiryId: id, attempt }, 'inquiry was re-claimed while its support mail was being sent');
      return;
    }
    this.logger.info({ inquiryId: id, attempt }, 'inquiry mailed to support');
    await this.confirm(row);
  }

  /** the signed-in author's email as their identity provider stated it; null for anonymous inquiries */
  private async provenAddress(row: InquiryRow): Promise<string | null> {
    if (row.userId === null) return null;
    const [user] = await this.db.select({ email: users.email }).from(users).where(eq(users.id, row.userId));
    return user?.email || null;
  }

  /** the claim's fencing: still pending, and still at the attempt this worker made */
  private stillOurs(row: InquiryRow) {
    return and(eq(inquiries.id, row.id), eq(inquiries.status, 'pending'), eq(inquiries.attempts, row.attempts));
  }

  private async recordFailure(row: InquiryRow, err: unknown) {
    const id = String(row.id);
    const attempt = row.attempts;
    const lastError = describeError(err);
    const giveUp = attempt >= this.maxAttempts;
    const delayMs = retryDelayMs(attempt, { baseMs: this.retryBaseMs, capMs: this.retryCapMs });
    await this.db
      .update(inquiries)
      .set({ status: giveUp ? 'failed' : 'pending', lastError, nextAttemptAt: after(delayMs), updatedAt: NOW })
      .where(this.stillOurs(row));
    if (giveUp) this.logger.error({ inquiryId: id, attempt, lastError }, 'inquiry could not be mailed to support; giving up');
    else this.logger.warn({ inquiryId: id, attempt, lastError, retryInMs: Math.round(delayMs) }, 'inquiry mail failed; will retry');
  }

  /** best-effort (see the header): one retry, then a warning */
  private async confirm(row: InquiryRow) {
    const to = await this.provenAddress(row);
    if (!to) return;
    const mail = confirmationMail({ ...row, email: to }, { from: this.mailFrom, replyTo: this.supportEmail });
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
}

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
