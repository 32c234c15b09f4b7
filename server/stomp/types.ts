/**
 * The contract between the STOMP layer and the application behind it (the chat service).
 *
 * The STOMP layer owns framing, versions, heart-beats, receipts, transactions and acks; the
 * application owns identity, authorisation, storage and fan-out. It never sees raw frames, and
 * the STOMP layer never knows what a room is.
 */
import type { IncomingMessage } from 'node:http';
import type { PreparedMessage } from './encoder.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

export interface ConnectRequest {
  /** CONNECT/STOMP headers as sent (not unescaped, per spec): `login`, `passcode`, `Authorization`... */
  headers: ReadonlyMap<string, string>;
  /** The HTTP upgrade request (cookies, origin, remote address). */
  request: IncomingMessage;
  sessionId: string;
}

export interface SubscribeRequest {
  id: string;
  destination: string;
  ack: AckMode;
  headers: ReadonlyMap<string, string>;
}

export interface SendRequest {
  destination: string;
  headers: ReadonlyMap<string, string>;
  body: Buffer;
}

/** What the application sees of a session (StompSession implements it). */
export interface StompSessionView<P> {
  readonly id: string;
  /** what `connect` returned; there is none before CONNECT succeeded */
  readonly principal: P;
  /** a MESSAGE to one of the session's subscriptions; false when the subscription is gone */
  deliver(subscriptionId: string, prepared: PreparedMessage): boolean;
}

export interface StompApplication<P> {
  /** CONNECT/STOMP: verify credentials; throw `StompError('AUTH_FAILED', ...)` to refuse. */
  connect(ctx: ConnectRequest): Promise<{ principal: P; userName: string }>;
  /**
   * SUBSCRIBE; throw a StompError to refuse (ERROR + close). Resolve when the subscription is
   * live (after any replay). The subscription already exists in `session.subscriptions` while
   * this runs, so replayed messages can be delivered with `session.deliver(sub.id, ...)`.
   */
  subscribe(session: StompSessionView<P>, sub: SubscribeRequest): Promise<void>;
  /** UNSUBSCRIBE, and every live subscription when the session ends. */
  unsubscribe(session: StompSessionView<P>, subscriptionId: string): void;
  /**
   * SEND; resolve when durably handled (then RECEIPT). Reject with a StompError (or anything
   * unexpected) → ERROR + close; reject with `SendRejected` (or any `{ fatal: false }` error) →
   * no RECEIPT, the connection stays open and the application reports the rejection itself.
   * Called in arrival order, but not awaited before the next frame.
   */
  send(session: StompSessionView<P>, frame: SendRequest): Promise<void>;
  /** Called once when a session whose `connect` succeeded ends, after its subscriptions are gone. */
  disconnected(session: StompSessionView<P>): void;
  /** Optional: the client showed signs of life (frame or heart-beat); throttled per session. */
  activity?(session: StompSessionView<P>): void;
}

/** The logger subset the STOMP layer uses; a pino logger fits. */
export interface StompLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: StompLogger = {
  debug() {},
  warn() {},
  error() {},
};
