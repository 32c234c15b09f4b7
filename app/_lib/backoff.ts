/**
 * Reconnect delays: exponential with jitter, capped. Jitter spreads the reconnects of many
 * tabs after a server restart so they do not all arrive in the same second.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** a number in [0, 1): Math.random, or a fixed value in tests */
  random?: () => number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 10_000 };

/**
 * The wait before reconnect attempt `attempt` (0 = the first retry after a drop): between half
 * and all of `base · 2^attempt`, never more than the cap ("equal jitter": never zero, so a
 * refusing server is not hammered, and never above the cap).
 */
export function reconnectDelay(attempt: number, { baseMs, capMs, random = Math.random }: BackoffOptions = RECONNECT_BACKOFF): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const half = ceiling / 2;
  return Math.round(half + half * random());
}
