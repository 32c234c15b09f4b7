/**
 * The STOMP 1.2 frames of the contract: session frames (CONNECT, CONNECTED, SUBSCRIBE, RECEIPT,
 * ERROR), the MESSAGE frames of each server destination and the SEND frames of each client
 * destination, as AsyncAPI message objects with their headers, payload schemas and examples.
 */
import { z } from 'zod';
import {
  deletedEventSchema,
  messageEventSchema,
  presenceEventSchema,
  readEventSchema,
  sendErrorEventSchema,
  typingEventSchema,
} from '../../server/chat/event-schemas.js';
import { messageBody, readBody } from '../../server/chat/validation.js';
import { STOMP_ERRORS } from '../../server/stomp/errors.js';
import { EXAMPLE, exampleMessage, jsonSchema, type JsonSchema } from './schema.js';

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') => jsonSchema(s, 'draft-07', io);
const headers = (props: Record<string, JsonSchema>, required: string[]): JsonSchema => ({ type: 'object', properties: props, required });
const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });

const messageFrameHeaders = headers(
  {
    subscription: str('the id of the SUBSCRIBE'),
    'message-id': str('unique per connection'),
    destination: str('the subscribed destination'),
    'content-type': { const: 'application/json' },
    ack: str('present for ack modes client and client-individual: the id to ACK/NACK'),
  },
  ['subscription', 'message-id', 'destination', 'content-type'],
);

const sendFrameHeaders = (destination: string) =>
  headers(
    {
      destination: str(`\`${destination}\``),
      'content-type': { const: 'application/json' },
      receipt: str('ask for a RECEIPT, sent only after the message is durably stored'),
    },
    ['destination'],
  );

/** a MESSAGE frame carrying a JSON event */
const messageFrame = (name: string, title: string, payload: JsonSchema, example: { destination: string; payload: unknown }) => ({
  name,
  title,
  'x-stomp-command': 'MESSAGE',
  contentType: 'application/json',
  headers: messageFrameHeaders,
  payload,
  examples: [{ name, headers: { subscription: 'sub-0', 'message-id': '3', destination: example.destination, 'content-type': 'application/json' }, payload: example.payload }],
});

const roomDest = `/sub/chat/room/${EXAMPLE.roomId}`;
export const stompEvents = {
  message: messageFrame('message', 'A stored message', schema(messageEventSchema), { destination: roomDest, payload: exampleMessage }),
  read: messageFrame('read', 'A read mark moved', schema(readEventSchema), { destination: roomDest, payload: { type: 'read', roomId: EXAMPLE.roomId, userId: EXAMPLE.seller, messageId: '1' } }),
  typing: messageFrame('typing', 'A member is typing', schema(typingEventSchema), { destination: roomDest, payload: { type: 'typing', roomId: EXAMPLE.roomId, userId: EXAMPLE.buyer } }),
  presence: messageFrame('presence', 'A member came online or went offline', schema(presenceEventSchema), {
    destination: roomDest,
    payload: { type: 'presence', roomId: EXAMPLE.roomId, userId: EXAMPLE.seller, online: true },
  }),
  deleted: messageFrame('deleted', 'The sender deleted a message: show it as deleted', schema(deletedEventSchema), {
    destination: roomDest,
    payload: { type: 'deleted', roomId: EXAMPLE.roomId, messageId: '1' },
  }),
  sendError: messageFrame('sendError', 'A SEND of the caller was refused', schema(sendErrorEventSchema), {
    destination: '/user/queue/errors',
    payload: { type: 'error', code: 'BAD_REQUEST', message: 'content: content must not be empty', destination: `/pub/room/${EXAMPLE.roomId}/message`, receipt: 'r-7', clientMsgId: 'c-7' },
  }),
};

/** a client frame without a body; every one may carry `receipt` */
function control(name: string, command: string, summary: string, props: Record<string, JsonSchema>, required: string[]) {
  return { [name]: { name, title: command, summary, 'x-stomp-command': command, headers: headers({ ...props, receipt: str('ask for a RECEIPT') }, required) } };
}

export const frames = {
  connect: {
    name: 'connect',
    title: 'CONNECT (or STOMP)',
    summary: 'Opens the session. The token comes from `Authorization: Bearer <jwt>`, the JWT as `passcode`, or the web session cookie.',
    'x-stomp-command': 'CONNECT',
    headers: headers(
      {
        'accept-version': str('comma-separated, e.g. 1.2,1.1,1.0'),
        host: str('optional'),
        'heart-beat': str('cx,cy in ms: what the client sends / wants; 0 = none', { pattern: '^\\d+,\\d+$' }),
        Authorization: str('Bearer <jwt>'),
        passcode: str('the JWT, for clients that cannot set other headers'),
      },
      [],
    ),
    examples: [
      {
        name: 'bearer',
        summary: "a mobile client with a token that sends no heart-beats and wants the server's every 10 s",
        headers: { 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,10000', Authorization: `Bearer ${EXAMPLE.jwt}` },
      },
    ],
  },
  connected: {
    name: 'connected',
    title: 'CONNECTED',
    'x-stomp-command': 'CONNECTED',
    headers: headers(
      {
        version: { enum: ['1.2', '1.1', '1.0'] },
        'heart-beat': str('sx,sy as negotiated (STOMP 1.2 §Heart-beating)', { pattern: '^\\d+,\\d+$' }),
        server: str('server name and version'),
        session: str('session id'),
        'user-name': str('the verified user id'),
      },
      ['version', 'heart-beat', 'server', 'session', 'user-name'],
    ),
    examples: [{ name: 'connected', summary: 'the answer to the CONNECT example', headers: { version: '1.2', 'heart-beat': '10000,10000', server: 'reuse-chat/0.1.0', session: 's-3f9a', 'user-name': EXAMPLE.buyer } }],
  },
  subscribe: {
    name: 'subscribe',
    title: 'SUBSCRIBE',
    summary: 'Members only for rooms: anyone else gets ERROR and the connection closes.',
    'x-stomp-command': 'SUBSCRIBE',
    headers: headers(
      {
        id: str('any id (some clients use the destination)'),
        destination: str('/sub/chat/room/{roomId}, /user/queue/events or /user/queue/errors'),
        ack: { enum: ['auto', 'client', 'client-individual'] },
        'x-since': str('rooms only: first deliver every stored message after this message id, in order, then live ones', { pattern: '^\\d+$' }),
      },
      ['id', 'destination'],
    ),
    examples: [
      { name: 'room', summary: 'a room, resuming after message 0', headers: { id: 'sub-0', destination: roomDest, 'x-since': '0' } },
      { name: 'events', summary: "the caller's events from all rooms", headers: { id: 'sub-1', destination: '/user/queue/events' } },
      { name: 'errors', summary: "rejections of the caller's SENDs", headers: { id: 'sub-2', destination: '/user/queue/errors' } },
    ],
  },
  receipt: {
    name: 'receipt',
    title: 'RECEIPT',
    summary: 'For a SEND: only after the message is committed. A refused SEND gets none (see /user/queue/errors).',
    'x-stomp-command': 'RECEIPT',
    headers: headers({ 'receipt-id': str('the `receipt` header of the frame') }, ['receipt-id']),
    examples: [{ name: 'receipt', headers: { 'receipt-id': 'r-1' } }],
  },
  ...control('unsubscribe', 'UNSUBSCRIBE', 'ends a subscription', { id: str('the id of the SUBSCRIBE') }, ['id']),
  ...control('ack', 'ACK', 'acknowledges a MESSAGE of a client or client-individual subscription', { id: str('the `ack` header of the MESSAGE'), transaction: str('optional') }, ['id']),
  ...control('nack', 'NACK', 'refuses a MESSAGE of a client or client-individual subscription', { id: str('the `ack` header of the MESSAGE'), transaction: str('optional') }, ['id']),
  ...control('begin', 'BEGIN', 'starts a transaction: its SENDs and ACKs take effect on COMMIT', { transaction: str('a transaction id') }, ['transaction']),
  ...control('commit', 'COMMIT', 'applies a transaction', { transaction: str('a transaction id') }, ['transaction']),
  ...control('abort', 'ABORT', 'drops a transaction', { transaction: str('a transaction id') }, ['transaction']),
  ...control('disconnect', 'DISCONNECT', 'ends the session; with `receipt`, the RECEIPT comes after everything before it was handled', {}, []),
  error: {
    name: 'error',
    title: 'ERROR',
    summary: 'A protocol violation or refused CONNECT/SUBSCRIBE; the connection closes after it.',
    'x-stomp-command': 'ERROR',
    contentType: 'text/plain',
    headers: headers(
      {
        message: str('short, for humans'),
        'x-error-code': { type: 'string', enum: Object.keys(STOMP_ERRORS), description: 'stable code to match on' },
        'receipt-id': str('when the failing frame asked for a receipt'),
        'content-type': { const: 'text/plain' },
      },
      ['message', 'x-error-code'],
    ),
    payload: { type: 'string', description: 'details' },
    examples: [
      {
        name: 'badToken',
        summary: 'CONNECT with a token that is not valid',
        headers: { message: 'authentication failed', 'x-error-code': 'AUTH_FAILED', 'content-type': 'text/plain' },
        payload: 'token is not valid',
      },
    ],
  },
};

const send = (name: string, title: string, destination: string, body: z.ZodType | JsonSchema, payload: unknown, summary: string) => ({
  name,
  title,
  summary,
  'x-stomp-command': 'SEND',
  contentType: 'application/json',
  headers: sendFrameHeaders(destination),
  payload: body instanceof z.ZodType ? schema(body, 'input') : body,
  examples: [
    {
      name,
     
      headers: { destination: destination.replace('{roomId}', EXAMPLE.roomId), 'content-type': 'application/json', receipt: `r-${name}` },
      payload,
    },
  ],
});

export const sends = {
  sendMessage: send(
    'sendMessage',
    'SEND a message',
    '/pub/room/{roomId}/message',
    messageBody,
    { content: 'Could you do 120?', clientMsgId: 'b1a7c3d2-0e4f-4a6b-8c9d-1e2f3a4b5c6d' },
    'content 1..2000 characters after trimming (`message` is an alias); `attachments`: up to 4 upload ids (POST /api/uploads) of photos the sender uploaded into this room and not yet sent, and then content may be empty; a repeated clientMsgId is stored once and answered with the original; refused with BLOCKED while either side blocks the room',
  ),
  sendRead: send('sendRead', 'SEND a read mark', '/pub/room/{roomId}/read', readBody, { messageId: '1' }, 'moves the read mark forward only'),
  sendTyping: send('sendTyping', 'SEND typing', '/pub/room/{roomId}/typing', { type: 'object' }, {}, 'tells the room the caller is typing'),
};
