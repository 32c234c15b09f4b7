/** SockJS clients on different instances chat through Kafka as raw WebSocket clients do. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { connectSockJsStomp, type Collector, type SockJsTransport, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';

let cluster: Cluster;
const clients: StompUser[] = [];

beforeAll(async () => {
  cluster = await startCluster(['sockjs-a', 'sockjs-b']);
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await cluster?.stop();
}, 60_000);

async function sockJsOn(i: number, transport: SockJsTransport, userId: string) {
  const c = await connectSockJsStomp(cluster.nodes[i]!.url, transport, { Authorization: `Bearer ${await tokenFor(userId)}` });
  clients.push(c);
  return c;
}

/** typing events from `from` until `to` sees one: the instances' Kafka consumers are then live */
async function untilDelivered(from: StompUser, roomId: string, to: Collector, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (to.ofType('typing').length === 0) {
    if (Date.now() > deadline) throw new Error('no typing event crossed the instances');
    await from.sendWithReceipt(`/pub/room/${roomId}/typing`, {});
    await to.waitForType('typing', 1, 500).catch(() => undefined);
  }
}

describe('SockJS across instances', () => {
  it('a buyer on SockJS websocket at one instance and a seller on SockJS xhr-streaming at another chat both ways', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const opened = await trpcClient(cluster.nodes[0]!.url, { token: await tokenFor(buyer) }).mutate('rooms.open', { productId: `p-${randomUUID()}`, sellerId: seller });
    const roomId = opened.data.id as string;

    const onA = await sockJsOn(0, 'websocket', buyer);
    const onB = await sockJsOn(1, 'xhr-streaming', seller);
    const seenOnA = onA.subscribe(`/sub/chat/room/${roomId}`);
    const seenOnB = onB.subscribe(`/sub/chat/room/${roomId}`);
    await untilDelivered(onA, roomId, seenOnB);
    await untilDelivered(onB, roomId, seenOnA);

    await onA.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'is the bike still for sale?' });
    expect((await seenOnB.waitForType('message', 1, 30_000)).map((m) => [m.body.senderId, m.body.content])).toEqual([[buyer, 'is the bike still for sale?']]);
    await onB.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'yes, come by tomorrow' });
    expect((await seenOnA.waitForType('message', 2, 30_000)).map((m) => [m.body.senderId, m.body.content])).toEqual([
      [buyer, 'is the bike still for sale?'],
      [seller, 'yes, come by tomorrow'],
    ]);
  }, 120_000);
});
