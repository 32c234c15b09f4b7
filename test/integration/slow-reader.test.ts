/**
 * A reader that stops reading is cut off at SLOW_CONSUMER_BYTES and its TCP socket goes at
 * once: no closing handshake that a non-reading peer would never answer (ws waits 30 s for
 * one), so its kernel buffers are freed with it. Everyone else in the room carries on.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp, header, RawStomp } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { SLOW_CONSUMER_BYTES: String(256 * 1024), SEND_RATE_PER_SECOND: '1000', SEND_BURST: '1000' } });
});
afterAll(async () => {
  await srv?.stop();
});

async function cutoffs(): Promise<number> {
  const metric = await srv.service.metrics.slowConsumerCutoffs.get();
  return metric.values.find((v) => v.labels.transport === 'stomp')?.value ?? 0;
}

describe('a reader that stops reading', () => {
  it('is cut off and its server-side socket is destroyed without waiting for a close handshake', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const room = await srv.service.chat.openRoom({ id: buyer, name: buyer, role: 'user' }, seller, `product-${randomUUID()}`);
    const destination = `/sub/chat/room/${room.id}`;

    const upgraded: Duplex[] = [];
    const capture = (_req: unknown, socket: Duplex) => upgraded.push(socket);
    srv.service.server.prependListener('upgrade', capture);
    const reader = await RawStomp.open(srv.wsUrl, ['v12.stomp']);
    srv.service.server.off('upgrade', capture);
    const serverSide = upgraded[0]!;
    const gone = new Promise<void>((resolve) => serverSide.once('close', () => resolve()));

    reader.send(`CONNECT\naccept-version:1.2\nAuthorization:Bearer ${await tokenFor(seller)}\n\n\0`);
    await reader.next('CONNECTED');
    // every subscription gets its own copy of each message: 100 of them fill buffers 100× faster
    for (let i = 0; i < 100; i++) reader.send(`SUBSCRIBE\nid:s${i}\ndestination:${destination}${i === 99 ? '\nreceipt:subscribed' : ''}\n\n\0`);
    expect(header(await reader.next('RECEIPT'), 'receipt-id')).toBe('subscribed');

    // from here on the reader reads nothing: its kernel buffers fill, then the server's queue
    (reader.ws as unknown as { _socket: Duplex })._socket.pause();

    const writer = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const content = 'x'.repeat(2000);
    let sent = 0;
    while ((await cutoffs()) === 0) {
      if (sent >= 3000) throw new Error('the reader was never cut off');
      await writer.sendWithReceipt(`/pub/room/${room.id}/message`, { content, clientMsgId: randomUUID() });
      sent++;
    }

    // the cut-off happened; the socket goes with it (a generous bound, well under ws's 30 s close timeout)
    await Promise.race([gone, new Promise((_, reject) => setTimeout(() => reject(new Error('socket still open 10 s after the cut-off')), 10_000))]);
    expect(serverSide.destroyed).toBe(true);

    // the writer was not affected
    await writer.sendWithReceipt(`/pub/room/${room.id}/message`, { content: 'still here', clientMsgId: randomUUID() });
    await writer.disconnect();
    reader.ws.terminate();
  }, 90_000);
});
