/**
 * ChatService: the one pipeline behind every transport (STOMP, Socket.IO, tRPC).
 *
 *   send:  authorise (access) → store (group commit, idempotent on clientMsgId) → one event
 *          → fan-out (local hub + bus) → offline push → the caller's answer (RECEIPT / ack)
 *
 * The event built after the commit is the one every subscriber and the sender's answer get.
 * Rooms, history, access, fan-out, presence and push live in modules of their own; this file
 * wires them and keeps the order of the steps. No transport touches the database.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import type { AuthUser } from '../auth/tokens.js';
import type { RoomBus } from '../bus/room-bus.js';
import type { MysqlAvailability } from '../db/availability.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Presence } from '../presence/presence.js';
import { ChatError } from '../shared/errors.js';
import { messageEvent, type MessageEvent, type SendErrorEvent } from '../shared/events.js';
import { RoomAccessCache, type RoomAccess } from './access.js';
import { BusOutagePoller } from './bus-outage.js';
import { RoomFanout } from './fanout.js';
import { MessageHistory } from './history.js';
import { LocalHub, type RoomSubscriptionHandle, type Sink, type UserChannel } from './hub.js';
import { MessageStore } from './message-store.js';
import { OfflineNotifier } from './notifications.js';
import { PresenceFeed } from './presence-feed.js';
import { RoomDirectory, type RoomView } from './rooms.js';
import { UserLimits, type UserLimitSettings } from './user-limits.js';
import { UserDirectory } from './users.js';

export type { RoomAccess, RoomView };

export interface ChatServiceDeps {
  /** typed queries (Drizzle) */
  db: Db;
  /** the few hand-written queries the query builder cannot express (see history.ts, rooms.ts) */
  pool: Pool;
  /** a pool with multipleStatements for the message store (see message-store.ts) */
  storePool: Pool;
  bus: RoomBus;
  presence: Presence;
  logger: Logger;
  instanceId: string;
  metrics?: Metrics | undefined;
  /** per-user caps across connections and instances */
  limits: UserLimitSettings;
  /** shares the per-user counts between instances; null → per instance */
  redis: Redis | null;
  /** how long room memberships are cached (served longer while MySQL is down) */
  accessTtlMs?: number | undefined;
  /** MySQL up/down: its outages become UNAVAILABLE instead of internal errors */
  availability: MysqlAvailability;
}

export class ChatService {
  readonly hub: LocalHub;
  readonly store: MessageStore;
  private readonly rooms: RoomDirectory;
  private readonly messages: MessageHistory;
  private readonly access: RoomAccessCache;
  private readonly users: UserDirectory;
  private readonly fanout: RoomFanout;
  private readonly notifier: OfflineNotifier;
  private readonly presenceFeed: PresenceFeed;
  private readonly limits: UserLimits;
  private readonly availability: MysqlAvailability;
  private readonly busOutage: BusOutagePoller;
  private readonly logger: Logger;

  constructor(deps: ChatServiceDeps) {
    const { db, pool, presence, logger } = deps;
    this.logger = logger;
    this.availability = deps.availability;
    // users met during an outage are written once MySQL answers again
    deps.availability.onUp(() => this.users.retryUnwritten((err) => logger.warn({ err }, 'user not recorded')));
    this.access = new RoomAccessCache(db, deps.accessTtlMs);
    this.users = new UserDirectory(db);
    this.messages = new MessageHistory(db, pool);
    this.limits = new UserLimits({ settings: deps.limits, presence, redis: deps.redis, logger, metrics: deps.metrics });
    this.rooms = new RoomDirectory({
      db,
      pool,
      access: this.access,
      users: this.users,
      presence,
      beforeCreate: (userId) => this.limits.takeRoomOpen(userId),
    });
    this.store = new MessageStore(deps.storePool, logger.child({ module: 'store' }), {
      metrics: deps.metrics,
      isOutage: (err) => deps.availability.failed(err),
    });
    this.hub = new LocalHub({
      logger: logger.child({ module: 'hub' }),
      fetchSeqRange: (roomId, afterSeq, beforeSeq) => this.messages.seqRange(roomId, afterSeq, beforeSeq),
      fetchAfter: (roomId, afterId, limit) => this.messages.after(roomId, afterId, limit),
    });
    this.notifier = new OfflineNotifier({ presence, bus: deps.bus, logger, nameOf: (id) => this.users.nameOf(id) });
    this.fanout = new RoomFanout({
      hub: this.hub,
      bus: deps.bus,
      instanceId: deps.instanceId,
      logger,
      metrics: deps.metrics,
      onMembershipChanged: () => this.access.clear(),
      onRemotePresence: (userId) => this.notifier.forget(userId),
    });
    this.busOutage = new BusOutagePoller({
      bus: deps.bus,
      hub: this.hub,
      fetch: (rooms, limit) => this.messages.afterSeqs(rooms, limit),
      membersOf: (roomId) => this.access.members(roomId),
      logger: logger.child({ module: 'bus-outage' }),
    });
    this.presenceFeed = new PresenceFeed({ presence, rooms: this.rooms, fanout: this.fanout, notifier: this.notifier, logger });
  }

  /** records the user's display name (and email) the first time this process sees them */
  rememberUser(user: AuthUser): Promise<void> {
    return this.guard(this.users.remember(user));
  }

  /**
   * The same without waiting, for connects: a valid token is enough to connect, also while
   * MySQL is down (the user is written when it is back).
   */
  rememberUserSoon(user: AuthUser): void {
    this.users.rememberSoon(user, (err) => this.logger.warn({ err }, 'user not recorded'));
  }

  /** members of the room; NOT_FOUND when it does not exist, FORBIDDEN for anyone else */
  authorize(userId: string, roomId: string): Promise<RoomAccess> {
    return this.guard(this.access.authorize(userId, roomId));
  }

  /** a MySQL outage becomes UNAVAILABLE (logged once by the tracker); anything else is passed on */
  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (!(err instanceof ChatError) && this.availability.failed(err)) throw new ChatError('UNAVAILABLE');
      throw err;
    }
  }

  /** memberships changed outside the normal path (account events): here and on every instance */
  forgetAccess(): void {
    this.access.clear();
    this.fanout.membershipChanged();
  }

  openRoom(buyer: AuthUser, sellerId: string, productId: string): Promise<RoomView> {
    return this.guard(this.rooms.open(buyer, sellerId, productId));
  }

  getRoom(userId: string, roomId: string): Promise<RoomView> {
    return this.guard(this.rooms.get(userId, roomId));
  }

  listRooms(userId: string, opts: { cursor?: string; limit: number }) {
    return this.guard(this.rooms.list(userId, opts));
  }

  history(userId: string, roomId: string, opts: { before?: number; limit: number }) {
    return this.guard(this.access.authorize(userId, roomId).then(() => this.messages.page(roomId, opts)));
  }

  since(userId: string, roomId: string, opts: { after: number; limit: number }) {
    return this.guard(this.access.authorize(userId, roomId).then(() => this.messages.since(roomId, opts)));
  }

  /**
   * Stores the message and resolves once it is committed, with the one event every subscriber
   * got. A repeated clientMsgId returns the original and announces nothing.
   * Callers of one batch resume in commit order, so the hub sees each room's seq in order.
   */
  async sendMessage(
    userId: string,
    roomId: string,
    input: { content: string; clientMsgId: string | null },
  ): Promise<{ message: MessageEvent; duplicate: boolean }> {
    const access = await this.authorize(userId, roomId);
    const { message: stored, duplicate } = await this.store.append({ roomId, senderId: userId, ...input });
    const message = messageEvent(stored);
    if (!duplicate) {
      this.fanout.publish(access, message, stored.seq);
      this.notifier.stored(message, access.members);
    }
    return { message, duplicate };
  }

  /** moves the caller's read mark forward only; publishes a read event when it moved */
  async markRead(userId: string, roomId: string, messageId: number): Promise<{ moved: boolean; lastReadMessageId: string }> {
    const access = await this.authorize(userId, roomId);
    const result = await this.guard(this.messages.markRead(roomId, userId, messageId));
    if (result.moved) this.fanout.publish(access, { type: 'read', roomId, userId, messageId: result.lastReadMessageId });
    return result;
  }

  async typing(userId: string, roomId: string): Promise<void> {
    const access = await this.authorize(userId, roomId);
    this.fanout.publish(access, { type: 'typing', roomId, userId });
  }

  /** a rejected SEND, to the user's error channel on every instance */
  reportUserError(userId: string, error: SendErrorEvent): void {
    this.fanout.userError(userId, error);
  }

  async subscribeRoom(userId: string, roomId: string, sink: Sink, sinceId?: number): Promise<RoomSubscriptionHandle> {
    await this.authorize(userId, roomId);
    let roomLastSeq: number | undefined;
    try {
      roomLastSeq = await this.messages.lastSeq(roomId);
    } catch (err) {
      // a member may follow a room known from the access cache while MySQL is down
      if (!this.availability.failed(err)) throw err;
    }
    return this.hub.subscribeRoom(roomId, sink, { roomLastSeq, ...(sinceId !== undefined ? { sinceId } : {}) });
  }

  /** the user's own channels: `events` (all their rooms) or `errors` (rejected SENDs) */
  subscribeUser(sink: Sink, channel: UserChannel = 'events'): RoomSubscriptionHandle {
    return this.hub.subscribeUser(sink, channel);
  }

  /**
   * A connection of the user opened on this instance (any transport). Over the user's cap it is
   * unregistered again and refused with TOO_MANY_REQUESTS naming the limit.
   */
  async connected(userId: string, sessionId: string): Promise<void> {
    await this.presenceFeed.connected(userId, sessionId);
    try {
      await this.limits.checkConnections(userId);
    } catch (err) {
      await this.presenceFeed.disconnected(userId, sessionId);
      throw err;
    }
  }

  /** one SEND (message, read mark or typing) of the user, counted across all their connections */
  limitSend(userId: string): void {
    this.limits.takeSend(userId);
  }

  disconnected(userId: string, sessionId: string): Promise<void> {
    return this.presenceFeed.disconnected(userId, sessionId);
  }

  async close(): Promise<void> {
    await this.store.idle();
    await this.presenceFeed.idle();
    this.limits.close();
    this.busOutage.close();
    this.hub.close();
  }
}
