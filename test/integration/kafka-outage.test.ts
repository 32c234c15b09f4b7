/**
 * Kafka going away in the middle of a conversation, on a private broker of this test (its own
 * port and data folder), so stopping it disturbs no other suite.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/server.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { waitFor } from '../helpers/wait.js';
import { openRoom } from '../helpers/rooms.js';

let port: number;
let brokerEnv: NodeJS.ProcessEnv;
let cluster: Cluster;
const clients: StompUser[] = [];

const readyKafka = async (i: number) => ((await (await fetch(`${cluster.nodes[i]!.url}/readyz`)).json()) as any).dependencies.kafka;

function broker(command: 'start' | 'stop') {
  const r = spawnSync('bash', [join(projectRoot(), 'scripts/kafka.sh'), command], { env: brokerEnv, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kafka.sh ${command} failed:\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  port = await freePort();
  const controller = await freePort();
  brokerEnv = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller), KAFKA_DATA_DIR: `/tmp/reuse-chat-kafka-outage-${port}` };
  broker('start');
  cluster = await startCluster(['a', 'b'], { KAFKA_BROKERS: `127.0.0.1:${port}` });
  await waitFor(async () => (await readyKafka(0)) === 'up' && (await readyKafka(1)) === 'up', 'both instances connected to kafka', 60_000);
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await cluster?.stop();
  broker('stop');
  spawnSync('rm', ['-rf', `/tmp/reuse-chat-kafka-outage-${port}`]);
}, 60_000);


describe('when Kafka stops in the middle of a conversation', () => {
  it('keeps storing and delivering locally, says kafka is down, and fans out again once it is back, with nothing missing on resync', async () => {
    const { roomId, buyer, seller } = await openRoom(cluster.nodes[0]!.url);
    const dest = `/sub/chat/room/${roomId}`;
    const b = await connectStomp(cluster.nodes[0]!.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const buyerDevice2 = await connectStomp(cluster.nodes[0]!.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const s = await connectStomp(cluster.nodes[1]!.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
    clients.push(b, buyerDevice2, s);
    const local = buyerDevice2.subscribe(dest);
    const remote = s.subscribe(dest);
    await Promise.all([local.live(), remote.live()]);

    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'before' });
    await remote.waitForType('message', 1);

    broker('stop');
    await waitFor(async () => (await readyKafka(0)) === 'down', 'instance a reports kafka down');
    for (const content of ['during 1', 'during 2', 'during 3']) await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content });
    // same-instance subscribers still get them live
    expect((await local.waitForType('message', 4)).map((m) => m.body.content)).toEqual(['before', 'during 1', 'during 2', 'during 3']);

    broker('start');
    await waitFor(async () => (await readyKafka(0)) === 'up' && (await readyKafka(1)) === 'up', 'both instances report kafka up', 60_000);
    // the fan-out consumer may need a moment after the broker is back: send until one crosses
    await waitFor(
      async () => {
        const content = `after ${randomUUID()}`;
        await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content });
        return waitFor(() => remote.ofType('message').some((m) => m.body.content === content), 'that message on the other instance', 3_000).then(
          () => true,
          () => false,
        );
      },
      'a message sent now crosses instances',
      60_000,
    );

    // the seller resyncs from what it saw: nothing stored is missing
    const seen = new Set(remote.ofType('message').map((m) => m.body.id));
    const since = await trpcClient(cluster.nodes[1]!.url, { token: await tokenFor(seller) }).query('history.since', {
      roomId,
      after: remote.ofType('message')[0]!.body.id,
    });
    const all = ['before', ...since.data.messages.map((m: any) => m.content)];
    expect(all.slice(0, 4)).toEqual(['before', 'during 1', 'during 2', 'during 3']);
    for (const m of since.data.messages) if (!seen.has(m.id)) expect(m.content).toMatch(/^during|^after/);
    // and no client saw a message twice
    const ids = remote.ofType('message').map((m) => m.body.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 180_000);

  it('keeps delivering a room written on one instance to its reader on the other while Kafka is down, within seconds, once each', async () => {
    const { roomId, buyer, seller } = await openRoom(cluster.nodes[0]!.url);
    const dest = `/sub/chat/room/${roomId}`;
    const b = await connectStomp(cluster.nodes[0]!.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const s = await connectStomp(cluster.nodes[1]!.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
    clients.push(b, s);
    const remote = s.subscribe(dest);
    await remote.live();
    await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'before' });
    await remote.waitForType('message', 1);

    broker('stop');
    await waitFor(async () => (await readyKafka(0)) === 'down' && (await readyKafka(1)) === 'down', 'both instances report kafka down', 60_000);
    const delays: number[] = [];
    for (const content of ['polled 1', 'polled 2', 'polled 3']) {
      const sent = Date.now();
      await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content });
      // the bound: well above the 1 s poll, for a busy machine
      await waitFor(() => remote.ofType('message').some((m) => m.body.content === content), `${content} on the other instance`, 10_000);
      delays.push(Date.now() - sent);
    }
    console.log(`delivery across instances while Kafka is down: ${delays.join(', ')} ms`);

    broker('start');
    await waitFor(async () => (await readyKafka(0)) === 'up' && (await readyKafka(1)) === 'up', 'both instances report kafka up', 60_000);
    await waitFor(
      async () => {
        const content = `after ${randomUUID()}`;
        await b.sendWithReceipt(`/pub/room/${roomId}/message`, { content });
        return waitFor(() => remote.ofType('message').some((m) => m.body.content === content), 'that message on the other instance', 3_000).then(
          () => true,
          () => false,
        );
      },
      'a message sent now crosses instances',
      60_000,
    );
    const contents = remote.ofType('message').map((m) => String(m.body.content));
    expect(contents.slice(0, 4)).toEqual(['before', 'polled 1', 'polled 2', 'polled 3']);
    // the bus replaying what it queued during the outage repeats nothing
    const ids = remote.ofType('message').map((m) => m.body.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 180_000);
});
