/**
 * Configurable limits of the STOMP endpoint and their defaults (docs/contract.md: 64 KiB frame, 64 headers,
 * 100 subscriptions per connection). Every per-connection structure that a client can grow is
 * bounded by one of these.
 */

export interface StompLimits {
  /** Largest frame (command + headers + body + NUL) in bytes; refused as soon as exceeded. */
  maxFrameBytes: number;
  /** Most header lines in one frame. */
  maxHeaders: number;
  /** Longest single header line in bytes (before unescaping). */
  maxHeaderLineBytes: number;
  /** Most live subscriptions per connection. */
  maxSubscriptions: number;
  /** Most unacknowledged MESSAGEs tracked per connection (client / client-individual modes). */
  maxPendingAcks: number;
  /** Most open transactions per connection. */
  maxTransactions: number;
  /** Most SEND/ACK/NACK frames buffered in one transaction. */
  maxTransactionFrames: number;
  /** Most SENDs handed to the application and not yet settled. */
  maxInflightSends: number;
  /** Most received frames waiting behind an awaited one (SUBSCRIBE, a full SEND window...). */
  maxQueuedFrames: number;
  /** Server heart-beat `sx` at most: the slowest we offer to send at (0 = we never send). */
  heartbeatSendMs: number;
  /** Server heart-beat `sy` at most: the slowest we let the client send at (0 = we do not care). */
  heartbeatReceiveMs: number;
  /** The fastest heart-beat a client may negotiate, either way (see heartbeat-negotiation.ts). */
  heartbeatMinMs: number;
  /**
   * When the client negotiated no incoming heart-beat, a WebSocket ping goes out after this much
   * silence and the connection is dropped after twice as much, so half-open sockets do not leak.
   * 0 disables.
   */
  idlePingMs: number;
  /** Time allowed between the upgrade and the CONNECT frame. */
  connectTimeoutMs: number;
  /** Close as SLOW_CONSUMER when the socket's unsent bytes exceed this. */
  slowConsumerBytes: number;
  /** Least time between two `activity` callbacks for one session. */
  activityIntervalMs: number;
  /** How long DISCONNECT waits for in-flight SENDs before closing anyway. */
  disconnectGraceMs: number;
}

export const DEFAULT_LIMITS: Readonly<StompLimits> = Object.freeze({
  maxFrameBytes: 64 * 1024,
  maxHeaders: 64,
  maxHeaderLineBytes: 8 * 1024,
  maxSubscriptions: 100,
  maxPendingAcks: 1000,
  maxTransactions: 16,
  maxTransactionFrames: 256,
  maxInflightSends: 256,
  maxQueuedFrames: 4096,
  heartbeatSendMs: 10_000,
  heartbeatReceiveMs: 10_000,
  heartbeatMinMs: 1_000,
  idlePingMs: 60_000,
  connectTimeoutMs: 15_000,
  slowConsumerBytes: 4 * 1024 * 1024,
  activityIntervalMs: 15_000,
  disconnectGraceMs: 5_000,
});

/** Objects this module returned: the endpoint resolves once and every session shares the result. */
const resolved = new WeakSet<object>();

export function resolveLimits(overrides: Partial<StompLimits> = {}): StompLimits {
  if (resolved.has(overrides)) return overrides as StompLimits;
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`stomp limit ${name} must be a non-negative number`);
  }
  resolved.add(limits);
  return limits;
}
