/** The client-facing event types, re-exported where the web page has always imported them from. */
export type { MessageEvent, PresenceEvent, ReadEvent, RoomEvent, SendErrorEvent, StoredMessage, TypingEvent } from '../shared/events.js';
export { messageEvent } from '../shared/events.js';
