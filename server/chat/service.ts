/**
 * ChatService: the one pipeline behind every transport (STOMP, Socket.IO, tRPC).
 * validate → authorise → store (MySQL, idempotent on clientMsgId) → deliver locally in commit
 * order → publish on the RoomBus for the other instances → notify offline recipients.
 * No transport touches the database; they call this.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { AuthUser } from '../auth/tokens.js';
import type { ClientEnvelope, RoomBus } from '../bus/room-bus.js';
import type { Logger } from '../logger.js';
import type { Presence } from '../presence/presence.js';
import { ChatError } from '../shared/errors.js';
import { messageEvent, type MessageEvent, type ReadEvent, type RoomEvent, type SendErrorEvent, type StoredMessage } from '../shared/events.js';
import { LocalHub, type RoomSubscriptionHandle, type Sink } from './hub.js';
import { MessageStore, toStored } from './message-store.js';

export interface RoomAccess {
  roomId: string;
  members: string[];
  buyerId: string;
  sellerId: string;
}

export interface RoomView {
  id: string;
  productId: string;
  buyerId: string;
  sellerId: string;
  role: 'buyer' | 'seller';
  createdAt: string;
  lastActivityAt: string;
  counterpart: { id: string; name: string; online: boolean | null; lastReadMessageId: string };
  lastMessage: MessageEvent | null;
  unreadCount: number;
  lastReadMessageId: string;
}

export interface ChatServiceDeps {
  pool: Pool;
  /** a pool with multipleStatements for the message store (see message-store.ts) */
  storePool: Pool;
  bus: RoomBus;
  presence: Presence;
  logger: Logger;
  instanceId: string;
}

const ACCESS_TTL_MS = 15_000;
const SELECT_MESSAGE = 'SELECT id, room_id, seq, sender_id, content, client_msg_id, created_at FROM messages';
/**
 * Keyset pages walk (room_id, id). Without the hint MariaDB may pick `ref` on room_id alone and
 * then filter `id < ?` row by row: measured at 1M messages, a page in the middle of a 500k-room
 * took ~900 ms that way and ~0.5 ms as a range scan on the composite index (bench S5).
 */
const SELECT_MESSAGE_BY_ROOM_ID = `${SELECT_MESSAGE} FORCE INDEX (messages_room_id_idx)`;

export class ChatService {
  readonly hub: LocalHub;
  readonly store: MessageStore;
  private readonly pool: Pool;
  private readonly bus: RoomBus;
  private readonly presence: Presence;
  private readonly logger: Logger;
  private readonly instanceId: string;
  private readonly access = new Map<string, { value: RoomAccess; expires: number }>();
  /** names (and emails) already written to `users` by this process */
  private readonly knownUsers = new Map<string, { name: string; email: string | undefined }>();
  private readonly accessLoads = new Map<string, Promise<RoomAccess>>();

  constructor(deps: ChatServiceDeps) {
    this.pool = deps.pool;
    this.bus = deps.bus;
    this.presence = deps.presence;
    this.logger = deps.logger;
    this.instanceId = deps.instanceId;
    this.hub = new LocalHub({
      logger: deps.logger.child({ module: 'hub' }),
      fetchSeqRange: (roomId, afterSeq, beforeSeq) =>
        this.query(`${SELECT_MESSAGE} WHERE room_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT 1000`, [roomId, afterSeq, beforeSeq]),
      fetchAfter: (roomId, afterId, limit) =>
        this.query(`${SELECT_MESSAGE_BY_ROOM_ID} WHERE room_id = ? AND id > ? ORDER BY id LIMIT ?`, [roomId, afterId, limit]),
    });
    this.store = new MessageStore(deps.storePool, deps.logger.child({ module: 'store' }), {
      onCommitted: (messages) => this.announce(messages),
    });
    // a killed instance's users: someone has to tell their rooms they went offline
    this.presence.onExpired((userId) => {
      this.recentPresence.delete(userId);
      void this.track(this.announcePresence(userId, false));
    });
    // events of other instances; our own were delivered at commit
    this.bus.onEvent((env) => {
      if (env.origin === this.instanceId) return;
      if (env.event.type === 'membership-changed') this.access.clear();
      else if (env.event.type === 'user-error') this.passUserError(env.event.userId, env.event.error);
      else {
        if (env.event.type === 'presence') this.recentPresence.delete(env.event.userId);
        this.hub.ingest(env as ClientEnvelope);
      }
    });
  }

  private async query(sql: string, params: unknown[]): Promise<StoredMessage[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(sql, params);
    return rows.map(toStored);
  }

  // ---------------------------------------------------------------- identity

  /** records the user's display name (and email) the first time this process sees them */
  async rememberUser(user: AuthUser): Promise<void> {
    const known = this.knownUsers.get(user.id);
    if (known && known.name === user.name && known.email === user.email) return;
    await this.pool.query(
      'INSERT INTO users (id, name, email) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), email = COALESCE(VALUES(email), email), updated_at = CURRENT_TIMESTAMP(3)',
      [user.id, user.name, user.email ?? null],
    );
    if (this.knownUsers.size > 100_000) this.knownUsers.clear();
    this.knownUsers.set(user.id, { name: user.name, email: user.email });
  }

  // ---------------------------------------------------------------- access

  /** members of the room; NOT_FOUND when it does not exist, FORBIDDEN for anyone else */
  async authorize(userId: string, roomId: string): Promise<RoomAccess> {
    const cached = this.access.get(roomId);
    const access = cached && cached.expires > Date.now() ? cached.value : await this.loadAccessOnce(roomId);
    if (!access.members.includes(userId)) throw new ChatError('FORBIDDEN');
    return access;
  }

  /**
   * Concurrent lookups of one room share a query: pipelined SENDs of a connection then resume
   * in their arrival order, so they reach the store in the order they were sent.
   */
  private loadAccessOnce(roomId: string): Promise<RoomAccess> {
    let p = this.accessLoads.get(roomId);
    if (!p) {
      p = this.loadAccess(roomId).finally(() => this.accessLoads.delete(roomId));
      this.accessLoads.set(roomId, p);
    }
    return p;
  }

  private async loadAccess(roomId: string): Promise<RoomAccess> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT r.buyer_id, r.seller_id, m.user_id FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.left_at IS NULL WHERE r.id = ?',
      [roomId],
    );
    const first = rows[0];
    if (!first) throw new ChatError('NOT_FOUND');
    const value: RoomAccess = {
      roomId,
      buyerId: String(first.buyer_id),
      sellerId: String(first.seller_id),
      members: rows.filter((r) => r.user_id !== null).map((r) => String(r.user_id)),
    };
    if (this.access.size > 50_000) this.access.clear();
    this.access.set(roomId, { value, expires: Date.now() + ACCESS_TTL_MS });
    return value;
  }

  /** memberships changed outside the normal path (account events): here and on every instance */
  forgetAccess(): void {
    this.access.clear();
    this.bus.publish({ roomId: '*', members: [], origin: this.instanceId, event: { type: 'membership-changed' } });
  }

  // ---------------------------------------------------------------- rejected SENDs

  private readonly userErrorListeners: Array<(userId: string, error: SendErrorEvent) => void> = [];

  /** `listener` gets every rejection of a user's SEND, from this instance and from the others */
  onUserError(listener: (userId: string, error: SendErrorEvent) => void): void {
    this.userErrorListeners.push(listener);
  }

  /** tells the user's connections here and on every other instance that a SEND was rejected */
  reportUserError(userId: string, error: SendErrorEvent): void {
    this.passUserError(userId, error);
    this.bus.publish({ roomId: '*', members: [userId], origin: this.instanceId, event: { type: 'user-error', userId, error } });
  }

  private passUserError(userId: string, error: SendErrorEvent): void {
    for (const listener of this.userErrorListeners) {
      try {
        listener(userId, error);
      } catch (err) {
        this.logger.error({ err }, 'user error delivery failed');
      }
    }
  }

  // ---------------------------------------------------------------- rooms

  async openRoom(buyer: AuthUser, sellerId: string, productId: string): Promise<RoomView> {
    if (buyer.id === sellerId) throw new ChatError('BAD_REQUEST', 'you cannot open a chat with yourself: sellerId is your own id');
    await this.rememberUser(buyer);
    const conn = await this.pool.getConnection();
    let roomId: string;
    try {
      await conn.beginTransaction();
      // the unique (buyer, seller, product) index makes concurrent opens converge on one row:
      // the loser's INSERT IGNORE waits for the winner's commit, then does nothing
      await conn.query('INSERT IGNORE INTO rooms (id, product_id, buyer_id, seller_id) VALUES (?, ?, ?, ?)', [
        randomUUID(),
        productId,
        buyer.id,
        sellerId,
      ]);
      const [rows] = await conn.query<RowDataPacket[]>(
        'SELECT id FROM rooms WHERE buyer_id = ? AND seller_id = ? AND product_id = ?',
        [buyer.id, sellerId, productId],
      );
      roomId = String(rows[0]!.id);
      await conn.query(
        "INSERT INTO room_members (room_id, user_id, role) VALUES (?, ?, 'buyer'), (?, ?, 'seller') ON DUPLICATE KEY UPDATE left_at = NULL",
        [roomId, buyer.id, roomId, sellerId],
      );
      await conn.query('INSERT IGNORE INTO users (id, name) VALUES (?, ?)', [sellerId, sellerId]);
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      // released before reading the view: that read needs a pool connection of its own
      conn.release();
    }
    this.access.delete(roomId);
    return this.getRoom(buyer.id, roomId);
  }

  async getRoom(userId: string, roomId: string): Promise<RoomView> {
    await this.authorize(userId, roomId);
    const rooms = await this.roomViews(userId, { roomId });
    const room = rooms[0];
    if (!room) {
      // the cached access was stale: the membership is gone
      this.access.delete(roomId);
      throw new ChatError('FORBIDDEN');
    }
    return room;
  }

  /** the caller's rooms, most recent activity first, keyset-paginated on (last activity, id) */
  async listRooms(userId: string, opts: { cursor?: string; limit: number }): Promise<{ rooms: RoomView[]; nextCursor: string | null }> {
    const after = opts.cursor ? decodeRoomCursor(opts.cursor) : undefined;
    const rooms = await this.roomViews(userId, { after, limit: opts.limit + 1 });
    const more = rooms.length > opts.limit;
    const page = more ? rooms.slice(0, opts.limit) : rooms;
    const last = page[page.length - 1];
    return { rooms: page, nextCursor: more && last ? encodeRoomCursor(last.lastActivityAt, last.id) : null };
  }

  /** one query for every room of the page (no query per room), then one presence lookup */
  private async roomViews(
    userId: string,
    opts: { roomId?: string; after?: { at: Date; id: string }; limit?: number },
  ): Promise<RoomView[]> {
    const where: string[] = ['me.user_id = ?', 'me.left_at IS NULL'];
    const params: unknown[] = [userId];
    if (opts.roomId) {
      where.push('r.id = ?');
      params.push(opts.roomId);
    }
    if (opts.after) {
      where.push('(r.last_activity_at < ? OR (r.last_activity_at = ? AND r.id < ?))');
      params.push(opts.after.at, opts.after.at, opts.after.id);
    }
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT r.id, r.product_id, r.buyer_id, r.seller_id, r.created_at, r.last_activity_at, me.role,
              me.last_read_message_id AS my_read,
              COALESCE(other.last_read_message_id, 0) AS other_read,
              u.name AS other_name,
              m.id AS m_id, m.room_id AS m_room_id, m.seq AS m_seq, m.sender_id AS m_sender_id,
              m.content AS m_content, m.client_msg_id AS m_client_msg_id, m.created_at AS m_created_at,
              (SELECT COUNT(*) FROM messages x
                WHERE x.room_id = r.id AND x.id > me.last_read_message_id AND x.sender_id <> me.user_id) AS unread
         FROM room_members me
         JOIN rooms r ON r.id = me.room_id
         LEFT JOIN room_members other
                ON other.room_id = r.id AND other.user_id = IF(r.buyer_id = me.user_id, r.seller_id, r.buyer_id)
         LEFT JOIN users u ON u.id = IF(r.buyer_id = me.user_id, r.seller_id, r.buyer_id)
         LEFT JOIN messages m ON m.id = r.last_message_id AND r.last_message_id > 0
        WHERE ${where.join(' AND ')}
        ORDER BY r.last_activity_at DESC, r.id DESC
        LIMIT ?`,
      [...params, opts.limit ?? 1],
    );
    const counterpartIds = rows.map((r) => (r.buyer_id === userId ? String(r.seller_id) : String(r.buyer_id)));
    const online = await this.presence.online([...new Set(counterpartIds)]);
    return rows.map((r, i) => {
      const counterpartId = counterpartIds[i]!;
      const last =
        r.m_id === null
          ? null
          : messageEvent(
              toStored({
                id: r.m_id,
                room_id: r.m_room_id,
                seq: r.m_seq,
                sender_id: r.m_sender_id,
                content: r.m_content,
                client_msg_id: r.m_client_msg_id,
                created_at: r.m_created_at,
              } as RowDataPacket),
            );
      return {
        id: String(r.id),
        productId: String(r.product_id),
        buyerId: String(r.buyer_id),
        sellerId: String(r.seller_id),
        role: r.role === 'seller' ? 'seller' : 'buyer',
        createdAt: toIso(r.created_at),
        lastActivityAt: toIso(r.last_activity_at),
        counterpart: {
          id: counterpartId,
          name: r.other_name === null ? counterpartId : String(r.other_name),
          online: online.get(counterpartId) ?? null,
          lastReadMessageId: String(r.other_read),
        },
        lastMessage: last,
        unreadCount: Number(r.unread),
        lastReadMessageId: String(r.my_read),
      } satisfies RoomView;
    });
  }

  // ---------------------------------------------------------------- history

  async history(userId: string, roomId: string, opts: { before?: number; limit: number }) {
    await this.authorize(userId, roomId);
    const rows =
      opts.before === undefined
        ? await this.query(`${SELECT_MESSAGE_BY_ROOM_ID} WHERE room_id = ? ORDER BY id DESC LIMIT ?`, [roomId, opts.limit + 1])
        : await this.query(`${SELECT_MESSAGE_BY_ROOM_ID} WHERE room_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, [
            roomId,
            opts.before,
            opts.limit + 1,
          ]);
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return { messages: page.map(messageEvent), nextCursor: more ? String(page[page.length - 1]!.id) : null };
  }

  async since(userId: string, roomId: string, opts: { after: number; limit: number }) {
    await this.authorize(userId, roomId);
    const rows = await this.query(`${SELECT_MESSAGE_BY_ROOM_ID} WHERE room_id = ? AND id > ? ORDER BY id LIMIT ?`, [
      roomId,
      opts.after,
      opts.limit + 1,
    ]);
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return { messages: page.map(messageEvent), hasMore: more };
  }

  // ---------------------------------------------------------------- sending

  /** stores the message; resolves once it is committed. A repeated clientMsgId returns the original. */
  async sendMessage(
    userId: string,
    roomId: string,
    input: { content: string; clientMsgId: string | null },
  ): Promise<{ message: MessageEvent; duplicate: boolean }> {
    const access = await this.authorize(userId, roomId);
    const { message, duplicate } = await this.store.append({ roomId, senderId: userId, ...input, members: access.members });
    return { message: messageEvent(message), duplicate };
  }

  /** moves the caller's read mark forward only; publishes a read event when it moved */
  async markRead(userId: string, roomId: string, messageId: number): Promise<{ moved: boolean; lastReadMessageId: string }> {
    const access = await this.authorize(userId, roomId);
    const [res] = await this.pool.query<ResultSetHeader>(
      `UPDATE room_members me JOIN rooms r ON r.id = me.room_id
          SET me.last_read_message_id = ?
        WHERE me.room_id = ? AND me.user_id = ? AND me.last_read_message_id < ? AND r.last_message_id >= ?`,
      [messageId, roomId, userId, messageId, messageId],
    );
    if (res.affectedRows === 0) {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        'SELECT me.last_read_message_id AS mark, r.last_message_id AS newest FROM room_members me JOIN rooms r ON r.id = me.room_id WHERE me.room_id = ? AND me.user_id = ?',
        [roomId, userId],
      );
      const row = rows[0];
      if (row && messageId > Number(row.newest)) throw new ChatError('BAD_REQUEST', 'messageId: no such message in this room');
      return { moved: false, lastReadMessageId: String(row?.mark ?? 0) };
    }
    const event: ReadEvent = { type: 'read', roomId, userId, messageId: String(messageId) };
    this.broadcast(access, event);
    return { moved: true, lastReadMessageId: String(messageId) };
  }

  async typing(userId: string, roomId: string): Promise<void> {
    const access = await this.authorize(userId, roomId);
    this.broadcast(access, { type: 'typing', roomId, userId });
  }

  // ---------------------------------------------------------------- subscribing

  async subscribeRoom(userId: string, roomId: string, sink: Sink, sinceId?: number): Promise<RoomSubscriptionHandle> {
    await this.authorize(userId, roomId);
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT last_seq FROM rooms WHERE id = ?', [roomId]);
    return this.hub.subscribeRoom(roomId, sink, {
      roomLastSeq: Number(rows[0]?.last_seq ?? 0),
      ...(sinceId !== undefined ? { sinceId } : {}),
    });
  }

  subscribeUser(sink: Sink): RoomSubscriptionHandle {
    return this.hub.subscribeUser(sink);
  }

  // ---------------------------------------------------------------- presence

  /** presence work still running; shutdown waits for it before the pools close */
  private readonly presenceWork = new Set<Promise<void>>();

  private track(work: Promise<void>): Promise<void> {
    this.presenceWork.add(work);
    return work.finally(() => this.presenceWork.delete(work));
  }

  connected(userId: string, sessionId: string): Promise<void> {
    return this.track(this.connectedNow(userId, sessionId));
  }

  disconnected(userId: string, sessionId: string): Promise<void> {
    return this.track(this.disconnectedNow(userId, sessionId));
  }

  private async connectedNow(userId: string, sessionId: string): Promise<void> {
    this.recentPresence.delete(userId);
    const cameOnline = await this.presence.register(userId, sessionId);
    if (cameOnline) await this.announcePresence(userId, true);
  }

  private async disconnectedNow(userId: string, sessionId: string): Promise<void> {
    const wentOffline = await this.presence.unregister(userId, sessionId);
    if (wentOffline) await this.announcePresence(userId, false);
  }

  private async announcePresence(userId: string, online: boolean): Promise<void> {
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        `SELECT r.id, r.buyer_id, r.seller_id FROM room_members me JOIN rooms r ON r.id = me.room_id
          WHERE me.user_id = ? AND me.left_at IS NULL ORDER BY r.last_activity_at DESC LIMIT 200`,
        [userId],
      );
      for (const r of rows) {
        const roomId = String(r.id);
        this.broadcast(
          { roomId, members: [String(r.buyer_id), String(r.seller_id)], buyerId: String(r.buyer_id), sellerId: String(r.seller_id) },
          { type: 'presence', roomId, userId, online },
        );
      }
    } catch (err) {
      this.logger.warn({ err, userId }, 'presence announcement failed');
    }
  }

  // ---------------------------------------------------------------- delivery

  private broadcast(access: RoomAccess, event: RoomEvent): void {
    const env: ClientEnvelope = { roomId: access.roomId, members: access.members, origin: this.instanceId, event };
    this.hub.ingest(env);
    this.bus.publish(env);
  }

  /** runs in commit order for every batch of newly stored messages */
  private announce(messages: StoredMessage[]): void {
    const toCheck: Array<{ message: StoredMessage; recipients: string[] }> = [];
    for (const m of messages) {
      const members = m.members ?? [m.senderId];
      const env: ClientEnvelope = { roomId: m.roomId, members, seq: m.seq, origin: this.instanceId, event: messageEvent(m) };
      this.hub.ingest(env);
      this.bus.publish(env);
      const recipients = members.filter((id) => id !== m.senderId);
      if (recipients.length > 0) toCheck.push({ message: m, recipients });
    }
    // one presence lookup for the whole batch
    if (toCheck.length > 0) void this.notifyOffline(toCheck);
  }

  /**
   * Presence answers for the notification check, kept for half a second: a busy conversation
   * asks about the same recipients for every message, and a push decision that is 500 ms old
   * is as good as a fresh one.
   */
  private readonly recentPresence = new Map<string, { online: boolean | null; until: number }>();

  private async onlineForNotify(recipients: string[]): Promise<Map<string, boolean | null>> {
    const now = Date.now();
    const result = new Map<string, boolean | null>();
    const ask: string[] = [];
    for (const id of recipients) {
      const hit = this.recentPresence.get(id);
      if (hit && hit.until > now) result.set(id, hit.online);
      else ask.push(id);
    }
    if (ask.length > 0) {
      const fresh = await this.presence.online(ask);
      if (this.recentPresence.size > 50_000) this.recentPresence.clear();
      for (const id of ask) {
        const online = fresh.get(id) ?? null;
        result.set(id, online);
        this.recentPresence.set(id, { online, until: now + 500 });
      }
    }
    return result;
  }

  private async notifyOffline(batch: Array<{ message: StoredMessage; recipients: string[] }>): Promise<void> {
    let online: Map<string, boolean | null>;
    try {
      online = await this.onlineForNotify([...new Set(batch.flatMap((b) => b.recipients))]);
    } catch (err) {
      this.logger.warn({ err }, 'presence lookup for push notifications failed');
      return;
    }
    for (const { message: m, recipients } of batch) {
      for (const recipientId of recipients) {
        // unknown (Redis down) is not offline: better no push than a push to someone chatting
        if (online.get(recipientId) !== false) continue;
        this.bus.notify({
          recipientId,
          roomId: m.roomId,
          messageId: String(m.id),
          senderId: m.senderId,
          senderName: this.knownUsers.get(m.senderId)?.name ?? m.senderId,
          preview: m.content.slice(0, 140),
          createdAt: m.createdAt.toISOString(),
        });
      }
    }
  }

  async close(): Promise<void> {
    await this.store.idle();
    await Promise.race([Promise.allSettled([...this.presenceWork]), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.hub.close();
  }
}

function toIso(v: unknown): string {
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

export function encodeRoomCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

function decodeRoomCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime())) throw new ChatError('BAD_REQUEST', 'cursor: not a cursor returned by rooms.list');
  return { at: date, id };
}
