/**
 * What the OpenAPI document says about each tRPC procedure beyond its input schema (which is read
 * from the router): what it returns, who may call it, and worked examples. A new procedure is one
 * entry here; the generator refuses to run while a procedure of the router has none.
 */
import { z } from 'zod';
import { messageEventSchema, roomViewSchema } from '../../server/chat/event-schemas.js';
import { REPORT_REASONS } from '../../server/reports/service.js';
import { inquiryViewSchema } from '../../server/inquiries/view-schema.js';
import { EXAMPLE, exampleMessage, type Caller } from './schema.js';

/** who may call: anyone, any signed-in caller, administrators, or only the web page's session (not a bearer token) */
export type Access = 'public' | 'user' | 'admin' | 'session';

export interface ProcedureExample {
  summary: string;
  caller: Caller;
  /** omitted: the call carries no input */
  input?: unknown;
  status: number;
  /** `result.data` of a success, or the tRPC error code of a failure */
  data?: unknown;
  error?: { code: string; message: string; zodError?: { formErrors: string[]; fieldErrors: Record<string, string[]> } | null };
}

export interface ProcedureDoc {
  summary: string;
  access: Access;
  /** also refuses with 403/404 when the caller is not a member of the room */
  room?: boolean;
  output: z.ZodType;
  examples: Record<string, ProcedureExample>;
}

const exampleRoom = {
  id: EXAMPLE.roomId,
  productId: EXAMPLE.productId,
  buyerId: EXAMPLE.buyer,
  sellerId: EXAMPLE.seller,
  role: 'buyer',
  createdAt: EXAMPLE.time,
  lastActivityAt: EXAMPLE.time,
  counterpart: { id: EXAMPLE.seller, name: 'Bob', online: false, lastSeenAt: '2026-05-04T09:58:02.000Z', lastReadMessageId: '0' },
  lastMessage: exampleMessage,
  unreadCount: 0,
  lastReadMessageId: '1',
  blocked: 'none',
  muted: false,
};

const exampleInquiry = {
  id: '1',
  name: 'Alice Kim',
  email: 'alice@example.com',
  phone: '+82 10-1234-5678',
  category: 'payment',
  message: 'I was charged twice for order 1042.',
  status: 'pending',
  attempts: 0,
  lastError: null,
  createdAt: EXAMPLE.time,
  updatedAt: EXAMPLE.time,
  sentAt: null,
};

const reportView = z.object({
  id: z.string(),
  roomId: z.string(),
  reporterId: z.string(),
  reportedUserId: z.string(),
  messageId: z.string().nullable(),
  reason: z.enum(REPORT_REASONS),
  note: z.string().nullable(),
  createdAt: z.string().datetime({ offset: true }),
});

const exampleReport = {
  id: '1',
  roomId: EXAMPLE.roomId,
  reporterId: EXAMPLE.seller,
  reportedUserId: EXAMPLE.buyer,
  messageId: '1',
  reason: 'spam',
  note: 'sends the same link to every seller',
  createdAt: EXAMPLE.time,
};

const authUser = z.object({ id: z.string(), name: z.string(), role: z.enum(['user', 'admin']), email: z.string().optional() });

const unauthorized = (summary = 'without a token or session'): ProcedureExample => ({
  summary,
  caller: null,
  status: 401,
  error: { code: 'UNAUTHORIZED', message: 'sign in, or send Authorization: Bearer <jwt>', zodError: null },
});

export const procedures: Record<string, ProcedureDoc> = {
  'rooms.open': {
    summary: 'Open (or get) the room of the caller as buyer, a seller and a product; idempotent',
    access: 'user',
    output: roomViewSchema,
    examples: {
      buyerOpens: { summary: 'the buyer opens the chat about a product', caller: 'alice', input: { productId: EXAMPLE.productId, sellerId: EXAMPLE.seller }, status: 200, data: exampleRoom },
      ownProduct: {
        summary: 'a seller cannot chat with themself',
        caller: 'bob',
        input: { productId: EXAMPLE.productId, sellerId: EXAMPLE.seller },
        status: 400,
        error: { code: 'BAD_REQUEST', message: 'you cannot open a chat with yourself: sellerId is your own id', zodError: null },
      },
    },
  },
  'rooms.list': {
    summary: "The caller's rooms, most recent activity first, with counterpart, last message, unread count and online flag",
    access: 'user',
    output: z.object({ rooms: z.array(roomViewSchema), nextCursor: z.string().nullable().describe('pass as `cursor` for the next page') }),
    examples: {
      sellerInbox: {
        summary: "the seller's rooms",
        caller: 'bob',
        input: { limit: 20 },
        status: 200,
        data: { rooms: [{ ...exampleRoom, role: 'seller', counterpart: { id: EXAMPLE.buyer, name: 'Alice', online: true, lastSeenAt: null, lastReadMessageId: '1' }, unreadCount: 1, lastReadMessageId: '0' }], nextCursor: null },
      },
      signedOut: unauthorized(),
    },
  },
  'rooms.get': {
    summary: 'One room, members only',
    access: 'user',
    room: true,
    output: roomViewSchema,
    examples: {
      member: { summary: 'a member reads the room', caller: 'alice', input: { roomId: EXAMPLE.roomId }, status: 200, data: exampleRoom },
      stranger: {
        summary: 'anyone else is refused',
        caller: 'carol',
        input: { roomId: EXAMPLE.roomId },
        status: 403,
        error: { code: 'FORBIDDEN', message: 'not a member of this room', zodError: null },
      },
    },
  },
  'rooms.block': {
    summary: 'The caller blocks the counterpart: while either side blocks, SENDs in the room are refused (error event BLOCKED) and nothing is stored',
    access: 'user',
    room: true,
    output: roomViewSchema,
    examples: {
      block: { summary: 'the buyer blocks the seller', caller: 'alice', input: { roomId: EXAMPLE.roomId }, status: 200, data: { ...exampleRoom, blocked: 'byMe' } },
      stranger: {
        summary: 'only members can block',
        caller: 'carol',
        input: { roomId: EXAMPLE.roomId },
        status: 403,
        error: { code: 'FORBIDDEN', message: 'not a member of this room', zodError: null },
      },
    },
  },
  'rooms.unblock': {
    summary: "Lifts the caller's block (a block by the counterpart stays)",
    access: 'user',
    room: true,
    output: roomViewSchema,
    examples: {
      unblock: { summary: 'the buyer unblocks the seller', caller: 'alice', input: { roomId: EXAMPLE.roomId }, status: 200, data: exampleRoom },
    },
  },
  'rooms.leave': {
    summary: "Hides the room from the caller's rooms.list until a new message arrives (rooms.get still answers)",
    access: 'user',
    room: true,
    output: roomViewSchema,
    examples: {
      leave: { summary: 'the buyer is done with the deal', caller: 'alice', input: { roomId: EXAMPLE.roomId }, status: 200, data: exampleRoom },
    },
  },
  'rooms.mute': {
    summary: 'No push notifications (Kafka `chat.notifications`) for the caller in this room while muted',
    access: 'user',
    room: true,
    output: roomViewSchema,
    examples: {
      mute: { summary: 'the buyer mutes the room', caller: 'alice', input: { roomId: EXAMPLE.roomId, muted: true }, status: 200, data: { ...exampleRoom, muted: true } },
      notBoolean: {
        summary: 'muted must be true or false',
        caller: 'alice',
        input: { roomId: EXAMPLE.roomId, muted: 'yes' },
        status: 400,
        error: { code: 'BAD_REQUEST', message: 'muted must be true or false', zodError: { formErrors: [], fieldErrors: { muted: ['muted must be true or false'] } } },
      },
    },
  },
  'reports.create': {
    summary:
      "Reports the room's counterpart, or one of their messages: stored, then published on Kafka `chat.reports` for the moderation service (members only; the message must be in the room)",
    access: 'user',
    room: true,
    output: reportView,
    examples: {
      spam: {
        summary: 'the seller reports a message of the buyer',
        caller: 'bob',
        input: { roomId: EXAMPLE.roomId, messageId: '1', reason: 'spam', note: 'sends the same link to every seller' },
        status: 200,
        data: exampleReport,
      },
      badReason: {
        summary: 'the reason is one of a fixed list',
        caller: 'bob',
        input: { roomId: EXAMPLE.roomId, reason: 'rude' },
        status: 400,
        error: {
          code: 'BAD_REQUEST',
          message: `reason must be one of ${REPORT_REASONS.join(', ')}`,
          zodError: { formErrors: [], fieldErrors: { reason: [`reason must be one of ${REPORT_REASONS.join(', ')}`] } },
        },
      },
    },
  },
  'reports.list': {
    summary: 'All reports, newest first (administrators only)',
    access: 'admin',
    output: z.object({ reports: z.array(reportView), nextCursor: z.string().nullable().describe('pass as `cursor` for the next page') }),
    examples: {
      admin: { summary: 'moderation reads the reports', caller: 'admin', input: { limit: 50 }, status: 200, data: { reports: [exampleReport], nextCursor: null } },
      notAdmin: {
        summary: 'anyone else is refused',
        caller: 'alice',
        input: { limit: 50 },
        status: 403,
        error: { code: 'FORBIDDEN', message: 'administrators only', zodError: null },
      },
    },
  },
  'history.list': {
    summary: 'Messages newest first, keyset-paginated by message id (pass `nextCursor` as `before`)',
    access: 'user',
    room: true,
    output: z.object({ messages: z.array(messageEventSchema), nextCursor: z.string().nullable() }),
    examples: {
      newest: { summary: 'the newest page', caller: 'bob', input: { roomId: EXAMPLE.roomId, limit: 50 }, status: 200, data: { messages: [exampleMessage], nextCursor: null } },
      limitTooLarge: {
        summary: 'at most 100 per page',
        caller: 'bob',
        input: { roomId: EXAMPLE.roomId, limit: 500 },
        status: 400,
        error: { code: 'BAD_REQUEST', message: 'Too big: expected number to be <=100', zodError: { formErrors: [], fieldErrors: { limit: ['Too big: expected number to be <=100'] } } },
      },
    },
  },
  'history.since': {
    summary: 'Everything after a message id, oldest first (resync); `hasMore` means call again from the last id',
    access: 'user',
    room: true,
    output: z.object({ messages: z.array(messageEventSchema), hasMore: z.boolean() }),
    examples: {
      resync: { summary: 'catch up after a reconnect', caller: 'bob', input: { roomId: EXAMPLE.roomId, after: '0' }, status: 200, data: { messages: [exampleMessage], hasMore: false } },
    },
  },
  'history.markRead': {
    summary: "Moves the caller's read mark forward (never back); members see a `read` event",
    access: 'user',
    room: true,
    output: z.object({ moved: z.boolean(), lastReadMessageId: z.string() }),
    examples: {
      read: { summary: 'the seller read the first message', caller: 'bob', input: { roomId: EXAMPLE.roomId, messageId: '1' }, status: 200, data: { moved: true, lastReadMessageId: '1' } },
    },
  },
  'history.delete': {
    summary: `Deletes the caller's own message within MESSAGE_DELETE_WINDOW_SECONDS (default 600) of sending it: history shows it with \`deleted: true\` and \`content: ""\`, and the room gets a \`deleted\` event`,
    access: 'user',
    room: true,
    output: z.object({ deleted: z.literal(true), messageId: z.string() }),
    examples: {
      own: { summary: 'the buyer deletes their first message', caller: 'alice', input: { roomId: EXAMPLE.roomId, messageId: '1' }, status: 200, data: { deleted: true, messageId: '1' } },
      notOwn: {
        summary: "a member cannot delete the counterpart's message",
        caller: 'bob',
        input: { roomId: EXAMPLE.roomId, messageId: '1' },
        status: 403,
        error: { code: 'FORBIDDEN', message: 'only the sender can delete a message', zodError: null },
      },
    },
  },
  'inquiries.create': {
    summary:
      "Stores an inquiry, then mails it to support (and a confirmation to a signed-in customer's verified email); anyone may write, limited per client address and per user",
    access: 'public',
    output: inquiryViewSchema,
    examples: {
      customer: {
        summary: 'a customer asks support',
        caller: 'alice',
        input: { name: 'Alice Kim', email: 'alice@example.com', phone: '+82 10-1234-5678', category: 'payment', message: 'I was charged twice for order 1042.' },
        status: 200,
        data: exampleInquiry,
      },
      badEmail: {
        summary: 'field errors name the field',
        caller: null,
        input: { name: 'Alice Kim', email: 'not-an-address', message: 'Hello' },
        status: 400,
        error: { code: 'BAD_REQUEST', message: 'email must be a valid address', zodError: { formErrors: [], fieldErrors: { email: ['email must be a valid address'] } } },
      },
    },
  },
  'inquiries.mine': {
    summary: "The caller's own inquiries, newest first",
    access: 'user',
    output: z.array(inquiryViewSchema),
    examples: { mine: { summary: "the customer's inquiries", caller: 'alice', status: 200, data: [exampleInquiry] } },
  },
  'inquiries.list': {
    summary: 'All inquiries, newest first (administrators only)',
    access: 'admin',
    output: z.object({ inquiries: z.array(inquiryViewSchema), nextCursor: z.string().nullable() }),
    examples: {
      admin: { summary: 'support reads the queue', caller: 'admin', input: { limit: 50 }, status: 200, data: { inquiries: [exampleInquiry], nextCursor: null } },
      notAdmin: {
        summary: 'anyone else is refused',
        caller: 'alice',
        input: { limit: 50 },
        status: 403,
        error: { code: 'FORBIDDEN', message: 'administrators only', zodError: null },
      },
    },
  },
  'auth.me': {
    summary: 'The caller as the service sees them, or null',
    access: 'public',
    output: authUser.nullable(),
    examples: {
      me: { summary: 'a token holder', caller: 'alice', status: 200, data: { id: EXAMPLE.buyer, name: 'Alice', role: 'user' } },
      nobody: { summary: 'no token, no session', caller: null, status: 200, data: null },
    },
  },
  'auth.socketToken': {
    summary:
      "A short-lived JWT for the sockets of a signed-in web user: only for the session cookie (never in exchange for a bearer token), with the session's role, expiring no later than the session",
    access: 'session',
    output: z.object({ token: z.string(), expiresAt: z.string().datetime({ offset: true }) }),
    examples: {
      bearer: {
        summary: 'a bearer token cannot be exchanged for a fresh one',
        caller: 'alice',
        status: 403,
        error: { code: 'FORBIDDEN', message: 'socket tokens are issued to a signed-in web session only; a bearer token is used on the sockets as it is', zodError: null },
      },
    },
  },
};
