/**
 * Server frame encoding: one Buffer per frame, ready to be one WebSocket message.
 *
 * Owns: header escaping (spec §Value Encoding; CONNECTED is exempt), `content-length` in UTF-8
 * bytes, and the fan-out fast path: `prepareMessage` serialises everything of a MESSAGE frame that
 * is the same for every subscriber once, `renderMessage` splices the per-subscriber
 * `subscription` / `message-id` / `ack` lines in front with one allocation and one copy.
 */
import { isUtf8 } from 'node:buffer';
import type { ServerCommand } from './frame.js';

export type HeaderInput = Readonly<Record<string, string>> | ReadonlyMap<string, string> | ReadonlyArray<readonly [string, string]>;

const NEEDS_ESCAPE = /[\\\r\n:]/;
const ESCAPABLE = /[\\\r\n:]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\r': '\\r', '\n': '\\n', ':': '\\c' };
const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]/g;

/** Escapes a header name or value (spec §Value Encoding). Most values need nothing: test first. */
export function escapeHeader(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPABLE, (c) => ESCAPES[c] ?? c) : text;
}

/**
 * CONNECTED headers are not escaped, so a line break in a value (a user name from a token, say)
 * would inject headers; replace it instead.
 */
function flattenHeader(text: string): string {
  return LINE_BREAK.test(text) ? text.replace(LINE_BREAKS, ' ') : text;
}

function headerEntries(headers: HeaderInput): Iterable<readonly [string, string]> {
  if (headers instanceof Map || Array.isArray(headers)) return headers as Iterable<readonly [string, string]>;
  return Object.entries(headers);
}

/**
 * Encodes one server frame. A `content-length` is added whenever a body is given (and any
 * `content-length` in `headers` is ignored, so it can never disagree with the body).
 */
export function encodeFrame(command: ServerCommand, headers: HeaderInput, body?: string | Buffer): Buffer {
  const encode = command === 'CONNECTED' ? flattenHeader : escapeHeader;
  let head = command + '\n';
  for (const [name, value] of headerEntries(headers)) {
    if (name === 'content-length') continue;
    head += encode(name) + ':' + encode(value) + '\n';
  }
  const bodyLength = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (body !== undefined) head += 'content-length:' + bodyLength + '\n';
  head += '\n';
  const headLength = Buffer.byteLength(head, 'utf8');
  const frame = Buffer.allocUnsafe(headLength + bodyLength + 1);
  frame.write(head, 0, 'utf8');
  if (typeof body === 'string') frame.write(body, headLength, 'utf8');
  else if (body !== undefined) body.copy(frame, headLength);
  frame[headLength + bodyLength] = 0;
  return frame;
}

/** A MESSAGE frame minus its per-subscriber header lines; immutable, shared across sessions. */
export interface PreparedMessage {
  /** `name:value\n...content-length:N\n\n<body>\0` */
  readonly tail: Buffer;
  /** True when the body is not valid UTF-8, so the frame must go out as a binary WebSocket message. */
  readonly binary: boolean;
}

/** Headers the session sets per subscriber; ignored if present in a prepared message's headers. */
const PER_SUBSCRIBER = new Set(['subscription', 'message-id', 'ack', 'content-length']);

export function prepareMessage(headers: Readonly<Record<string, string>>, body: string | Buffer): PreparedMessage {
  let head = '';
  for (const [name, value] of Object.entries(headers)) {
    if (PER_SUBSCRIBER.has(name)) continue;
    head += escapeHeader(name) + ':' + escapeHeader(value) + '\n';
  }
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  head += 'content-length:' + bodyBytes.length + '\n\n';
  const headLength = Buffer.byteLength(head, 'utf8');
  // Not allocUnsafe: this buffer lives as long as the message is fanned out; keep it off the pool.
  const tail = Buffer.allocUnsafeSlow(headLength + bodyBytes.length + 1);
  tail.write(head, 0, 'utf8');
  bodyBytes.copy(tail, headLength);
  tail[tail.length - 1] = 0;
  return { tail, binary: typeof body !== 'string' && !isUtf8(body) };
}

/** Renders a prepared message for one subscriber: one allocation, one copy of the shared tail. */
export function renderMessage(prepared: PreparedMessage, subscriptionId: string, messageId: string, ack?: string): Buffer {
  let head = 'MESSAGE\nsubscription:' + escapeHeader(subscriptionId) + '\nmessage-id:' + escapeHeader(messageId) + '\n';
  if (ack !== undefined) head += 'ack:' + escapeHeader(ack) + '\n';
  const headLength = Buffer.byteLength(head, 'utf8');
  const frame = Buffer.allocUnsafe(headLength + prepared.tail.length);
  frame.write(head, 0, 'utf8');
  prepared.tail.copy(frame, headLength);
  return frame;
}

/** The heart-beat: a single EOL, sent as its own WebSocket message. Never mutated. */
export const HEARTBEAT = Buffer.from('\n');
