/**
 * SockJS under the STOMP endpoint's path (the Spring service's `withSockJS()`), for browsers
 * behind proxies that strip WebSocket: `GET {prefix}/info`, then
 * `{prefix}/{server}/{session}/websocket | xhr_streaming | xhr | xhr_send | eventsource | …`.
 *
 * Owns: the reference SockJS server (`sockjs`, the one sockjs-client is tested against), the
 * SockJS connection ↔ STOMP session adapter, and the edge rules SockJS does not have itself
 * (a bound on `xhr_send` bodies). Every session is opened through the STOMP endpoint, so
 * authentication, limits, heart-beats, slow-consumer rules and shutdown are the raw endpoint's.
 *
 * SockJS carries text only. Every frame this service sends is UTF-8 (JSON and text bodies), so
 * it goes out as the same characters; NUL, the STOMP frame end, travels JSON-escaped by SockJS.
 * Received messages are fed to the STOMP parser as their UTF-8 bytes, split or merged as they come.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import sockjs from 'sockjs';
import type { StompEndpoint } from './server.js';
import type { StompSession, StompTransport } from './session.js';
import { silentLogger, type StompLogger } from './types.js';

export interface SockJsOptions {
  /** The STOMP endpoint's path, e.g. `/ws-stomp`; SockJS serves everything below it. */
  prefix: string;
  endpoint: StompEndpoint<unknown>;
  /** Largest SockJS message or `xhr_send` body accepted, in bytes (before JSON unescaping). */
  maxMessageBytes: number;
  logger?: StompLogger;
}

export interface SockJsEndpoint {
  /** Answers a plain HTTP request below the prefix; false when the path is not ours. */
  handleRequest(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
  /** Completes a WebSocket upgrade below the prefix; false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string): boolean;
}

/** The SockJS transports whose first request opens a session (and carries cookies / Origin). */
const OPENING = /\/(?:[^/.]+\/[^/.]+\/(?:websocket|xhr_streaming|xhr|eventsource|htmlfile|jsonp)|websocket)\/?$/;
const SENDING = /\/[^/.]+\/[^/.]+\/(?:xhr_send|jsonp_send)\/?$/;
const CLIENT_SCRIPT = '/sockjs.min.js';

type Listener = { getHandler(): (req: IncomingMessage, res: ServerResponse | Duplex, head?: Buffer) => boolean };
type SockJsServer = sockjs.Server & { listener(options?: sockjs.ServerOptions): Listener };

export function createSockJsEndpoint(options: SockJsOptions): SockJsEndpoint {
  const { prefix, endpoint } = options;
  const logger = options.logger ?? silentLogger;
  const server = sockjs.createServer({
    prefix,
    // the iframe transports load the client from here, not from a CDN
    sockjs_url: `${prefix}${CLIENT_SCRIPT}`,
    log: (severity, message) => (severity === 'error' ? logger.warn({ sockjs: message }, 'sockjs error') : undefined),
    // JSON escaping can make a message up to 6× its text (\u0000…); the STOMP parser bounds the frame
    faye_server_options: { maxLength: 6 * options.maxMessageBytes },
  } as sockjs.ServerOptions) as SockJsServer;
  const handler = server.listener().getHandler();
  const clientScript = readClientScript();

  /**
   * The request that opened each SockJS session, until its session starts: sockjs hands the
   * application a connection with a filtered copy of the headers (no Cookie, no Origin), and
   * the STOMP CONNECT of a signed-in page is authenticated with exactly those.
   */
  const openers = new Map<string, IncomingMessage>();
  const openerKey = (port: number | undefined, url: string | undefined) => `${port ?? ''} ${url ?? ''}`;
  const remember = (req: IncomingMessage, pathname: string, ended: { once(event: 'close', fn: () => void): unknown }) => {
    if (!OPENING.test(pathname)) return;
    const key = openerKey(req.socket.remotePort, req.url);
    openers.set(key, req);
    // sockjs announces a session on the tick after the request that opened it: later is stale
    ended.once('close', () => openers.get(key) === req && openers.delete(key));
  };

  server.on('connection', (conn: sockjs.Connection | null) => {
    if (conn === null) return;
    const key = openerKey(conn.remotePort, conn.url);
    const request = openers.get(key) ?? standInRequest(conn);
    openers.delete(key);
    logger.debug({ transport: conn.protocol, remoteAddress: conn.remoteAddress }, 'sockjs session');
    const session = endpoint.openSession(new SockJsTransport(conn), request);
    if (session === undefined) {
      conn.close(1001 as never, 'server shutting down');
      return;
    }
    feed(conn, session);
  });

  return {
    handleRequest(req, res, pathname) {
      if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return false;
      if (pathname === `${prefix}${CLIENT_SCRIPT}` && clientScript !== undefined) {
        res.writeHead(200, { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' });
        res.end(clientScript);
        return true;
      }
      if (req.method === 'POST' && SENDING.test(pathname) && !withinLimit(req, res, options.maxMessageBytes)) return true;
      remember(req, pathname, res);
      return handler(req, res);
    },
    handleUpgrade(req, socket, head, pathname) {
      if (!pathname.startsWith(`${prefix}/`)) return false;
      remember(req, pathname, socket);
      return handler(req, socket, head);
    },
  };
}

function feed(conn: sockjs.Connection, session: StompSession<unknown>): void {
  conn.on('data', (message: string) => session.receive(Buffer.from(message, 'utf8')));
  conn.on('close', () => session.transportClosed());
}

/**
 * A SockJS connection as a STOMP transport. SockJS has no ping of its own to offer (it beats
 * with its own `h` frames and drops sessions whose client went away), so none is exposed.
 */
class SockJsTransport implements StompTransport {
  /** The session's send buffer last seen, and how much of it is already counted. */
  private buffer: readonly string[] | undefined;
  private counted = 0;
  private queuedChars = 0;

  constructor(private readonly conn: sockjs.Connection) {}

  send(data: Buffer): void {
    this.conn.write(data.toString('utf8'));
  }

  close(code: number, reason: string): void {
    // sockjs puts the code into its close frame as given; sockjs-client reports it as the close code
    this.conn.close(code as never, reason);
  }

  /**
   * What is queued for the client: messages sockjs holds while no request is polling, plus
   * the socket's own backlog. sockjs swaps its buffer for a new array whenever it flushes, so
   * counting only the new entries of the same array keeps this O(1) per send.
   */
  get bufferedAmount(): number {
    const session = (this.conn as unknown as { _session?: SockJsSessionInternals })._session;
    const buffer = session?.send_buffer ?? [];
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.counted = 0;
      this.queuedChars = 0;
    }
    for (; this.counted < buffer.length; this.counted++) this.queuedChars += buffer[this.counted]!.length;
    const recv = session?.recv;
    const socket = recv?.connection ?? recv?.request?.socket;
    return this.queuedChars + (socket?.writableLength ?? 0);
  }
}

/** The parts of sockjs' session object the slow-consumer bound reads. */
interface SockJsSessionInternals {
  send_buffer?: string[];
  recv?: { connection?: Duplex | null; request?: IncomingMessage } | null;
}

/** Only when the opening request is unknown: what sockjs kept of it (no cookie, so tokens only). */
function standInRequest(conn: sockjs.Connection): IncomingMessage {
  return { headers: { ...conn.headers }, url: conn.url, socket: { remoteAddress: conn.remoteAddress } } as unknown as IncomingMessage;
}

/** Refuses an `xhr_send` body over the limit before it is buffered whole (sockjs reads any size). */
function withinLimit(req: IncomingMessage, res: ServerResponse, maxBytes: number): boolean {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`message over ${maxBytes} bytes`);
    req.resume();
    return false;
  }
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) req.socket.destroy();
  });
  return true;
}

function readClientScript(): Buffer | undefined {
  try {
    return readFileSync(createRequire(import.meta.url).resolve('sockjs-client/dist/sockjs.min.js'));
  } catch {
    return undefined;
  }
}
