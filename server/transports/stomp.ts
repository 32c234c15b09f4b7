/**
 * The chat application behind `/ws-stomp`: maps STOMP destinations onto the chat pipeline.
 *
 *   SUBSCRIBE /sub/chat/room/{roomId} [x-since]   room events (members only, else ERROR + close)
 *   SUBSCRIBE /user/queue/events                   the caller's events from all their rooms
 *   SUBSCRIBE /user/queue/errors                   rejections of the caller's SENDs
 *   SEND /pub/room/{roomId}/message|read|typing
 *
 * Identity comes only from the verified token (or the web session cookie), through the one
 * `authenticate` edge; sender fields in headers or bodies are ignored. A rejected SEND gets no
 * RECEIPT; an error event naming its `receipt` and `clientMsgId` goes to the user's `errors`
 * channel of the hub (every `/user/queue/errors` subscription, on every instance), and the
 * connection stays open.
 */
import type { Authenticator } from '../auth/authenticate.js';
import type { AuthUser } from '../auth/tokens.js';
import { bearerToken, TokenError } from '../auth/tokens.js';
import { ChatError, type ChatErrorCode } from '../shared/errors.js';
import type { Outgoing, RoomSubscriptionHandle, Sink } from '../chat/hub.js';
import { TokenBucket } from '../shared/rate-limit.js';
import type { ChatService } from '../chat/service.js';
import {
  firstIssue,
  isRoomId,
  messageBody,
  messageId as messageIdSchema,
  quickMessageBody,
  readBody,
  roomId as roomIdSchema,
  type MessageBody,
} from '../chat/validation.js';
import { secondsSince, type Metrics } from '../metrics.js';
import type { Logger } from '../logger.js';
import {
  prepareMessage,
  SendRejected,
  StompError,
  type ConnectRequest,
  type PreparedMessage,
  type SendRequest,
  type StompApplication,
  type StompSessionView,
  type SubscribeRequest,
} from '../stomp/index.js';

const ROOM_TOPIC = /^\/sub\/chat\/room\/([^/]+)$/;
const ROOM_PUB = /^\/pub\/room\/([^/]+)\/(message|read|typing)$/;
const USER_EVENTS = '/user/queue/events';
const USER_ERRORS = '/user/queue/errors';
const MALFORMED_TOKEN = 'token is malformed: expected a JWT (header.payload.signature) in "Authorization: Bearer <jwt>" or as passcode';

/** what this adapter keeps per STOMP connection */
export interface StompPrincipal {
  user: AuthUser;
  bucket: TokenBucket;
  handles: Map<string, RoomSubscriptionHandle>;
}

export interface StompChatOptions {
  chat: ChatService;
  auth: Authenticator;
  logger: Logger;
  sendRatePerSecond: number;
  sendBurst: number;
  metrics?: Metrics | undefined;
}

export class StompChatApplication implements StompApplication<StompPrincipal> {
  private readonly chat: ChatService;
  private readonly logger: Logger;

  constructor(private readonly opts: StompChatOptions) {
    this.chat = opts.chat;
    this.logger = opts.logger;
  }

  async connect(ctx: ConnectRequest) {
    const h = ctx.headers;
    const authorization = h.get('Authorization') ?? h.get('authorization');
    const passcode = h.get('passcode');
    const offered = [bearerToken(authorization) ?? authorization, passcode].filter((v): v is string => Boolean(v));
    const token = offered.find(looksLikeJwt);
    let user: AuthUser | undefined;
    try {
      user = (await this.opts.auth.authenticate({ token, request: ctx.request, cookieNeedsOrigin: true }))?.user;
      // a passcode that is not a JWT still lets a signed-in page in on its cookie; otherwise say what is wrong with it
      if (!user && offered.length > 0) throw new TokenError('invalid', MALFORMED_TOKEN);
      if (!user) throw new TokenError('missing', 'no token: send the native header "Authorization: Bearer <jwt>" (or the JWT as passcode)');
    } catch (err) {
      const reason = err instanceof TokenError ? err.message : 'token is not valid';
      throw new StompError('AUTH_FAILED', reason);
    }
    // not awaited: a valid token is enough to connect, also while MySQL is down
    this.chat.rememberUserSoon(user);
    try {
      await this.chat.connected(user.id, ctx.sessionId);
    } catch (err) {
      if (err instanceof ChatError && err.code === 'TOO_MANY_REQUESTS') throw new StompError('TOO_MANY_CONNECTIONS', err.message);
      throw err;
    }
    return {
      principal: { user, bucket: new TokenBucket(this.opts.sendRatePerSecond, this.opts.sendBurst), handles: new Map() },
      userName: user.id,
    };
  }

  async subscribe(session: StompSessionView<StompPrincipal>, sub: SubscribeRequest): Promise<void> {
    const { user, handles } = session.principal;
    const destination = sub.destination;
    const room = ROOM_TOPIC.exec(destination);
    if (room) {
      const roomId = roomIdSchema.safeParse(room[1]);
      if (!roomId.success) throw new StompError('FORBIDDEN', `no such room: ${room[1]}`);
      let sinceId: number | undefined;
      const since = sub.headers.get('x-since');
      if (since !== undefined && since !== '') {
        const parsed = messageIdSchema.safeParse(since);
        if (!parsed.success) throw new StompError('BAD_REQUEST', 'x-since must be a decimal message id');
        sinceId = parsed.data;
      }
      try {
        const handle = await this.chat.subscribeRoom(user.id, roomId.data, new StompSink(session, sub.id, destination, user.id), sinceId);
        handles.set(sub.id, handle);
      } catch (err) {
        throw toStompError(err, `cannot subscribe to ${destination}`);
      }
      return;
    }
    if (destination === USER_EVENTS) {
      handles.set(sub.id, this.chat.subscribeUser(new StompSink(session, sub.id, destination, user.id)));
      return;
    }
    if (destination === USER_ERRORS) {
      handles.set(sub.id, this.chat.subscribeUser(new StompSink(session, sub.id, destination, user.id), 'errors'));
      return;
    }
    throw new StompError('FORBIDDEN', `unknown destination ${destination}: use /sub/chat/room/{roomId}, ${USER_EVENTS} or ${USER_ERRORS}`);
  }

  unsubscribe(session: StompSessionView<StompPrincipal>, subscriptionId: string): void {
    const handles = session.principal.handles;
    handles.get(subscriptionId)?.close();
    handles.delete(subscriptionId);
  }

  async send(session: StompSessionView<StompPrincipal>, frame: SendRequest): Promise<void> {
    const { user, bucket } = session.principal;
    const receipt = frame.headers.get('receipt');
    let clientMsgId: string | undefined;
    try {
      const match = ROOM_PUB.exec(frame.destination);
      if (!match) throw new ChatError('BAD_REQUEST', `unknown destination ${frame.destination}: use /pub/room/{roomId}/message, /read or /typing`);
      const roomId = match[1]!;
      if (!isRoomId(roomId)) throw new ChatError('NOT_FOUND', `no such room: ${roomId}`);
      const body = parseJson(frame.body);
      if (body && typeof body === 'object' && typeof (body as { clientMsgId?: unknown }).clientMsgId === 'string') {
        clientMsgId = (body as { clientMsgId: string }).clientMsgId;
      }
      if (!bucket.take()) {
        this.opts.metrics?.limitRefusals.inc({ limit: 'send_rate' });
        throw new ChatError('TOO_MANY_REQUESTS', 'sending too fast: slow down and retry');
      }
      this.chat.limitSend(user.id);
      switch (match[2]) {
        case 'message': {
          const started = performance.now();
          await this.chat.sendMessage(user.id, roomId, quickMessageBody(body) ?? checkedMessageBody(body));
          this.opts.metrics?.receipt.stomp.observe(secondsSince(started));
          return;
        }
        case 'read': {
          const parsed = readBody.safeParse(body);
          if (!parsed.success) throw new ChatError('BAD_REQUEST', firstIssue(parsed.error));
          await this.chat.markRead(user.id, roomId, parsed.data.messageId);
          return;
        }
        default:
          await this.chat.typing(user.id, roomId);
      }
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      this.chat.reportUserError(user.id, {
        type: 'error',
        code: err.code,
        message: err.message,
        destination: frame.destination,
        ...(receipt !== undefined ? { receipt } : {}),
        ...(clientMsgId !== undefined ? { clientMsgId } : {}),
      });
      throw new SendRejected(err.code, err.message);
    }
  }

  disconnected(session: StompSessionView<StompPrincipal>): void {
    const { user, handles } = session.principal;
    for (const h of handles.values()) h.close();
    handles.clear();
    void this.chat.disconnected(user.id, session.id).catch((err) => this.logger.warn({ err }, 'presence update failed'));
  }
}

/**
 * A hub sink that renders each event once per destination and splices in the subscription.
 * A class rather than an object literal with a `deliver` closure: one fewer closure and context
 * per subscription of every idle connection.
 */
class StompSink implements Sink {
  constructor(
    private readonly session: StompSessionView<StompPrincipal>,
    private readonly subId: string,
    private readonly destination: string,
    readonly userId: string,
  ) {}

  deliver(out: Outgoing): void {
    this.session.deliver(this.subId, out.cached(this.destination, prepareJsonMessage));
  }
}

/** a module function, not a closure per delivery: the hub calls it once per event and destination */
function prepareJsonMessage(destination: string, out: Outgoing): PreparedMessage {
  return prepareMessage({ destination, 'content-type': 'application/json' }, out.json);
}

function checkedMessageBody(body: unknown): MessageBody {
  const parsed = messageBody.safeParse(body);
  if (!parsed.success) throw new ChatError('BAD_REQUEST', firstIssue(parsed.error));
  return parsed.data;
}

function toStompError(err: unknown, context: string): unknown {
  if (err instanceof ChatError) {
    const code: Record<ChatErrorCode, 'FORBIDDEN' | 'BAD_REQUEST' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'AUTH_FAILED'> = {
      FORBIDDEN: 'FORBIDDEN',
      BLOCKED: 'FORBIDDEN',
      NOT_FOUND: 'FORBIDDEN',
      BAD_REQUEST: 'BAD_REQUEST',
      TOO_MANY_REQUESTS: 'RATE_LIMITED',
      UNAVAILABLE: 'UNAVAILABLE',
      UNAUTHORIZED: 'AUTH_FAILED',
    };
    return new StompError(code[err.code], `${context}: ${err.message}`);
  }
  return err;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ChatError('BAD_REQUEST', 'body must be JSON');
  }
}

/** three base64url parts: the shape of a JWT, before anything is verified */
function looksLikeJwt(v: string | undefined): v is string {
  return typeof v === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(v);
}
