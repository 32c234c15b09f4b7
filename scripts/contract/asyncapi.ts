/**
 * Builds the AsyncAPI 3.0 document of the real-time surface: STOMP 1.2 frames and destinations at
 * /ws-stomp, the Socket.IO namespace /chat, and the Kafka topics. Operations are described from
 * the service's side (`receive`: a client sends it; `send`: the service sends it). Payload
 * schemas come from the zod schemas the server validates with (inputs) and emits (events).
 * A new destination or event is one entry in `stompDestinations` / `socketMessages` below (and its
 * frame in stomp-frames.ts).
 */
import { z } from 'zod';
import { userDeleteObject, userUpdateObject } from '../../server/bus/account-events.js';
import { chatErrorCodes } from '../../server/shared/errors.js';
import { messageEventSchema, moderationReportSchema, offlineNotificationSchema, roomEnvelopeSchema, roomEventSchema, sendErrorEventSchema } from '../../server/chat/event-schemas.js';
import { joinInput, readInput, roomInput, sendInput } from '../../server/transports/socketio.js';
import { STOMP_ERRORS } from '../../server/stomp/errors.js';
import { EXAMPLE, exampleMessage, jsonSchema, type JsonSchema } from './schema.js';
import { frames, sends, stompEvents } from './stomp-frames.js';

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') => jsonSchema(s, 'draft-07', io);
const ref = (path: string) => ({ $ref: `#/${path}` });
const roomIdParam = { roomId: { description: 'a room id (UUID) returned by rooms.open' } };

// ---------------------------------------------------------------- Socket.IO

const ackError = z.object({ ok: z.literal(false), error: z.object({ code: z.enum(Object.keys(chatErrorCodes) as [string, ...string[]]), message: z.string() }) });
const ack = (ok: z.ZodRawShape) => schema(z.union([z.object({ ok: z.literal(true), ...ok }), ackError]));

const socketEvent = (name: string, payload: z.ZodType, example: unknown, summary: string) => ({
  name,
  title: `${name} (client → server, with acknowledgement)`,
  summary,
  payload: schema(payload, 'input'),
  examples: [{ name, payload: example }],
});
const socketAck = (name: string, payload: JsonSchema, example: unknown) => ({ name, title: `acknowledgement of ${name.replace(/Ack$/, '')}`, payload, examples: [{ name, payload: example }] });

const socketMessages = {
  roomJoin: socketEvent('room:join', joinInput, { roomId: EXAMPLE.roomId, since: '0' }, 'join a room (members only); `since` replays stored messages after that id first'),
  roomLeave: socketEvent('room:leave', roomInput, { roomId: EXAMPLE.roomId }, 'stop receiving a room'),
  messageSend: socketEvent('message:send', sendInput, { roomId: EXAMPLE.roomId, content: 'See you at 6?', clientMsgId: 'sio-1' }, 'store and deliver a message'),
  messageRead: socketEvent('message:read', readInput, { roomId: EXAMPLE.roomId, messageId: '1' }, 'move the read mark forward'),
  socketTyping: socketEvent('typing', roomInput, { roomId: EXAMPLE.roomId }, 'tell the room the caller is typing'),
  okAck: socketAck('okAck', ack({}), { ok: true }),
  sendAck: socketAck('sendAck', ack({ message: messageEventSchema }), { ok: true, message: exampleMessage }),
  readAck: socketAck('readAck', ack({ lastReadMessageId: z.string() }), { ok: true, lastReadMessageId: '1' }),
  roomEvent: { name: 'room:event', title: 'room:event (server → client)', summary: 'the same JSON events as STOMP MESSAGE bodies', payload: schema(roomEventSchema), examples: [{ name: 'room:event', payload: exampleMessage }] },
  userError: {
    name: 'user:error',
    title: 'user:error (server → client)',
    summary: "a rejected STOMP SEND of the same user (the events of /user/queue/errors); the socket's own sends are answered in their acknowledgement",
    payload: schema(sendErrorEventSchema),
    examples: [{ name: 'user:error', payload: { type: 'error', code: 'FORBIDDEN', message: 'not a member of this room', destination: `/pub/room/${EXAMPLE.roomId}/message`, receipt: 'r-1', clientMsgId: 'c-1' } }],
  },
};

/** client event → [message key, ack message key] */
const socketOps: Record<string, [keyof typeof socketMessages, keyof typeof socketMessages]> = {
  roomJoin: ['roomJoin', 'okAck'],
  roomLeave: ['roomLeave', 'okAck'],
  messageSend: ['messageSend', 'sendAck'],
  messageRead: ['messageRead', 'readAck'],
  typing: ['socketTyping', 'okAck'],
};

// ---------------------------------------------------------------- Kafka

const bareEmail = userDeleteObject.shape.email;
const kafkaMessages = {
  roomEnvelope: {
    name: 'roomEnvelope',
    title: 'a room event between instances, keyed by room id',
    payload: schema(roomEnvelopeSchema),
    examples: [{ name: 'message', payload: { roomId: EXAMPLE.roomId, members: [EXAMPLE.buyer, EXAMPLE.seller], seq: 1, origin: 'chat-1', event: exampleMessage } }],
  },
  offlineNotification: {
    name: 'offlineNotification',
    title: 'for the push service, keyed by recipient id',
    payload: schema(offlineNotificationSchema),
    examples: [
      {
        name: 'offline',
        payload: { recipientId: EXAMPLE.seller, roomId: EXAMPLE.roomId, messageId: '1', senderId: EXAMPLE.buyer, senderName: 'Alice', preview: exampleMessage.content, createdAt: EXAMPLE.time },
      },
    ],
  },
  moderationReport: {
    name: 'moderationReport',
    title: 'for the moderation service, keyed by room id',
    payload: schema(moderationReportSchema),
    examples: [
      {
        name: 'spam',
        payload: {
          id: '1',
          roomId: EXAMPLE.roomId,
          productId: EXAMPLE.productId,
          reporterId: EXAMPLE.seller,
          reportedUserId: EXAMPLE.buyer,
          messageId: '1',
          messageContent: exampleMessage.content,
          reason: 'spam',
          note: 'sends the same link to every seller',
          createdAt: EXAMPLE.time,
        },
      },
    ],
  },
  userUpdate: {
    name: 'userUpdate',
    title: "an account's email changed: an id equal to the old email is re-keyed, profiles with it get the new one",
    payload: schema(userUpdateObject),
    examples: [{ name: 'object', payload: { oldEmail: 'alice@example.com', newEmail: 'alice.kim@example.com' } }],
  },
  userDelete: {
    name: 'userDelete',
    title: 'an account was deleted: the memberships of the id equal to the email, or of the profile with it, are removed',
    payload: schema(z.union([userDeleteObject, bareEmail])),
    examples: [
      { name: 'object', payload: { email: 'alice.kim@example.com' } },
      { name: 'bare', payload: 'bob@example.com' },
    ],
  },
};

// ---------------------------------------------------------------- the document

/** STOMP destinations: channel key → address, messages, the service's action */
const stompDestinations: Record<string, { address: string; messages: Record<string, unknown>; action: 'send' | 'receive'; summary: string; reply?: boolean }> = {
  room: {
    address: '/sub/chat/room/{roomId}',
    messages: { message: stompEvents.message, read: stompEvents.read, typing: stompEvents.typing, presence: stompEvents.presence, deleted: stompEvents.deleted },
    action: 'send',
    summary: 'room events to the members subscribed',
  },
  userEvents: {
    address: '/user/queue/events',
    messages: { message: stompEvents.message, read: stompEvents.read, presence: stompEvents.presence, deleted: stompEvents.deleted },
    action: 'send',
    summary: "the caller's events from all their rooms (room lists, badges): messages, read marks, presence, deletions; not typing",
  },
  userErrors: { address: '/user/queue/errors', messages: { sendError: stompEvents.sendError }, action: 'send', summary: "rejections of the caller's SENDs, naming receipt and clientMsgId" },
  roomMessage: { address: '/pub/room/{roomId}/message', messages: { sendMessage: sends.sendMessage }, action: 'receive', summary: 'send a message', reply: true },
  roomRead: { address: '/pub/room/{roomId}/read', messages: { sendRead: sends.sendRead }, action: 'receive', summary: 'mark read', reply: true },
  roomTyping: { address: '/pub/room/{roomId}/typing', messages: { sendTyping: sends.sendTyping }, action: 'receive', summary: 'typing', reply: true },
};

export function buildAsyncApi(version: string): Record<string, unknown> {
  // the same STOMP frames travel over the raw WebSocket and over SockJS
  const stompServers = [ref('servers/stomp'), ref('servers/sockjs')];
  const channels: Record<string, unknown> = {
    stompSession: { address: '/ws-stomp', title: 'STOMP session frames', servers: stompServers, messages: { ...frames } },
  };
  const operations: Record<string, unknown> = {
    connect: { action: 'receive', channel: ref('channels/stompSession'), summary: 'CONNECT → CONNECTED, or ERROR and close', messages: [ref('channels/stompSession/messages/connect')], reply: { channel: ref('channels/stompSession'), messages: [ref('channels/stompSession/messages/connected'), ref('channels/stompSession/messages/error')] } },
    subscribe: { action: 'receive', channel: ref('channels/stompSession'), summary: 'SUBSCRIBE to a destination below', messages: [ref('channels/stompSession/messages/subscribe')] },
    control: {
      action: 'receive',
      channel: ref('channels/stompSession'),
      summary: 'UNSUBSCRIBE, ACK, NACK, BEGIN, COMMIT, ABORT, DISCONNECT: as STOMP 1.2 says',
      messages: ['unsubscribe', 'ack', 'nack', 'begin', 'commit', 'abort', 'disconnect'].map((m) => ref(`channels/stompSession/messages/${m}`)),
    },
    error: { action: 'send', channel: ref('channels/stompSession'), summary: 'ERROR, then the connection closes', messages: [ref('channels/stompSession/messages/error')] },
  };
  for (const [key, d] of Object.entries(stompDestinations)) {
    channels[key] = { address: d.address, summary: d.summary, servers: stompServers, messages: d.messages, ...(d.address.includes('{roomId}') ? { parameters: roomIdParam } : {}) };
    operations[key] = {
      action: d.action,
      channel: ref(`channels/${key}`),
      summary: d.summary,
      messages: Object.keys(d.messages).map((m) => ref(`channels/${key}/messages/${m}`)),
      ...(d.reply ? { reply: { channel: ref('channels/stompSession'), messages: [ref('channels/stompSession/messages/receipt')] } } : {}),
    };
  }
  channels.chatNamespace = { address: '/chat', title: 'Socket.IO namespace /chat (path /socket.io, auth: { token })', servers: [ref('servers/socketio')], messages: socketMessages };
  for (const [op, [msg, ackMsg]] of Object.entries(socketOps)) {
    operations[`socketio_${op}`] = {
      action: 'receive',
      channel: ref('channels/chatNamespace'),
      summary: (socketMessages[msg] as { summary?: string }).summary ?? msg,
      messages: [ref(`channels/chatNamespace/messages/${msg}`)],
      reply: { channel: ref('channels/chatNamespace'), messages: [ref(`channels/chatNamespace/messages/${ackMsg}`)] },
    };
  }
  operations.socketio_roomEvent = { action: 'send', channel: ref('channels/chatNamespace'), messages: [ref('channels/chatNamespace/messages/roomEvent')] };
  operations.socketio_userError = { action: 'send', channel: ref('channels/chatNamespace'), messages: [ref('channels/chatNamespace/messages/userError')] };

  const kafka: Array<[string, string, keyof typeof kafkaMessages, 'send' | 'receive', string]> = [
    ['roomEvents', 'chat.room-events', 'roomEnvelope', 'send', 'every room event, keyed by room id, with the producing instance in the record header `origin`; every instance consumes all (its own group), skips its own by that header and delivers the rest to local subscribers'],
    ['notifications', 'chat.notifications', 'offlineNotification', 'send', 'a message for a recipient with no live session, keyed by recipient id'],
    ['reports', 'chat.reports', 'moderationReport', 'send', "a member's report of a user or a message, keyed by room id, for the moderation service"],
    ['userDelete', 'user-delete', 'userDelete', 'receive', 'from the user service; one consumer group shared by all instances'],
    ['userUpdate', 'user-update', 'userUpdate', 'receive', 'from the user service; one consumer group shared by all instances'],
  ];
  for (const [key, topic, msg, action, summary] of kafka) {
    channels[key] = { address: topic, summary: `${summary} (topic names take KAFKA_TOPIC_PREFIX)`, servers: [ref('servers/kafka')], messages: { [msg]: kafkaMessages[msg] } };
    operations[`kafka_${key}`] = { action, channel: ref(`channels/${key}`), summary, messages: [ref(`channels/${key}/messages/${msg}`)] };
  }

  const messages = hoistMessages(channels as Record<string, { messages: Record<string, unknown> }>);
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Re:Use Chat real-time API',
      version,
      description: [
        'STOMP 1.2 over WebSocket at `/ws-stomp` (and over SockJS below it), Socket.IO at `/socket.io` (namespace `/chat`) and the Kafka topics of Re:Use Chat.',
        'Operations are from the service\'s side: `receive` is what clients send, `send` what the service sends.',
        'STOMP messages name their frame in `x-stomp-command`; message headers are the frame headers.',
        `Examples use \`${EXAMPLE.roomId}\` for a room returned by rooms.open; client frames and events are sent by its buyer (\`${EXAMPLE.buyer}\`), whose token \`${EXAMPLE.jwt}\` stands for.`,
        'The HTTP side (tRPC, health) is described in openapi.yaml.',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      stomp: { host: 'localhost:3000', pathname: '/ws-stomp', protocol: 'ws', description: 'STOMP 1.2; subprotocols v12.stomp, v11.stomp, v10.stomp (or none); one frame per WebSocket message from the server' },
      sockjs: { host: 'localhost:3000', pathname: '/ws-stomp', protocol: 'http', description: 'SockJS below /ws-stomp (GET /ws-stomp/info, then /ws-stomp/{server}/{session}/websocket | xhr_streaming | xhr | xhr_send | eventsource …) carrying the same STOMP 1.2 sessions with the same auth, limits and heart-beats; text frames only; HTTP transports need sticky routing behind a load balancer' },
      socketio: { host: 'localhost:3000', pathname: '/socket.io', protocol: 'ws', description: 'Socket.IO 4, namespace /chat, auth by `auth.token` or the session cookie' },
      kafka: { host: 'localhost:9092', protocol: 'kafka', description: 'the brokers of KAFKA_BROKERS' },
    },
    channels,
    operations,
    components: {
      messages,
      schemas: {
        StompErrorCode: { type: 'string', enum: Object.keys(STOMP_ERRORS), description: 'x-error-code of ERROR frames (the connection closes)' },
        SendErrorCode: { type: 'string', enum: Object.keys(chatErrorCodes), description: 'code of /user/queue/errors events and Socket.IO acks (the connection stays open)' },
      },
    },
  };
}

/**
 * Moves every message into `components.messages` (once, even when several channels carry it) and
 * leaves `$ref`s in the channels, so a reader finds each frame and event described in one place.
 */
function hoistMessages(channels: Record<string, { messages: Record<string, unknown> }>): Record<string, unknown> {
  const names = new Map<unknown, string>();
  const components: Record<string, unknown> = {};
  for (const [channelKey, channel] of Object.entries(channels)) {
    for (const [key, message] of Object.entries(channel.messages)) {
      let name = names.get(message);
      if (!name) {
        name = key in components ? `${channelKey}_${key}` : key;
        components[name] = message;
        names.set(message, name);
      }
      channel.messages[key] = ref(`components/messages/${name}`);
    }
  }
  return components;
}
