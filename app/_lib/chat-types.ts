/**
 * Types the page uses, derived from the API's own router type (outputs) and docs/contract.md (the
 * JSON events on STOMP), plus a guard that checks event bodies before they are trusted.
 */
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../server/trpc/root';

type Outputs = inferRouterOutputs<AppRouter>;
type Inputs = inferRouterInputs<AppRouter>;

export type Room = Outputs['rooms']['get'];
export type RoomList = Outputs['rooms']['list'];
export type ChatMessage = Outputs['history']['list']['messages'][number];
/** an image on a message (docs/contract.md, "Photos, block, report, leave, mute, delete") */
export type Attachment = ChatMessage['attachments'][number];
/** who blocks whom in a room, as `rooms.get`/`rooms.list` say it */
export type BlockState = Room['blocked'];
/** the reasons `reports.create` accepts */
export type ReportReason = Inputs['reports']['create']['reason'];
export type Inquiry = Outputs['inquiries']['mine'][number];
export type InquiryInput = Inputs['inquiries']['create'];

// the event shapes are the server's own (type-only import: nothing of the server is bundled)
export type { PresenceEvent, ReadEvent, SendErrorEvent, TypingEvent } from '../../server/chat/events';
export type { DeletedEvent } from '../../server/shared/events';
import type { PresenceEvent, ReadEvent, SendErrorEvent, TypingEvent } from '../../server/chat/events';
import type { DeletedEvent } from '../../server/shared/events';
export type RoomEvent = ChatMessage | ReadEvent | TypingEvent | PresenceEvent | DeletedEvent;

const str = (v: unknown): v is string => typeof v === 'string';

export function asRoomEvent(body: unknown): RoomEvent | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (!str(b.roomId)) return null;
  switch (b.type) {
    case 'message':
      return str(b.id) && str(b.senderId) && str(b.content) && str(b.createdAt) ? (b as unknown as ChatMessage) : null;
    case 'read':
      return str(b.userId) && str(b.messageId) ? (b as unknown as ReadEvent) : null;
    case 'typing':
      return str(b.userId) ? (b as unknown as TypingEvent) : null;
    case 'presence':
      return str(b.userId) && typeof b.online === 'boolean' ? (b as unknown as PresenceEvent) : null;
    case 'deleted':
      return str(b.messageId) ? (b as unknown as DeletedEvent) : null;
    default:
      return null;
  }
}

export function asSendError(body: unknown): SendErrorEvent | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  return b.type === 'error' && str(b.message) ? (b as unknown as SendErrorEvent) : null;
}

/** what a room list shows for a message: its text, or what stands in for it */
export function previewOf(m: { content: string; attachments?: readonly unknown[]; deleted?: boolean }): string {
  if (m.deleted) return 'Message deleted';
  const text = m.content.trim();
  if (text) return text;
  const photos = m.attachments?.length ?? 0;
  if (photos > 1) return `${photos} photos`;
  return photos === 1 ? 'Photo' : '';
}

/** a message with its content gone and its attachments dropped, as the server stores a deleted one */
export function asDeleted<T extends { content: string }>(m: T): T & { deleted: true; attachments: Attachment[] } {
  return { ...m, deleted: true, content: '', attachments: [] };
}

/** message ids are decimal strings of a growing integer: compare them as numbers */
export function idGreater(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
