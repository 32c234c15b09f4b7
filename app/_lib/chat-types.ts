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
export type Inquiry = Outputs['inquiries']['mine'][number];
export type InquiryInput = Inputs['inquiries']['create'];

// the event shapes are the server's own (type-only import: nothing of the server is bundled)
export type { PresenceEvent, ReadEvent, SendErrorEvent, TypingEvent } from '../../server/chat/events';
import type { PresenceEvent, ReadEvent, SendErrorEvent, TypingEvent } from '../../server/chat/events';
export type RoomEvent = ChatMessage | ReadEvent | TypingEvent | PresenceEvent;

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
    default:
      return null;
  }
}

export function asSendError(body: unknown): SendErrorEvent | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  return b.type === 'error' && str(b.message) ? (b as unknown as SendErrorEvent) : null;
}

/** message ids are decimal strings of a growing integer: compare them as numbers */
export function idGreater(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
