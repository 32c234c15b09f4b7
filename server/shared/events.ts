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
  /** aliases kept for clients written for the Spring service */
  roomUUID: string;
  sender: string;
  timestamp: string;
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

export type RoomEvent = MessageEvent | ReadEvent | TypingEvent | PresenceEvent;

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
}

export function messageEvent(m: StoredMessage): MessageEvent {
  const id = String(m.id);
  const createdAt = m.createdAt.toISOString();
  return {
    type: 'message',
    id,
    roomId: m.roomId,
    senderId: m.senderId,
    content: m.content,
    clientMsgId: m.clientMsgId,
    createdAt,
    roomUUID: m.roomId,
    sender: m.senderId,
    timestamp: createdAt,
  };
}
