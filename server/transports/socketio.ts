/**
 * The Socket.IO bridge: namespace `/chat` at path `/socket.io`, onto the same chat pipeline,
 * authorisation and rate limits as STOMP. Events (docs/contract.md):
 *   client → server, each with an acknowledgement:
 *     room:join {roomId, since?}   room:leave {roomId}
 *     message:send {roomId, content, clientMsgId?} → {ok, message} | {ok:false, error}
 *     message:read {roomId, messageId}             typing {roomId}
 *   server → client: room:event with the same JSON events as STOMP bodies; user:error with the
 *   rejections of the user's STOMP SENDs (the events of `/user/queue/errors`).
 *
 * engine.io is driven directly (no `attach`): it would otherwise add its own `upgrade`
 * listener to the HTTP server and end upgrades it does not own after a timeout, including
 * `/ws-stomp`. The composition root's single upgrade owner hands it only `/socket.io`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as EngineServer } from 'engine.io';
import { Server, type Socket } from 'socket.io';
import type { Authenticator } from '../auth/authenticate.js';
import { TokenError, type AuthUser } from '../auth/tokens.js';
import { ChatError, type ChatErrorCode } from '../shared/errors.js';
import type { MessageEvent, RoomEvent, SendErrorEvent } from '../shared/events.js';
import type { Outgoing, RoomSubscriptionHandle, Sink } from '../chat/hub.js';
import { TokenBucket } from '../shared/rate-limit.js';
import type { ChatService } from '../chat/service.js';
import { clientMsgId, content, firstIssue, messageId, roomId } from '../chat/validation.js';
import { secondsSince, type Metrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import { z } from 'zod';

export const SOCKET_IO_PATH = '/socket.io';
/** packets waiting for a Socket.IO client before it counts as a slow consumer */
const MAX_QUEUED_PACKETS = 5_000;

type Ack<T = object> = (reply: ({ ok: true } & T) | { ok: false; error: { code: ChatErrorCode; message: string } }) => void;

export interface ClientToServerEvents {
  'room:join': (payload: { roomId: string; since?: string | number }, ack?: Ack) => void;
  'room:leave': (payload: { roomId: string }, ack?: Ack) => void;
  'message:send': (payload: { roomId: string; content: string; clientMsgId?: string }, ack?: Ack<{ message: MessageEvent }>) => void;
  'message:read': (payload: { roomId: string; messageId: string | number }, ack?: Ack<{ lastReadMessageId: string }>) => void;
  typing: (payload: { roomId: string }, ack?: Ack) => void;
}

export interface ServerToClientEvents {
  'room:event': (event: RoomEvent) => void;
  'user:error': (event: SendErrorEvent) => void;
}

type InterServerEvents = Record<string, never>;

interface SocketData {
  user: AuthUser;
  bucket: TokenBucket;
  rooms: Map<string, RoomSubscriptionHandle>;
  errors: RoomSubscriptionHandle | undefined;
}

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export const joinInput = z.object({ roomId, since: messageId.nullish() });
export const roomInput = z.object({ roomId });
export const sendInput = z.object({ roomId, content, clientMsgId: clientMsgId.nullish() });
export const readInput = z.object({ roomId, messageId });

export interface SocketIoBridgeOptions {
  chat: ChatService;
  auth: Authenticator;
  logger: Logger;
  sendRatePerSecond: number;
  sendBurst: number;
  maxPayloadBytes: number;
  metrics?: Metrics | undefined;
}

/** the `ws` socket under a Socket.IO connection on the websocket transport (not in engine.io's public types) */
function rawWebSocket(socket: ChatSocket): { terminate?: () => void } | undefined {
  return (socket.conn as unknown as { transport?: { socket?: { terminate?: () => void } } }).transport?.socket;
}

/** engine.io keeps unsent packets in `writeBuffer` (not in its public types) */
function queuedPackets(socket: ChatSocket): number {
  return (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
}

/** a hub sink onto one socket: room events as `room:event`, the user's rejections as `user:error` */
class SocketSink implements Sink {
  readonly userId: string;

  constructor(
    private readonly socket: ChatSocket,
    private readonly logger: Logger,
    private readonly metrics: Metrics | undefined,
  ) {
    this.userId = socket.data.user.id;
  }

  deliver(out: Outgoing): void {
    // a reader that stopped reading is cut off instead of growing server memory
    if (queuedPackets(this.socket) > MAX_QUEUED_PACKETS) {
      this.logger.warn({ user: this.userId }, 'socket.io slow consumer disconnected');
      this.metrics?.slowConsumerCutoffs.inc({ transport: 'socketio' });
      const raw = rawWebSocket(this.socket);
      this.socket.disconnect(true);
      // the closing handshake would hold the socket ~30 s for a peer that does not read
      raw?.terminate?.();
      return;
    }
    if (out.event.type === 'error') this.socket.emit('user:error', out.event);
    else this.socket.emit('room:event', out.event);
  }
}

export function createSocketIoBridge(opts: SocketIoBridgeOptions) {
  const { chat, logger } = opts;
  const engine = new EngineServer({
    maxHttpBufferSize: opts.maxPayloadBytes,
    perMessageDeflate: false,
    httpCompression: false,
    pingInterval: 25_000,
    pingTimeout: 20_000,
  });
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>({
    path: SOCKET_IO_PATH,
    serveClient: false,
  });
  io.bind(engine);
  const nsp = io.of('/chat');

  nsp.use(async (socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const { user } = await opts.auth.require(
        { token: typeof token === 'string' ? token.replace(/^Bearer\s+/i, '') : undefined, request: socket.request, cookieNeedsOrigin: true },
        'no token: connect with auth: { token }',
      );
      // not awaited: a valid token is enough to connect, also while MySQL is down
      chat.rememberUserSoon(user);
      // registered here, before the namespace admits the socket, so the per-user cap can refuse it
      await chat.connected(user.id, socket.id);
      if (socket.conn.readyState !== 'open') {
        // gone while being admitted: no `disconnect` will come to unregister it
        await chat.disconnected(user.id, socket.id);
        throw new Error('connection closed');
      }
      socket.data.user = user;
      socket.data.bucket = new TokenBucket(opts.sendRatePerSecond, opts.sendBurst);
      socket.data.rooms = new Map();
      socket.data.errors = undefined;
      next();
    } catch (err) {
      const refusal = err instanceof ChatError && err.code === 'TOO_MANY_REQUESTS' ? err : null;
      const message = refusal ? refusal.message : err instanceof TokenError ? err.message : 'authentication failed';
      const e = new Error(message) as Error & { data?: unknown };
      e.data = { code: refusal ? 'TOO_MANY_REQUESTS' : 'UNAUTHORIZED' };
      next(e);
    }
  });

  nsp.on('connection', (socket: ChatSocket) => {
    const { user } = socket.data;
    socket.data.errors = chat.subscribeUser(new SocketSink(socket, logger, opts.metrics), 'errors');

    const handle = <I, T extends object>(
      schema: z.ZodType<I>,
      run: (input: I) => Promise<T>,
      opts2: { rateLimited?: boolean } = {},
    ) =>
      async (payload: unknown, ack?: Ack<T>) => {
        const reply = typeof ack === 'function' ? ack : () => undefined;
        try {
          const parsed = schema.safeParse(payload);
          if (!parsed.success) throw new ChatError('BAD_REQUEST', firstIssue(parsed.error));
          if (opts2.rateLimited && !socket.data.bucket.take()) {
            opts.metrics?.limitRefusals.inc({ limit: 'send_rate' });
            throw new ChatError('TOO_MANY_REQUESTS', 'sending too fast: slow down and retry');
          }
          if (opts2.rateLimited) chat.limitSend(user.id);
          reply({ ok: true, ...(await run(parsed.data)) });
        } catch (err) {
          if (err instanceof ChatError) reply({ ok: false, error: { code: err.code, message: err.message } });
          else {
            logger.error({ err }, 'socket.io handler failed');
            reply({ ok: false, error: { code: 'UNAVAILABLE', message: 'internal error, try again' } });
          }
        }
      };

    socket.on(
      'room:join',
      handle(joinInput, async ({ roomId: id, since }) => {
        if (socket.data.rooms.has(id)) return {};
        const sub = await chat.subscribeRoom(user.id, id, new SocketSink(socket, logger, opts.metrics), since ?? undefined);
        if (socket.disconnected) sub.close();
        else socket.data.rooms.set(id, sub);
        return {};
      }),
    );
    socket.on(
      'room:leave',
      handle(roomInput, async ({ roomId: id }) => {
        socket.data.rooms.get(id)?.close();
        socket.data.rooms.delete(id);
        return {};
      }),
    );
    socket.on(
      'message:send',
      handle(
        sendInput,
        async (input) => {
          const started = performance.now();
          const { message } = await chat.sendMessage(user.id, input.roomId, { content: input.content, clientMsgId: input.clientMsgId ?? null });
          opts.metrics?.receipt.socketio.observe(secondsSince(started));
          return { message };
        },
        { rateLimited: true },
      ),
    );
    socket.on(
      'message:read',
      handle(
        readInput,
        async (input) => {
          const r = await chat.markRead(user.id, input.roomId, input.messageId);
          return { lastReadMessageId: r.lastReadMessageId };
        },
        { rateLimited: true },
      ),
    );
    socket.on(
      'typing',
      handle(roomInput, async (input) => {
        await chat.typing(user.id, input.roomId);
        return {};
      }, { rateLimited: true }),
    );
    socket.on('disconnect', () => {
      for (const sub of socket.data.rooms.values()) sub.close();
      socket.data.rooms.clear();
      socket.data.errors?.close();
      void chat.disconnected(user.id, socket.id).catch((err) => logger.warn({ err }, 'presence update failed'));
    });
  });

  return {
    handleRequest(req: IncomingMessage, res: ServerResponse) {
      engine.handleRequest(req, res);
    },
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      engine.handleUpgrade(req, socket, head);
    },
    /** open sockets of the namespace (connections by transport, /metrics) */
    socketCount: () => nsp.sockets.size,
    async close() {
      nsp.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      engine.close();
    },
  };
}
