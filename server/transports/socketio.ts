/**
 * The Socket.IO bridge: namespace `/chat` at path `/socket.io`, onto the same chat pipeline,
 * authorisation and rate limits as STOMP. Events (DESIGN.md):
 *   client → server, each with an acknowledgement:
 *     room:join {roomId, since?}   room:leave {roomId}
 *     message:send {roomId, content, clientMsgId?} → {ok, message} | {ok:false, error}
 *     message:read {roomId, messageId}             typing {roomId}
 *   server → client: room:event with the same JSON events as STOMP bodies.
 *
 * engine.io is driven directly (no `attach`): it would otherwise add its own `upgrade`
 * listener to the HTTP server and end upgrades it does not own after a timeout, including
 * `/ws-stomp`. The composition root's single upgrade owner hands it only `/socket.io`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as EngineServer } from 'engine.io';
import { Server, type Socket } from 'socket.io';
import type { CookieAuth } from '../auth/session-cookie.js';
import { TokenError, type AuthUser, type TokenService } from '../auth/tokens.js';
import { ChatError, type ChatErrorCode } from '../shared/errors.js';
import type { MessageEvent, RoomEvent } from '../shared/events.js';
import type { RoomSubscriptionHandle } from '../chat/hub.js';
import { TokenBucket } from '../shared/rate-limit.js';
import type { ChatService } from '../chat/service.js';
import { clientMsgId, content, firstIssue, messageId, roomId } from '../chat/validation.js';
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
}

type InterServerEvents = Record<string, never>;

interface SocketData {
  user: AuthUser;
  bucket: TokenBucket;
  rooms: Map<string, RoomSubscriptionHandle>;
}

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const joinInput = z.object({ roomId, since: messageId.nullish() });
const roomInput = z.object({ roomId });
const sendInput = z.object({ roomId, content, clientMsgId: clientMsgId.nullish() });
const readInput = z.object({ roomId, messageId });

export interface SocketIoBridgeOptions {
  chat: ChatService;
  tokens: TokenService;
  cookieAuth: CookieAuth;
  logger: Logger;
  sendRatePerSecond: number;
  sendBurst: number;
  maxPayloadBytes: number;
}

/** engine.io keeps unsent packets in `writeBuffer` (not in its public types) */
function queuedPackets(socket: ChatSocket): number {
  return (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
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
      let user: AuthUser | null = null;
      if (typeof token === 'string' && token) user = await opts.tokens.verify(token.replace(/^Bearer\s+/i, ''));
      else user = await opts.cookieAuth.userForUpgrade(socket.request);
      if (!user) throw new TokenError('missing', 'no token: connect with auth: { token }');
      await chat.rememberUser(user);
      socket.data.user = user;
      socket.data.bucket = new TokenBucket(opts.sendRatePerSecond, opts.sendBurst);
      socket.data.rooms = new Map();
      next();
    } catch (err) {
      const message = err instanceof TokenError ? err.message : 'authentication failed';
      const e = new Error(message) as Error & { data?: unknown };
      e.data = { code: 'UNAUTHORIZED' };
      next(e);
    }
  });

  nsp.on('connection', (socket: ChatSocket) => {
    const { user } = socket.data;
    void chat.connected(user.id, socket.id).catch((err) => logger.warn({ err }, 'presence update failed'));

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
          if (opts2.rateLimited && !socket.data.bucket.take()) throw new ChatError('TOO_MANY_REQUESTS', 'sending too fast: slow down and retry');
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
        const sub = await chat.subscribeRoom(
          user.id,
          id,
          {
            userId: user.id,
            deliver: (out) => {
              // a reader that stopped reading is cut off instead of growing server memory
              if (queuedPackets(socket) > MAX_QUEUED_PACKETS) {
                logger.warn({ user: user.id }, 'socket.io slow consumer disconnected');
                socket.disconnect(true);
                return;
              }
              socket.emit('room:event', out.event);
            },
          },
          since ?? undefined,
        );
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
          const { message } = await chat.sendMessage(user.id, input.roomId, { content: input.content, clientMsgId: input.clientMsgId ?? null });
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
    socketCount: () => nsp.sockets.size,
    async close() {
      nsp.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      engine.close();
    },
  };
}
