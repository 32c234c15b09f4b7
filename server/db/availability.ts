/**
 * MySQL up/down, as the chat pipeline sees it. Fed by the errors of real queries (a refused or
 * lost connection marks it down at once) and, while down, by a ping every PING_MS that marks it
 * up again. Logs one line per change of state (with how many requests were refused meanwhile)
 * instead of one per failed query, so an outage under load does not flood the log.
 *
 * `isUnavailable(err)` tells a dependency outage from a bug: the callers turn the first into
 * `UNAVAILABLE` (STOMP error event, Socket.IO ack, tRPC 503 with Retry-After) and keep the
 * connection open; only the second is logged as an error.
 */
import type { Logger } from '../logger.js';

const PING_MS = 1_000;

/** mysql2 / Node error codes that mean "the server is not there", not "the query is wrong" */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
]);

/** true for an error that says MySQL cannot be reached (also when wrapped, e.g. by Drizzle) */
export function isUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, fatal } = e as { code?: unknown; fatal?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    // mysql2 marks errors that killed the connection as fatal
    if (fatal === true) return true;
    if ((e as Error).message === 'Pool is closed.') return true;
  }
  return false;
}

export class MysqlAvailability {
  private down = false;
  private refused = 0;
  private downSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly upHandlers: Array<() => void> = [];

  constructor(
    private readonly ping: () => Promise<boolean>,
    private readonly logger: Logger,
  ) {}

  get isUp(): boolean {
    return !this.down;
  }

  /** called when MySQL answers again after an outage */
  onUp(handler: () => void): void {
    this.upHandlers.push(handler);
  }

  /**
   * Looks at a failed query's error: true (and counted) when it means MySQL is unavailable,
   * false for anything else (which the caller treats as a bug).
   */
  failed(err: unknown): boolean {
    if (!isUnavailable(err)) return false;
    this.refused++;
    if (!this.down) {
      this.down = true;
      this.downSince = Date.now();
      this.logger.warn({ err: (err as Error).message }, 'MYSQL IS UNAVAILABLE: sends are refused with UNAVAILABLE until it answers again');
      this.timer = setInterval(() => void this.check(), PING_MS);
      this.timer.unref();
    }
    return true;
  }

  private checking = false;

  private async check(): Promise<void> {
    if (this.checking || !this.down) return;
    this.checking = true;
    try {
      if (!(await this.ping())) return;
      this.down = false;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.logger.warn({ downMs: Date.now() - this.downSince, refused: this.refused }, 'mysql is back');
      this.refused = 0;
      for (const h of this.upHandlers) h();
    } finally {
      this.checking = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
