/**
 * The Socket.IO bridge on one in-process instance: joining with history, sending with an
 * acknowledgement, rejections as acks and as `user:error`, and a STOMP client in the same room.
 */
import { randomUUID } from 'node:crypto';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRoom } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { waitFor } from '../helpers/wait.js';

let srv: TestServer;
const sockets: Socket[] = [];
const stomps: StompUser[] = [];

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const s of stomps) await s.disconnect().catch(() => undefined);
  await srv?.stop();
});

/** a connected Socket.IO client of `userId`, recording what the server emits */
async function socketOf(userId: string, token?: string) {
  const socket = ioClient(`${srv.url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: token ?? (await tokenFor(userId)) } });
  sockets.push(socket);
  const roomEvents: any[] = [];
  const userErrors: any[] = [];
  socket.on('room:event', (e) => void roomEvents.push(e));
  socket.on('user:error', (e) => void userErrors.push(e));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, roomEvents, userErrors, messages: () => roomEvents.filter((e) => e.type === 'message') };
}

describe('the Socket.IO bridge', () => {
  it('sends with an acknowledgement carrying the stored message, which every member in the room receives once', async () => {
    const { roomId, buyer, seller } = await openRoom(srv.url);
    const b = await socketOf(buyer);
    const s = await socketOf(seller);
    expect(await b.socket.emitWithAck('room:join', { roomId })).toEqual({ ok: true });
    expect(await s.socket.emitWithAck('room:join', { roomId })).toEqual({ ok: true });

    const clientMsgId = randomUUID();
    const ack = await b.socket.emitWithAck('message:send', { roomId, content: 'is it still for sale?', clientMsgId });
    expect(ack).toMatchObject({ ok: true, message: { type: 'message', roomId, senderId: buyer, content: 'is it still for sale?', clientMsgId } });
    const again = await b.socket.emitWithAck('message:send', { roomId, content: 'is it still for sale?', clientMsgId });
    expect(again.message.id).toBe(ack.message.id);
    await s.socket.emitWithAck('message:send', { roomId, content: 'yes' });

    // 'yes' was sent after the repeat: a second copy of the first message would come before it
    await waitFor(() => s.messages().length >= 2 && b.messages().length >= 2, 'both messages at both sockets');
    for (const side of [b, s]) expect(side.messages().map((m) => m.content)).toEqual(['is it still for sale?', 'yes']);
    expect(s.messages()[0]).toEqual(ack.message);
  });

  it('replays what was missed after `since` before live messages, and shows read marks and typing', async () => {
    const { roomId, buyer, seller } = await openRoom(srv.url);
    const s = await socketOf(seller);
    await s.socket.emitWithAck('room:join', { roomId });
    const first = await s.socket.emitWithAck('message:send', { roomId, content: 'one' });
    await s.socket.emitWithAck('message:send', { roomId, content: 'two' });

    const b = await socketOf(buyer);
    expect(await b.socket.emitWithAck('room:join', { roomId, since: first.message.id })).toEqual({ ok: true });
    await s.socket.emitWithAck('message:send', { roomId, content: 'three' });
    await waitFor(() => b.messages().length >= 2, 'the missed and the live message');
    expect(b.messages().map((m) => m.content)).toEqual(['two', 'three']);

    const read = await b.socket.emitWithAck('message:read', { roomId, messageId: first.message.id });
    expect(read).toEqual({ ok: true, lastReadMessageId: first.message.id });
    expect(await b.socket.emitWithAck('typing', { roomId })).toEqual({ ok: true });
    await waitFor(() => s.roomEvents.some((e) => e.type === 'typing'), 'the typing event at the seller');
    expect(s.roomEvents.find((e) => e.type === 'read')).toEqual({ type: 'read', roomId, userId: buyer, messageId: first.message.id });
  });

  it('refuses strangers and bad input in the acknowledgement, and stores nothing', async () => {
    const { roomId, buyer } = await openRoom(srv.url);
    const stranger = await socketOf(`stranger-${randomUUID()}`);
    expect(await stranger.socket.emitWithAck('room:join', { roomId })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await stranger.socket.emitWithAck('message:send', { roomId, content: 'spam' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const b = await socketOf(buyer);
    expect(await b.socket.emitWithAck('message:send', { roomId, content: '   ' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await b.socket.emitWithAck('message:send', { roomId: 'not a room', content: 'x' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect((await srv.service.chat.history(buyer, roomId, { limit: 10 })).messages).toEqual([]);
  });

  it('tells a Socket.IO client when a SEND of the same user over STOMP was rejected', async () => {
    const { roomId } = await openRoom(srv.url);
    const stranger = `stranger-${randomUUID()}`;
    const web = await socketOf(stranger);
    const phone = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(stranger)}` });
    stomps.push(phone);
    phone.send(`/pub/room/${roomId}/message`, { content: 'not my room', clientMsgId: 'c-7' }, { receipt: 'r-7' });
    await waitFor(() => web.userErrors.length > 0, 'the rejection at the Socket.IO client');
    expect(web.userErrors[0]).toMatchObject({ type: 'error', code: 'FORBIDDEN', receipt: 'r-7', clientMsgId: 'c-7' });
  });

  it('lets a STOMP client and a Socket.IO client talk in one room', async () => {
    const { roomId, buyer, seller } = await openRoom(srv.url);
    const b = await socketOf(buyer);
    await b.socket.emitWithAck('room:join', { roomId });
    const s = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
    stomps.push(s);
    const atSeller = s.subscribe(`/sub/chat/room/${roomId}`);
    await atSeller.live();
    await s.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'from stomp' });
    const sent = await b.socket.emitWithAck('message:send', { roomId, content: 'from socket.io' });
    await waitFor(() => b.messages().length >= 2, 'both messages at the Socket.IO client');
    expect(b.messages().map((m) => m.content)).toEqual(['from stomp', 'from socket.io']);
    const got = await atSeller.waitForType('message', 2);
    expect(got.map((m) => m.body.content)).toEqual(['from stomp', 'from socket.io']);
    expect(got[1]!.body.id).toBe(sent.message.id);
  });

  it('refuses a connection with a token that is not valid', async () => {
    const refused = ioClient(`${srv.url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: 'not.a.jwt' } });
    sockets.push(refused);
    const err = await new Promise<Error & { data?: unknown }>((resolve) => refused.once('connect_error', resolve));
    expect(err.message).toMatch(/not valid/);
    expect(err.data).toEqual({ code: 'UNAUTHORIZED' });
  });
});
