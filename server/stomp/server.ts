/**
 * Binds `ws` to STOMP sessions: the `/ws-stomp` endpoint without the HTTP routing.
 *
 * Owns: the WebSocketServer (noServer; the composition root's single `upgrade` owner calls
 * `handleUpgrade` for `/ws-stomp`), subprotocol selection, the socket ↔ session adapter, the
 * shared heart-beat wheel, the set of live sessions and graceful shutdown. Other transports
 * (SockJS, see sockjs.ts) open their sessions through `openSession`, so they share all of it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { StompError } from './errors.js';
import { HeartbeatScheduler } from './heartbeat-scheduler.js';
import { resolveLimits, type StompLimits } from './limits.js';
import { StompSession, type StompTransport } from './session.js';
import { silentLogger, type StompApplication, type StompLogger } from './types.js';

/** Offered subprotocols we speak, best first (docs/contract.md: chosen when offered, none is fine too). */
export const STOMP_SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'] as const;

/**
 * The largest WebSocket message ws will assemble. Well above the frame limit, so that an
 * oversized frame reaches the parser and is answered with an ERROR frame (FRAME_TOO_LARGE) as
 * the contract asks; only a message beyond this is cut off by ws itself (close 1009, no ERROR).
 */
const maxMessageBytes = (frameLimit: number) => Math.max(4 * frameLimit, 1024 * 1024);
/** How long `close()` waits for sockets to finish their closing handshake before cutting them. */
const SHUTDOWN_GRACE_MS = 3000;

export interface StompEndpointOptions<P> {
  app: StompApplication<P>;
  limits?: Partial<StompLimits>;
  logger?: StompLogger;
  /** `server` header of CONNECTED. */
  serverName?: string;
  /** Resolution of the shared heart-beat wheel (tests use a small one). */
  heartbeatTickMs?: number;
  /** Told when a session is cut for not reading (e.g. to count it). */
  onSlowConsumer?: () => void;
}

export interface StompEndpoint<P = unknown> {
  /** `noServer: true`; exposed for tests and metrics, not for routing. */
  readonly wss: WebSocketServer;
  /** Completes the upgrade of a request already routed to this endpoint. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Starts a session over another transport (SockJS): the caller feeds it received data and
   * calls `transportClosed` when its connection ends. Undefined while shutting down.
   */
  openSession(transport: StompTransport, request: IncomingMessage): StompSession<P> | undefined;
  /** Sends ERROR 'server shutting down' to every session, closes them and the wheel. */
  close(): Promise<void>;
  sessionCount(): number;
}

/** Picks the best STOMP subprotocol offered; `false` accepts the connection without one. */
export function selectSubprotocol(offered: ReadonlySet<string>): string | false {
  for (const protocol of STOMP_SUBPROTOCOLS) if (offered.has(protocol)) return protocol;
  return false;
}

export function createStompEndpoint<P>(options: StompEndpointOptions<P>): StompEndpoint<P> {
  const limits = resolveLimits(options.limits);
  const logger = options.logger ?? silentLogger;
  const scheduler = new HeartbeatScheduler({ tickMs: options.heartbeatTickMs });
  const sessions = new Map<WebSocket, StompSession<P>>();
  /** sessions of other transports (SockJS) */
  const others = new Set<StompSession<P>>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: maxMessageBytes(limits.maxFrameBytes),
    // ws answers subprotocol-less requests without calling this; with unknown ones we return false.
    handleProtocols: (offered) => selectSubprotocol(offered),
    // `wss.clients` lets close() wait for every socket's closing handshake.
    clientTracking: true,
  });

  wss.on('connection', (ws: WebSocket, request: IncomingMessage) => {
    if (closing) {
      ws.close(1001, 'server shutting down');
      return;
    }
    const session = new StompSession<P>({
      id: randomUUID(),
      app: options.app,
      transport: new WsTransport(ws),
      scheduler,
      request,
      subprotocol: ws.protocol,
      limits,
      logger,
      serverName: options.serverName,
    });
    sessions.set(ws, session);
    session.onClose((error) => {
      sessions.delete(ws);
      if (error?.code === 'SLOW_CONSUMER') options.onSlowConsumer?.();
    });

    ws.on('message', (data: RawData) => session.receive(toBuffer(data)));
    ws.on('pong', () => session.touch());
    ws.on('error', (error: Error & { code?: string }) => {
      logger.debug({ err: error, sessionId: session.id }, 'stomp websocket error');
      // ws has already started closing (e.g. a message over maxPayload); this only cleans up.
      const code = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'FRAME_TOO_LARGE' : 'BAD_FRAME';
      session.close(new StompError(code, error.message));
    });
    ws.on('close', () => {
      session.transportClosed();
      sessions.delete(ws);
    });
  });

  wss.on('error', (error) => logger.error({ err: error }, 'stomp websocket server error'));

  return {
    wss,
    handleUpgrade(request, socket, head) {
      if (closing) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
    },
    openSession(transport, request) {
      if (closing) return undefined;
      const session = new StompSession<P>({
        id: randomUUID(),
        app: options.app,
        transport,
        scheduler,
        request,
        limits,
        logger,
        serverName: options.serverName,
      });
      others.add(session);
      session.onClose(() => others.delete(session));
      return session;
    },
    async close() {
      closing = true;
      const sockets = [...wss.clients];
      for (const session of [...sessions.values(), ...others]) session.close(new StompError('SHUTTING_DOWN'));
      await Promise.all(sockets.map((ws) => waitForClose(ws, SHUTDOWN_GRACE_MS)));
      scheduler.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    sessionCount: () => sessions.size + others.size,
  };
}

/**
 * The socket ↔ session adapter, one per connection. A class, so its methods live on the
 * prototype: the object literal of arrow functions it replaces cost four closures, a context
 * and a dictionary-mode property store per connection (~0.7 KB of every idle session).
 *
 * Frames produced in one tick (a MESSAGE and the RECEIPT of the same SEND, a burst of
 * fan-out) leave in one write: the socket is corked at the first frame and uncorked on the
 * next tick. Still one STOMP frame per WebSocket message; only the syscalls are shared.
 */
class WsTransport implements StompTransport {
  private readonly socket: Duplex | undefined;
  private corked = false;

  constructor(private readonly ws: WebSocket) {
    this.socket = (ws as unknown as { _socket?: Duplex })._socket;
  }

  send(data: Buffer, binary: boolean): void {
    if (this.socket && !this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.ws.send(data, { binary });
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  ping(): void {
    this.ws.ping();
  }

  /** @internal */
  uncork(): void {
    this.corked = false;
    this.socket?.uncork();
  }
}

function uncork(transport: WsTransport): void {
  transport.uncork();
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function waitForClose(ws: WebSocket, graceMs: number): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, graceMs);
    timer.unref();
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
