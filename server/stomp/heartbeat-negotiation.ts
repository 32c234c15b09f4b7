/**
 * Heart-beat negotiation of CONNECT → CONNECTED (STOMP 1.2 §Heart-beating), as a pure function.
 *
 * The client's `heart-beat: cx,cy` says "I can send every cx ms" and "I want to hear from you
 * every cy ms" (0 = cannot / do not want). The server answers with its own `sx,sy`; each side
 * then beats at the larger of what one offers and the other wants. We honour the client: our
 * `sx,sy` mirror what it asks, bounded below by a floor (a client cannot make us beat, or expect
 * it to beat, every few milliseconds) and above by the server's preferred intervals (so that a
 * client asking for very slow beats still gets noticed when it dies).
 * https://stomp.github.io/stomp-specification-1.2.html#Heart-beating
 */

export interface HeartbeatPolicy {
  /** The slowest we offer to send at (`STOMP_HEARTBEAT_MS`); 0 = we never send heart-beats. */
  preferredSendMs: number;
  /** The slowest we ask the client to send at (`STOMP_HEARTBEAT_MS`); 0 = we do not watch. */
  preferredReceiveMs: number;
  /** Nothing faster than this either way (`STOMP_HEARTBEAT_MIN_MS`). */
  minMs: number;
}

export interface NegotiatedHeartbeat {
  /** The `heart-beat` header of CONNECTED: `sx,sy`. */
  header: string;
  /** We send something at least this often (0 = never). */
  sendEveryMs: number;
  /** The client promised to send something at least this often (0 = no promise). */
  expectEveryMs: number;
}

/** `cx,cy` as the client sent them (already validated as two non-negative integers). */
export function negotiateHeartbeat(cx: number, cy: number, policy: HeartbeatPolicy): NegotiatedHeartbeat {
  const sx = offer(cy, policy.preferredSendMs, policy.minMs);
  const sy = offer(cx, policy.preferredReceiveMs, policy.minMs);
  return {
    header: `${sx},${sy}`,
    // spec: we send every max(sx, cy) if both are non-zero; the client sends every max(cx, sy)
    sendEveryMs: sx > 0 && cy > 0 ? Math.max(sx, cy) : 0,
    expectEveryMs: cx > 0 && sy > 0 ? Math.max(cx, sy) : 0,
  };
}

/** Our side of one direction: what the client asks, clamped to [floor, preferred]. */
function offer(asked: number, preferred: number, minMs: number): number {
  if (preferred === 0) return 0;
  // a client that asks for nothing in this direction still learns what we would do
  if (asked === 0) return preferred;
  const floor = Math.min(minMs, preferred);
  return Math.min(preferred, Math.max(floor, asked));
}
