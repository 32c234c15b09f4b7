/**
 * ChatError: the one typed error of the chat pipeline. Each transport maps the stable code to
 * its own form (tRPC code, STOMP ERROR or /user/queue/errors event, Socket.IO ack).
 */
export const chatErrorCodes = {
  BAD_REQUEST: 'the request is not valid',
  UNAUTHORIZED: 'sign in first',
  FORBIDDEN: 'not a member of this room',
  NOT_FOUND: 'no such room',
  TOO_MANY_REQUESTS: 'too many requests, slow down',
  BLOCKED: 'this chat is blocked: messages cannot be sent while either side blocks it',
  UNAVAILABLE: 'the message store is unavailable, try again',
} as const;

export type ChatErrorCode = keyof typeof chatErrorCodes;

export class ChatError extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string = chatErrorCodes[code],
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}
