/**
 * The relational model of Re:Use Chat: rooms, their members, messages, uploaded photos,
 * inquiries, and the profiles we learn from verified tokens.
 * Migrations in drizzle/ are generated from this file by drizzle-kit; never edit them by hand.
 */
import { relations, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  datetime,
  index,
  int,
  mysqlEnum,
  mysqlTable,
  primaryKey,
  text,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';

const now = sql`CURRENT_TIMESTAMP(3)`;

/** Users as the marketplace identifies them (JWT `sub`); names are refreshed from tokens. */
export const users = mysqlTable(
  'users',
  {
    id: varchar('id', { length: 191 }).primaryKey(),
    name: varchar('name', { length: 191 }).notNull(),
    /** set when the identity provider tells us; account events from the user service are keyed by it */
    email: varchar('email', { length: 191 }),
    createdAt: datetime('created_at', { fsp: 3 }).notNull().default(now),
    updatedAt: datetime('updated_at', { fsp: 3 }).notNull().default(now),
  },
  (t) => [index('users_email_idx').on(t.email)],
);

/** A 1:1 conversation between the buyer and the seller of one product. */
export const rooms = mysqlTable(
  'rooms',
  {
    id: varchar('id', { length: 36 }).primaryKey(),
    productId: varchar('product_id', { length: 191 }).notNull(),
    buyerId: varchar('buyer_id', { length: 191 }).notNull(),
    sellerId: varchar('seller_id', { length: 191 }).notNull(),
    createdAt: datetime('created_at', { fsp: 3 }).notNull().default(now),
    lastActivityAt: datetime('last_activity_at', { fsp: 3 }).notNull().default(now),
    /** id of the newest message, 0 when the room is empty */
    lastMessageId: bigint('last_message_id', { mode: 'number', unsigned: true }).notNull().default(0),
    /**
     * Per-room sequence of the newest message. Messages take consecutive seq values while
     * the room row is locked, so an instance that sees seq n+2 before n+1 knows a message
     * is in flight from another instance and can fill the gap from the database.
     */
    lastSeq: bigint('last_seq', { mode: 'number', unsigned: true }).notNull().default(0),
  },
  (t) => [
    uniqueIndex('rooms_buyer_seller_product_idx').on(t.buyerId, t.sellerId, t.productId),
  ],
);

export const roomMembers = mysqlTable(
  'room_members',
  {
    roomId: varchar('room_id', { length: 36 }).notNull(),
    userId: varchar('user_id', { length: 191 }).notNull(),
    role: mysqlEnum('role', ['buyer', 'seller']).notNull(),
    /** highest message id this member has read; only ever moves forward */
    lastReadMessageId: bigint('last_read_message_id', { mode: 'number', unsigned: true }).notNull().default(0),
    joinedAt: datetime('joined_at', { fsp: 3 }).notNull().default(now),
    /** set when the member left or the account was deleted; such members lose access */
    leftAt: datetime('left_at', { fsp: 3 }),
    /** set while this member blocks the counterpart: no SEND of either side is stored */
    blockedAt: datetime('blocked_at', { fsp: 3 }),
    /** no push notifications (`chat.notifications`) for this member in this room */
    muted: boolean('muted').notNull().default(false),
    /**
     * set when the member hid the room from their list: the room's newest message id at that
     * moment. The room shows again once a newer message arrives (rooms.last_message_id above it).
     */
    hiddenAtMessageId: bigint('hidden_at_message_id', { mode: 'number', unsigned: true }),
  },
  (t) => [
    primaryKey({ name: 'room_members_pk', columns: [t.roomId, t.userId] }),
    index('room_members_user_idx').on(t.userId, t.roomId),
  ],
);

export const messages = mysqlTable(
  'messages',
  {
    /** global, growing; history pages are keyset-paginated on it */
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    roomId: varchar('room_id', { length: 36 }).notNull(),
    /** consecutive within the room, see rooms.lastSeq */
    seq: bigint('seq', { mode: 'number', unsigned: true }).notNull(),
    senderId: varchar('sender_id', { length: 191 }).notNull(),
    content: varchar('content', { length: 2000 }).notNull(),
    /** the sender's idempotency key; NULLs do not collide in a MySQL unique index */
    clientMsgId: varchar('client_msg_id', { length: 64 }),
    createdAt: datetime('created_at', { fsp: 3 }).notNull().default(now),
    /** set when the sender deleted it: a tombstone, its content is emptied and its photos hidden */
    deletedAt: datetime('deleted_at', { fsp: 3 }),
  },
  (t) => [
    index('messages_room_id_idx').on(t.roomId, t.id),
    uniqueIndex('messages_room_seq_idx').on(t.roomId, t.seq),
    uniqueIndex('messages_client_msg_idx').on(t.roomId, t.senderId, t.clientMsgId),
  ],
);

export const inquiries = mysqlTable(
  'inquiries',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    /** the signed-in author, when there is one */
    userId: varchar('user_id', { length: 191 }),
    name: varchar('name', { length: 100 }).notNull(),
    email: varchar('email', { length: 191 }).notNull(),
    phone: varchar('phone', { length: 40 }),
    category: varchar('category', { length: 50 }),
    message: text('message').notNull(),
    status: mysqlEnum('status', ['pending', 'sent', 'failed']).notNull().default('pending'),
    /** delivery attempts made so far */
    attempts: int('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** when the mail worker may try again */
    nextAttemptAt: datetime('next_attempt_at', { fsp: 3 }).notNull().default(now),
    createdAt: datetime('created_at', { fsp: 3 }).notNull().default(now),
    updatedAt: datetime('updated_at', { fsp: 3 }).notNull().default(now),
    sentAt: datetime('sent_at', { fsp: 3 }),
  },
  (t) => [
    index('inquiries_status_next_idx').on(t.status, t.nextAttemptAt),
    index('inquiries_user_idx').on(t.userId, t.id),
  ],
);

/**
 * A photo uploaded into a room. The id is random and unguessable; the image and its thumbnail
 * live in the upload storage (local disk or S3) under the two keys.
 */
export const uploads = mysqlTable(
  'uploads',
  {
    id: varchar('id', { length: 32 }).primaryKey(),
    roomId: varchar('room_id', { length: 36 }).notNull(),
    uploaderId: varchar('uploader_id', { length: 191 }).notNull(),
    /** what the stored bytes are (decided from the bytes, after re-encoding): image/jpeg, image/png, image/webp */
    contentType: varchar('content_type', { length: 64 }).notNull(),
    /** size of the stored image, after metadata was stripped */
    bytes: int('bytes', { unsigned: true }).notNull(),
    width: int('width', { unsigned: true }).notNull(),
    height: int('height', { unsigned: true }).notNull(),
    storageKey: varchar('storage_key', { length: 255 }).notNull(),
    thumbKey: varchar('thumb_key', { length: 255 }).notNull(),
    thumbContentType: varchar('thumb_content_type', { length: 64 }).notNull(),
    /** the message that carries this photo, once one was sent; null while it is only uploaded */
    messageId: bigint('message_id', { mode: 'number', unsigned: true }),
    createdAt: datetime('created_at', { fsp: 3 }).notNull().default(now),
  },
  (t) => [index('uploads_room_idx').on(t.roomId, t.createdAt), index('uploads_message_idx').on(t.messageId)],
);

/** A member's report of a room's counterpart or one of their messages, for moderation. */
export const reports = mysqlTable(
  'reports',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    roomId: varchar('room_id', { length: 36 }).notNull(),
    reporterId: varchar('reporter_id', { length: 191 }).notNull(),
    /** the counterpart of the reporter in the room */
    reportedUserId: varchar('reported_user_id', { length: 191 }).notNull(),
    /** the reported message, when a message (not only the user) was reported */
    messageId: bigint('message_id', { mode: 'number', unsigned: true }),
    reason: varchar('reason', { length: 32 }).notNull(),
    note: varchar('note', { length: 1000 }),
    createdAt: datetime('created_at', { fsp: 3 }).notNull().default(now),
  },
  (t) => [index('reports_room_idx').on(t.roomId, t.id), index('reports_reported_user_idx').on(t.reportedUserId, t.id)],
);

export const roomsRelations = relations(rooms, ({ many }) => ({
  members: many(roomMembers),
  messages: many(messages),
}));

export const roomMembersRelations = relations(roomMembers, ({ one }) => ({
  room: one(rooms, { fields: [roomMembers.roomId], references: [rooms.id] }),
}));

export const messagesRelations = relations(messages, ({ one }) => ({
  room: one(rooms, { fields: [messages.roomId], references: [rooms.id] }),
}));
