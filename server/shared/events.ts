/**
 * The JSON events that clients receive (STOMP MESSAGE bodies, Socket.IO `room:event`).
 * Shapes are the external contract (docs/contract.md); ids are decimal strings, times ISO-8601.
 */
export interface MessageEvent {
  type: 'message';
  id: string;
  roomId: string;
  senderId: string;
  content: string;
  clientMsgId: string | null;
  createdAt: string;
  /** photos carried by the message, with signed URLs; empty for text and for deleted messages */
  attachments: AttachmentView[];
  /** the sender deleted it: content is "" and attachments are gone */
  deleted: boolean;
  /** aliases kept for clients written for the Spring service */
  roomUUID: string;
  sender: string;
  timestamp: string;
}

/** a photo of a message as clients see it (docs/contract.md: Photos) */
export interface AttachmentView {
  id: string;
  contentType: string;
  width: number;
  height: number;
  url: string;
  thumbUrl: string;
}

/** what the store knows of a message's photo; URLs are signed when an event is built */
export interface StoredAttachment {
  id: string;
  contentType: string;
  width: number;
  height: number;
}

/** signs image URLs of attachments (UrlSigner) */
export interface AttachmentUrls {
  url(id: string, variant: 'image' | 'thumb'): string;
}

/** a message was deleted by its sender: clients show it as deleted */
export interface DeletedEvent {
  type: 'deleted';
  roomId: string;
  messageId: string;
}

export interface ReadEvent {
  type: 'read';
  roomId: string;
  userId: string;
  messageId: string;
}

export interface TypingEvent {
  type: 'typing';
  roomId: string;
  userId: string;
}

export interface PresenceEvent {
  type: 'presence';
  roomId: string;
  userId: string;
  online: boolean;
}

export type RoomEvent = MessageEvent | ReadEvent | TypingEvent | PresenceEvent | DeletedEvent;

/** Sent to `/user/queue/errors` (STOMP) when a SEND is rejected. */
export interface SendErrorEvent {
  type: 'error';
  code: string;
  message: string;
  destination?: string;
  receipt?: string;
  clientMsgId?: string;
}

export interface StoredMessage {
  id: number;
  roomId: string;
  seq: number;
  senderId: string;
  content: string;
  clientMsgId: string | null;
  createdAt: Date;
  /** null unless the sender deleted it */
  deletedAt?: Date | null;
  /** photos, when they were loaded with the message (none otherwise) */
  attachments?: StoredAttachment[];
}

/**
 * The client event of a stored message. Photos get freshly signed URLs; without a signer (a
 * process that serves no uploads) a message carries none.
 */
export function messageEvent(m: StoredMessage, urls?: AttachmentUrls): MessageEvent {
  const id = String(m.id);
  const createdAt = m.createdAt.toISOString();
  const deleted = m.deletedAt != null;
  const attachments =
    deleted || !urls || !m.attachments
      ? []
      : m.attachments.map((a) => ({ ...a, url: urls.url(a.id, 'image'), thumbUrl: urls.url(a.id, 'thumb') }));
  return {
    type: 'message',
    id,
    roomId: m.roomId,
    senderId: m.senderId,
    content: deleted ? '' : m.content,
    clientMsgId: m.clientMsgId,
    createdAt,
    attachments,
    deleted,
    roomUUID: m.roomId,
    sender: m.senderId,
    timestamp: createdAt,
  };
}
