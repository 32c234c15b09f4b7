/**
 * Rooms: opening the 1:1 room of a buyer, a seller and a product (idempotent), and the views
 * of a member's rooms (counterpart, last message, unread count, online flag), keyset-paginated.
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { AuthUser } from '../auth/tokens.js';
import type { Db } from '../db/client.js';
import { roomMembers, rooms, users } from '../db/schema.js';
import type { Presence } from '../presence/presence.js';
import { ChatError } from '../shared/errors.js';
import { messageEvent, type MessageEvent } from '../shared/events.js';
import type { RoomAccessCache } from './access.js';
import { toStored } from './message-store.js';
import type { UserDirectory } from './users.js';

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

export class RoomDirectory {
  constructor(
    private readonly deps: {
      db: Db;
      /** for the room views: one hand-written query with a correlated unread count per room */
      pool: Pool;
      access: RoomAccessCache;
      users: UserDirectory;
      presence: Presence;
      /** called before a room is created (not when the caller's room exists): the per-user cap */
      beforeCreate: (userId: string) => Promise<void>;
    },
  ) {}

  async open(buyer: AuthUser, sellerId: string, productId: string): Promise<RoomView> {
    if (buyer.id === sellerId) throw new ChatError('BAD_REQUEST', 'you cannot open a chat with yourself: sellerId is your own id');
    await this.deps.users.remember(buyer);
    // reopening one's own room is free; only a room that would be created counts against the cap
    const [existing] = await this.deps.db
      .select({ id: rooms.id })
      .from(rooms)
      .where(and(eq(rooms.buyerId, buyer.id), eq(rooms.sellerId, sellerId), eq(rooms.productId, productId)));
    if (!existing) await this.deps.beforeCreate(buyer.id);
    // A seller this service has never seen is accepted (the marketplace's user service owns
    // users and a first contact must work): it gets only a placeholder row, named by its id,
    // never by anything the caller sends.
    const roomId = await this.deps.db.transaction(async (tx) => {
      // the unique (buyer, seller, product) index makes concurrent opens converge on one row:
      // the loser's INSERT IGNORE waits for the winner's commit, then does nothing
      await tx.insert(rooms).ignore().values({ id: randomUUID(), productId, buyerId: buyer.id, sellerId });
      const [room] = await tx
        .select({ id: rooms.id })
        .from(rooms)
        .where(and(eq(rooms.buyerId, buyer.id), eq(rooms.sellerId, sellerId), eq(rooms.productId, productId)));
      const id = room!.id;
      await tx
        .insert(roomMembers)
        .values([
          { roomId: id, userId: buyer.id, role: 'buyer' },
          { roomId: id, userId: sellerId, role: 'seller' },
        ])
        .onDuplicateKeyUpdate({ set: { leftAt: null } });
      await tx.insert(users).ignore().values({ id: sellerId, name: sellerId });
      return id;
    });
    this.deps.access.forget(roomId);
    return this.get(buyer.id, roomId);
  }

  async get(userId: string, roomId: string): Promise<RoomView> {
    await this.deps.access.authorize(userId, roomId);
    const room = (await this.views(userId, { roomId }))[0];
    if (!room) {
      // the cached access was stale: the membership is gone
      this.deps.access.forget(roomId);
      throw new ChatError('FORBIDDEN');
    }
    return room;
  }

  /** the caller's rooms, most recent activity first, keyset-paginated on (last activity, id) */
  async list(userId: string, opts: { cursor?: string; limit: number }): Promise<{ rooms: RoomView[]; nextCursor: string | null }> {
    const after = opts.cursor ? decodeRoomCursor(opts.cursor) : undefined;
    const rooms = await this.views(userId, { after, limit: opts.limit + 1 });
    const more = rooms.length > opts.limit;
    const page = more ? rooms.slice(0, opts.limit) : rooms;
    const last = page[page.length - 1];
    return { rooms: page, nextCursor: more && last ? encodeRoomCursor(last.lastActivityAt, last.id) : null };
  }

  /** the rooms a user is a member of, most recent first (whom to tell about their presence) */
  async ofUser(userId: string, limit: number): Promise<Array<{ roomId: string; members: string[] }>> {
    const rows = await this.deps.db
      .select({ id: rooms.id, buyerId: rooms.buyerId, sellerId: rooms.sellerId })
      .from(roomMembers)
      .innerJoin(rooms, eq(rooms.id, roomMembers.roomId))
      .where(and(eq(roomMembers.userId, userId), isNull(roomMembers.leftAt)))
      .orderBy(desc(rooms.lastActivityAt))
      .limit(limit);
    return rows.map((r) => ({ roomId: r.id, members: [r.buyerId, r.sellerId] }));
  }

  /** one query for every room of the page (no query per room), then one presence lookup */
  private async views(userId: string, opts: { roomId?: string; after?: { at: Date; id: string } | undefined; limit?: number }): Promise<RoomView[]> {
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
    const [rows] = await this.deps.pool.query<RowDataPacket[]>(
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
    const online = await this.deps.presence.online([...new Set(counterpartIds)]);
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
