/** The STOMP 1.2 over WebSocket layer's public surface; it knows nothing of chat. */
export { StompError, SendRejected, STOMP_ERRORS, CloseCode, isNonFatal, type StompErrorCode } from './errors.js';
export { prepareMessage, renderMessage, encodeFrame, type PreparedMessage } from './encoder.js';
export { StompSession, type StompTransport, type Subscription, type SessionState } from './session.js';
export { createStompEndpoint, selectSubprotocol, STOMP_SUBPROTOCOLS, type StompEndpoint, type StompEndpointOptions } from './server.js';
export { DEFAULT_LIMITS, type StompLimits } from './limits.js';
export type { StompFrame, StompVersion } from './frame.js';
export type { AckMode, ConnectRequest, SendRequest, StompApplication, StompLogger, StompSessionView, SubscribeRequest } from './types.js';
