/**
 * Incremental STOMP 1.2 frame decoder: bytes in, callbacks out, no I/O and no timers.
 *
 * Grammar (spec §Augmented BNF, https://stomp.github.io/stomp-specification-1.2.html#Augmented_BNF):
 *
 *   frame        = command EOL *( header EOL ) EOL *OCTET NULL *( EOL )
 *   command      = client-command (CONNECT | STOMP | SEND | ... | DISCONNECT)
 *   header       = header-name ":" header-value
 *   EOL          = [CR] LF
 *   heart-beat   = EOL, between frames (spec §Heart-beating)
 *
 * - Chunks may split a frame at any byte or pack several frames; text (string) and binary
 *   (Buffer) WebSocket messages are both accepted.
 * - Header values are unescaped (`\\` `\n` `\c` `\r`, spec §Value Encoding) except on CONNECT and
 *   STOMP frames, which the spec exempts; any other escape is BAD_HEADER_ESCAPE. The session turns
 *   unescaping off for STOMP 1.0, which had none.
 * - A repeated header keeps its first value (spec §Repeated Header Entries).
 * - With `content-length` the body is exactly that many octets (NULs allowed) and must be followed
 *   by NUL; without it the body ends at the first NUL (spec §Header content-length).
 * - Limits are enforced as bytes arrive: nothing is buffered beyond `maxFrameBytes`, and a declared
 *   `content-length` is checked before a single body byte is read.
 *
 * After the first error the parser reports it once through `onError` and ignores all later input.
 * Decoded bodies never alias the pushed chunks.
 */
import { isUtf8 } from 'node:buffer';
import { StompError, type StompErrorCode } from './errors.js';
import { CLIENT_COMMANDS, CR, LF, NULL, type ClientCommand, type StompFrame } from './frame.js';

export interface ParserLimits {
  maxFrameBytes: number;
  maxHeaders: number;
  maxHeaderLineBytes: number;
}

export interface ParserCallbacks {
  onFrame(frame: StompFrame): void;
  /** An EOL between frames (also the optional EOLs right after a frame's NUL, which look the same). */
  onHeartbeat(): void;
  /** Called at most once; the parser is dead afterwards. */
  onError(error: StompError): void;
}

const State = {
  /** Between frames: EOLs are heart-beats, anything else starts a command line. */
  Idle: 0,
  /** Saw CR between frames; LF must follow. */
  IdleCr: 1,
  Command: 2,
  Headers: 3,
  /** Reading exactly `content-length` octets into a preallocated buffer. */
  FixedBody: 4,
  /** After a fixed-length body: the NUL terminator. */
  BodyEnd: 5,
  /** No content-length: body runs to the first NUL. */
  OpenBody: 6,
  Failed: 7,
} as const;
type State = (typeof State)[keyof typeof State];

const COMMANDS: ReadonlySet<string> = new Set(CLIENT_COMMANDS);
/** Longest command ("UNSUBSCRIBE") plus a CR, with room to spare; longer lines are not commands. */
const MAX_COMMAND_LINE = 16;
const CONTENT_LENGTH = /^\d{1,10}$/;
const EMPTY = Buffer.alloc(0);
/**
 * Headers between frames: shared, never written to (every frame's headers get a new Map when its
 * command line is read), so an idle connection's parser holds no Map of its own.
 */
const NO_HEADERS: Map<string, string> = new Map();

export class StompParser {
  /** STOMP 1.0 had no header escaping; the session clears this when it negotiates 1.0. */
  decodeEscapes = true;

  private state: State = State.Idle;
  /** Pieces of the current line that arrived in earlier chunks (only when a line is split). */
  private lineParts: Buffer[] = [];
  private lineBytes = 0;
  /** Bytes of the current frame so far, from the command's first byte to the NUL. */
  private frameBytes = 0;
  private command: ClientCommand = 'SEND';
  private rawHeaders = false;
  private headers = NO_HEADERS;
  private headerCount = 0;
  private fixedBody: Buffer = EMPTY;
  private fixedFilled = 0;
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  /** The error this parser raised, to tell it apart from errors thrown by callbacks. */
  private raised: StompError | undefined;

  constructor(
    private readonly limits: ParserLimits,
    private readonly callbacks: ParserCallbacks,
  ) {}

  get failed(): boolean {
    return this.state === State.Failed;
  }

  /** Feeds one chunk. Errors thrown by callbacks propagate; protocol errors go to `onError`. */
  push(chunk: Buffer | string): void {
    if (this.state === State.Failed) return;
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    try {
      this.consume(data);
    } catch (error) {
      if (error !== this.raised || this.raised === undefined) throw error;
      const raised = this.raised;
      this.destroy();
      this.callbacks.onError(raised);
    }
  }

  /** Stops parsing for good and releases buffered bytes. */
  destroy(): void {
    this.state = State.Failed;
    this.lineParts = [];
    this.bodyParts = [];
    this.fixedBody = EMPTY;
    this.headers = NO_HEADERS;
  }

  private consume(data: Buffer): void {
    const length = data.length;
    let pos = 0;
    while (pos < length) {
      switch (this.state) {
        case State.Idle: {
          const byte = data[pos]!;
          if (byte === LF) {
            pos++;
            this.callbacks.onHeartbeat();
          } else if (byte === CR) {
            pos++;
            this.state = State.IdleCr;
          } else {
            this.state = State.Command;
            this.frameBytes = 0;
          }
          break;
        }
        case State.IdleCr: {
          if (data[pos] !== LF) throw this.fail('BAD_FRAME', 'CR not followed by LF');
          pos++;
          this.state = State.Idle;
          this.callbacks.onHeartbeat();
          break;
        }
        case State.Command:
        case State.Headers:
          pos = this.readLine(data, pos);
          break;
        case State.FixedBody: {
          const n = Math.min(this.fixedBody.length - this.fixedFilled, length - pos);
          data.copy(this.fixedBody, this.fixedFilled, pos, pos + n);
          this.fixedFilled += n;
          pos += n;
          if (this.fixedFilled === this.fixedBody.length) this.state = State.BodyEnd;
          break;
        }
        case State.BodyEnd: {
          if (data[pos] !== NULL) throw this.fail('BAD_FRAME', 'body is longer than content-length');
          pos++;
          this.emit(this.fixedBody);
          break;
        }
        case State.OpenBody: {
          const nul = data.indexOf(NULL, pos);
          const end = nul === -1 ? length : nul;
          const n = end - pos;
          this.bodyBytes += n;
          this.frameBytes += n;
          // +1 for the NUL still to come.
          if (this.frameBytes + 1 > this.limits.maxFrameBytes) {
            throw this.fail('FRAME_TOO_LARGE', `frame exceeds ${this.limits.maxFrameBytes} bytes`);
          }
          if (n > 0) this.bodyParts.push(data.subarray(pos, end));
          if (nul === -1) {
            pos = length;
          } else {
            pos = nul + 1;
            const body = this.bodyBytes === 0 ? EMPTY : Buffer.concat(this.bodyParts, this.bodyBytes);
            this.emit(body);
          }
          break;
        }
        case State.Failed:
          return;
      }
    }
  }

  /** Reads (the rest of) one command or header line; returns the next position. */
  private readLine(data: Buffer, pos: number): number {
    const inCommand = this.state === State.Command;
    const maxLine = inCommand ? MAX_COMMAND_LINE : this.limits.maxHeaderLineBytes;
    const lf = data.indexOf(LF, pos);
    const end = lf === -1 ? data.length : lf;
    const n = end - pos;
    this.lineBytes += n;
    this.frameBytes += lf === -1 ? n : n + 1;
    if (this.lineBytes > maxLine + 1) {
      // +1 tolerates the CR of a CRLF line ending.
      if (inCommand) throw this.fail('BAD_COMMAND', 'command line too long');
      throw this.fail('HEADER_TOO_LONG', `header line exceeds ${maxLine} bytes`);
    }
    if (this.frameBytes > this.limits.maxFrameBytes) {
      throw this.fail('FRAME_TOO_LARGE', `frame exceeds ${this.limits.maxFrameBytes} bytes`);
    }
    if (lf === -1) {
      if (n > 0) this.lineParts.push(data.subarray(pos, end));
      return end;
    }
    let line =
      this.lineParts.length === 0
        ? data.subarray(pos, end)
        : Buffer.concat([...this.lineParts, data.subarray(pos, end)], this.lineBytes);
    this.lineParts = [];
    this.lineBytes = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (inCommand) this.onCommandLine(line);
    else this.onHeaderLine(line);
    return lf + 1;
  }

  private onCommandLine(line: Buffer): void {
    const command = line.toString('latin1');
    if (!COMMANDS.has(command)) throw this.fail('BAD_COMMAND', `unknown command ${JSON.stringify(command)}`);
    this.command = command as ClientCommand;
    this.rawHeaders = command === 'CONNECT' || command === 'STOMP';
    this.headers = new Map();
    this.headerCount = 0;
    this.state = State.Headers;
  }

  private onHeaderLine(line: Buffer): void {
    if (line.length === 0) {
      this.startBody();
      return;
    }
    if (++this.headerCount > this.limits.maxHeaders) {
      throw this.fail('TOO_MANY_HEADERS', `more than ${this.limits.maxHeaders} headers`);
    }
    // One decode per line; U+FFFD marks possibly invalid UTF-8, confirmed by the exact (slower) check.
    const text = line.toString('utf8');
    if (text.includes('\uFFFD') && !isUtf8(line)) throw this.fail('BAD_ENCODING');
    const colon = text.indexOf(':');
    if (colon <= 0) throw this.fail('BAD_HEADER', colon === 0 ? 'empty header name' : 'header line without a colon');
    let name = text.slice(0, colon);
    let value = text.slice(colon + 1);
    if (!this.rawHeaders && this.decodeEscapes && text.includes('\\')) {
      name = this.unescape(name);
      value = this.unescape(value);
    }
    if (!this.headers.has(name)) this.headers.set(name, value);
  }

  private unescape(text: string): string {
    let out = '';
    let from = 0;
    let at = text.indexOf('\\');
    while (at !== -1) {
      out += text.slice(from, at);
      switch (text[at + 1]) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 'c':
          out += ':';
          break;
        case '\\':
          out += '\\';
          break;
        default:
          throw this.fail('BAD_HEADER_ESCAPE', `undefined escape ${JSON.stringify(text.slice(at, at + 2))}`);
      }
      from = at + 2;
      at = text.indexOf('\\', from);
    }
    return out + text.slice(from);
  }

  private startBody(): void {
    const declared = this.headers.get('content-length');
    if (declared === undefined) {
      this.bodyParts = [];
      this.bodyBytes = 0;
      this.state = State.OpenBody;
      return;
    }
    if (!CONTENT_LENGTH.test(declared)) {
      throw this.fail('BAD_CONTENT_LENGTH', `content-length ${JSON.stringify(declared.slice(0, 32))} is not a number`);
    }
    const bodyLength = Number(declared);
    if (this.frameBytes + bodyLength + 1 > this.limits.maxFrameBytes) {
      throw this.fail('FRAME_TOO_LARGE', `content-length ${bodyLength} exceeds the ${this.limits.maxFrameBytes} byte frame limit`);
    }
    this.frameBytes += bodyLength + 1;
    this.fixedBody = bodyLength === 0 ? EMPTY : Buffer.allocUnsafe(bodyLength);
    this.fixedFilled = 0;
    this.state = bodyLength === 0 ? State.BodyEnd : State.FixedBody;
  }

  private emit(body: Buffer): void {
    const frame: StompFrame = { command: this.command, headers: this.headers, body };
    this.state = State.Idle;
    this.headers = NO_HEADERS;
    this.bodyParts = [];
    this.fixedBody = EMPTY;
    this.callbacks.onFrame(frame);
  }

  private fail(code: StompErrorCode, details?: string): StompError {
    // Once the headers are known, the error can name the offending frame's receipt.
    const receiptId = this.state === State.Command ? undefined : this.headers.get('receipt');
    this.raised = new StompError(code, details, { receiptId });
    return this.raised;
  }
}
