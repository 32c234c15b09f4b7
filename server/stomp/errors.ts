/**
 * STOMP error codes and the error class every protocol or application refusal travels as.
 *
 * Owns: the stable code table (short human message + WebSocket close code per code), `StompError`
 * (fatal: becomes one ERROR frame followed by a close) and `SendRejected` (non-fatal: a refused
 * SEND that gets no RECEIPT while the connection stays open).
 *
 * Modelled on ws's `createError(..., 1002, 'WS_ERR_INVALID_OPCODE')`: the code is what clients and
 * tests match on; the message is for humans and may change.
 */

/** WebSocket close codes (RFC 6455 §7.4.1) used below. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
} as const;

export const STOMP_ERRORS = {
  // Framing (raised by the parser)
  FRAME_TOO_LARGE: { message: 'frame too large', closeCode: CloseCode.MESSAGE_TOO_BIG },
  TOO_MANY_HEADERS: { message: 'too many headers', closeCode: CloseCode.MESSAGE_TOO_BIG },
  HEADER_TOO_LONG: { message: 'header line too long', closeCode: CloseCode.MESSAGE_TOO_BIG },
  BAD_COMMAND: { message: 'unknown command', closeCode: CloseCode.PROTOCOL_ERROR },
  BAD_HEADER: { message: 'malformed header', closeCode: CloseCode.PROTOCOL_ERROR },
  BAD_HEADER_ESCAPE: { message: 'undefined escape sequence in header', closeCode: CloseCode.PROTOCOL_ERROR },
  BAD_ENCODING: { message: 'header is not valid UTF-8', closeCode: CloseCode.PROTOCOL_ERROR },
  BAD_CONTENT_LENGTH: { message: 'invalid content-length', closeCode: CloseCode.PROTOCOL_ERROR },
  BAD_FRAME: { message: 'malformed frame', closeCode: CloseCode.PROTOCOL_ERROR },

  // Session state machine
  NOT_CONNECTED: { message: 'expected CONNECT or STOMP first', closeCode: CloseCode.PROTOCOL_ERROR },
  ALREADY_CONNECTED: { message: 'already connected', closeCode: CloseCode.PROTOCOL_ERROR },
  CONNECT_TIMEOUT: { message: 'no CONNECT frame in time', closeCode: CloseCode.POLICY_VIOLATION },
  MISSING_HEADER: { message: 'missing required header', closeCode: CloseCode.PROTOCOL_ERROR },
  UNSUPPORTED_VERSION: { message: 'unsupported protocol version', closeCode: CloseCode.PROTOCOL_ERROR },
  HEARTBEAT_TIMEOUT: { message: 'heart-beat timeout', closeCode: CloseCode.PROTOCOL_ERROR },
  TOO_MANY_SUBSCRIPTIONS: { message: 'too many subscriptions', closeCode: CloseCode.POLICY_VIOLATION },
  DUPLICATE_SUBSCRIPTION: { message: 'subscription id already in use', closeCode: CloseCode.PROTOCOL_ERROR },
  UNKNOWN_SUBSCRIPTION: { message: 'unknown subscription', closeCode: CloseCode.PROTOCOL_ERROR },
  UNKNOWN_TRANSACTION: { message: 'unknown transaction', closeCode: CloseCode.PROTOCOL_ERROR },
  DUPLICATE_TRANSACTION: { message: 'transaction already begun', closeCode: CloseCode.PROTOCOL_ERROR },
  TOO_MANY_TRANSACTIONS: { message: 'too many open transactions', closeCode: CloseCode.POLICY_VIOLATION },
  TRANSACTION_TOO_LARGE: { message: 'too many frames in transaction', closeCode: CloseCode.POLICY_VIOLATION },
  TOO_MANY_PENDING_FRAMES: { message: 'too many frames awaiting processing', closeCode: CloseCode.POLICY_VIOLATION },
  SLOW_CONSUMER: { message: 'slow consumer', closeCode: CloseCode.POLICY_VIOLATION },

  // Raised by the application
  AUTH_FAILED: { message: 'authentication failed', closeCode: CloseCode.POLICY_VIOLATION },
  FORBIDDEN: { message: 'forbidden', closeCode: CloseCode.POLICY_VIOLATION },
  BAD_REQUEST: { message: 'bad request', closeCode: CloseCode.POLICY_VIOLATION },
  RATE_LIMITED: { message: 'rate limited', closeCode: CloseCode.TRY_AGAIN_LATER },
  UNAVAILABLE: { message: 'temporarily unavailable, retry later', closeCode: CloseCode.TRY_AGAIN_LATER },
  TOO_MANY_CONNECTIONS: { message: 'too many connections for this user', closeCode: CloseCode.TRY_AGAIN_LATER },

  // Server side
  SHUTTING_DOWN: { message: 'server shutting down', closeCode: CloseCode.GOING_AWAY },
  INTERNAL: { message: 'internal server error', closeCode: CloseCode.INTERNAL_ERROR },
} as const satisfies Record<string, { message: string; closeCode: number }>;

export type StompErrorCode = keyof typeof STOMP_ERRORS;

export interface StompErrorOptions {
  /** Extra headers for the ERROR frame (e.g. `version` on UNSUPPORTED_VERSION). */
  headers?: Record<string, string>;
  /** `receipt` of the offending frame, if known; becomes `receipt-id`. */
  receiptId?: string;
  cause?: unknown;
}

/**
 * A fatal protocol or application error. The session turns it into exactly one ERROR frame
 * (`message` = the short text, `x-error-code` = code, body = details) and closes the socket with
 * `closeCode`.
 */
export class StompError extends Error {
  override readonly name = 'StompError';
  readonly code: StompErrorCode;
  /** Short, stable-ish text for the ERROR frame's `message` header. */
  readonly shortMessage: string;
  /** Longer explanation for the ERROR frame body; never contains secrets. */
  readonly details: string | undefined;
  readonly closeCode: number;
  readonly headers: Record<string, string> | undefined;
  receiptId: string | undefined;
  /** Marks fatal errors; `SendRejected` carries `fatal: false`. */
  readonly fatal = true;

  constructor(code: StompErrorCode, details?: string, options: StompErrorOptions = {}) {
    const entry = STOMP_ERRORS[code];
    super(details ? `${entry.message}: ${details}` : entry.message, { cause: options.cause });
    this.code = code;
    this.shortMessage = entry.message;
    this.details = details;
    this.closeCode = entry.closeCode;
    this.headers = options.headers;
    this.receiptId = options.receiptId;
  }
}

/**
 * A refused SEND that is not a protocol violation (not a member, invalid body, rate limit). The
 * application reports it to the user itself (e.g. on `/user/queue/errors`); the session sends no
 * RECEIPT and keeps the connection open. Any thrown object with `fatal === false` is treated the
 * same way, so the chat layer may use its own error class.
 */
export class SendRejected extends Error {
  override readonly name = 'SendRejected';
  readonly fatal = false;
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for a rejection that must not close the connection (`{ fatal: false }`). */
export function isNonFatal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === false;
}
