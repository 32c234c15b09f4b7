/**
 * zod schemas of what the service sends to clients: the room events (STOMP MESSAGE bodies,
 * Socket.IO `room:event`, Kafka `chat.room-events`), SEND rejections, the room view of the
 * tRPC API and the push notifications. Nothing validates outgoing data with them at run time;
 * they exist so the published contract (docs/, built by `npm run docs`) is generated from code,
 * and the type checks at the bottom keep them equal to the TypeScript types the server emits.
 */
import { z } from 'zod';
import type { ModerationReport, OfflineNotification, RoomEnvelope } from '../bus/room-bus.js';
import type { AttachmentView, DeletedEvent, MessageEvent, PresenceEvent, ReadEvent, SendErrorEvent, TypingEvent } from '../shared/events.js';
import type { RoomView } from './rooms.js';

const decimalId = z.string().regex(/^\d+$/).describe('a decimal string of a growing integer');
const roomUuid = z.string().uuid();
const isoTime = z.string().datetime({ offset: true }).describe('ISO-8601 time');

export const attachmentSchema = z
  .object({
    id: z.string().describe('the upload id (POST /api/uploads)'),
    contentType: z.enum(['image/jpeg', 'image/png', 'image/webp']).or(z.string()).describe('image/jpeg, image/png or image/webp'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    url: z.string().describe('signed, expiring path of the image, relative to the service origin'),
    thumbUrl: z.string().describe('signed, expiring path of the thumbnail'),
  })
  .describe('a photo carried by a message');

export const messageEventSchema = z
  .object({
    type: z.literal('message'),
    id: decimalId,
    roomId: roomUuid,
    senderId: z.string(),
    content: z.string(),
    clientMsgId: z.string().nullable(),
    createdAt: isoTime,
    attachments: z.array(attachmentSchema).max(4).describe('photos; empty for text and for deleted messages'),
    deleted: z.boolean().describe('the sender deleted it: content is "" and attachments are empty'),
    roomUUID: roomUuid.describe('= roomId, for clients written for the Spring service'),
    sender: z.string().describe('= senderId, for clients written for the Spring service'),
    timestamp: isoTime.describe('= createdAt, for clients written for the Spring service'),
  })
  .describe('a stored message');

export const readEventSchema = z
  .object({ type: z.literal('read'), roomId: roomUuid, userId: z.string(), messageId: decimalId })
  .describe("a member's read mark moved forward");

export const typingEventSchema = z.object({ type: z.literal('typing'), roomId: roomUuid, userId: z.string() }).describe('a member is typing');

export const presenceEventSchema = z
  .object({ type: z.literal('presence'), roomId: roomUuid, userId: z.string(), online: z.boolean() })
  .describe('a member came online or went offline');

export const deletedEventSchema = z
  .object({ type: z.literal('deleted'), roomId: roomUuid, messageId: decimalId })
  .describe('the sender deleted a message: show it as deleted');

export const roomEventSchema = z.discriminatedUnion('type', [
  messageEventSchema,
  readEventSchema,
  typingEventSchema,
  presenceEventSchema,
  deletedEventSchema,
]);

export const sendErrorEventSchema = z
  .object({
    type: z.literal('error'),
    code: z.string().describe('BAD_REQUEST, FORBIDDEN, NOT_FOUND, TOO_MANY_REQUESTS, UNAVAILABLE, …'),
    message: z.string(),
    destination: z.string().optional(),
    receipt: z.string().optional(),
    clientMsgId: z.string().optional(),
  })
  .describe('a SEND of the caller was refused; it got no RECEIPT');

export const roomViewSchema = z.object({
  id: roomUuid,
  productId: z.string(),
  buyerId: z.string(),
  sellerId: z.string(),
  role: z.enum(['buyer', 'seller']).describe("the caller's role in the room"),
  createdAt: isoTime,
  lastActivityAt: isoTime,
  counterpart: z.object({
    id: z.string(),
    name: z.string(),
    online: z.boolean().nullable().describe('null when presence is unknown'),
    lastSeenAt: isoTime.nullable().describe("when the counterpart's last session ended; null when not known"),
    lastReadMessageId: z.string().regex(/^\d+$/),
  }),
  lastMessage: messageEventSchema.nullable(),
  unreadCount: z.number().int().nonnegative(),
  lastReadMessageId: z.string().regex(/^\d+$/),
  blocked: z.enum(['none', 'byMe', 'byThem']).describe('while either side blocks, no message can be sent in the room'),
  muted: z.boolean().describe('the caller gets no push notifications for this room'),
});

export const moderationReportSchema = z
  .object({
    id: decimalId,
    roomId: roomUuid,
    productId: z.string(),
    reporterId: z.string(),
    reportedUserId: z.string().describe("the reporter's counterpart in the room"),
    messageId: decimalId.nullable().describe('the reported message, or null for a report of the user'),
    messageContent: z.string().nullable().describe("the reported message's text when it was reported"),
    reason: z.enum(['spam', 'fraud', 'abuse', 'inappropriate', 'other']).or(z.string()),
    note: z.string().nullable(),
    createdAt: isoTime,
  })
  .describe('a stored report, for the moderation service');

export const offlineNotificationSchema = z
  .object({
    recipientId: z.string(),
    roomId: roomUuid,
    messageId: decimalId,
    senderId: z.string(),
    senderName: z.string(),
    preview: z.string().max(140),
    createdAt: isoTime,
  })
  .describe('a message for a recipient with no live session anywhere');

/** the Kafka record value of `chat.room-events`; internal event types are for the instances only */
export const roomEnvelopeSchema = z.object({
  roomId: roomUuid,
  members: z.array(z.string()),
  seq: z.number().int().optional(),
  origin: z.string().describe('the instance that produced the event'),
  event: z.union([
    roomEventSchema,
    z.object({ type: z.literal('membership-changed') }),
    z.object({ type: z.literal('user-error'), userId: z.string(), error: sendErrorEventSchema }),
  ]),
});

// ---------------------------------------------------------------- kept equal to the emitted types

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type EventSchemasMatch = [
  Assert<Equals<z.infer<typeof messageEventSchema>, MessageEvent>>,
  Assert<Equals<z.infer<typeof readEventSchema>, ReadEvent>>,
  Assert<Equals<z.infer<typeof typingEventSchema>, TypingEvent>>,
  Assert<Equals<z.infer<typeof presenceEventSchema>, PresenceEvent>>,
  Assert<Equals<z.infer<typeof deletedEventSchema>, DeletedEvent>>,
  Assert<Equals<z.infer<typeof attachmentSchema>, AttachmentView>>,
  Assert<Equals<z.infer<typeof sendErrorEventSchema>, SendErrorEvent>>,
  Assert<Equals<z.infer<typeof roomViewSchema>, RoomView>>,
  Assert<Equals<z.infer<typeof offlineNotificationSchema>, OfflineNotification>>,
  Assert<Equals<z.infer<typeof moderationReportSchema>, ModerationReport>>,
  Assert<Equals<z.infer<typeof roomEnvelopeSchema>, RoomEnvelope>>,
];
