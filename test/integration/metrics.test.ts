/**
 * GET /metrics: Prometheus text that a scraper parses, whose counters move with what users do
 * (messages stored, receipts, refusals), behind METRICS_TOKEN when it is set and for loopback
 * callers only when it is not.
 */
import { randomUUID } from 'node:crypto';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLargeBody } from '../helpers/http-raw.js';
import { scrapeMetrics } from '../helpers/metrics.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';

const TOKEN = 'metrics-token-for-tests-0123456789';
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { METRICS_TOKEN: TOKEN, SEND_RATE_PER_SECOND: '1', SEND_BURST: '5' } });
});
afterAll(async () => {
  await srv?.stop();
});

const scrape = () => scrapeMetrics(srv.url, TOKEN);

describe('/metrics with METRICS_TOKEN', () => {
  it('refuses a scrape without the token, or with a wrong one', async () => {
    expect((await scrapeMetrics(srv.url)).status).toBe(401);
    expect((await scrapeMetrics(srv.url, 'not-the-metrics-token-at-all')).status).toBe(401);
    // a user's chat token is not the metrics token either
    expect((await scrapeMetrics(srv.url, await tokenFor('someone'))).status).toBe(401);
  });

  it('serves parseable Prometheus text with every family operators need', async () => {
    const m = await scrape();
    expect(m.status).toBe(200);
    const names = new Set(m.families.map((f) => f.name));
    for (const name of [
      'chat_connections',
      'chat_messages_stored_total',
      'chat_store_batch_size',
      'chat_receipt_latency_seconds',
      'chat_delivery_latency_seconds',
      'chat_limit_refusals_total',
      'chat_slow_consumer_cutoffs_total',
      'chat_dependency_up',
      'chat_bus_queue_length',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(m.value('chat_dependency_up', { dependency: 'mysql' })).toBe(1);
    expect(m.value('chat_dependency_up', { dependency: 'kafka' })).toBe(-1);
  });

  it('counts connections by transport, stored messages, batches and receipt and delivery latencies as users chat', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const room = await srv.service.chat.openRoom({ id: buyer, name: buyer, role: 'user' }, seller, `product-${randomUUID()}`);
    const before = await scrape();

    const stomp = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const sio = ioClient(`${srv.url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: await tokenFor(seller) } });
    await new Promise<void>((resolve, reject) => {
      sio.once('connect', () => resolve());
      sio.once('connect_error', reject);
    });
    const during = await scrape();
    expect(during.value('chat_connections', { transport: 'stomp' })).toBe(before.value('chat_connections', { transport: 'stomp' }) + 1);
    expect(during.value('chat_connections', { transport: 'socketio' })).toBe(before.value('chat_connections', { transport: 'socketio' }) + 1);

    expect(await sio.emitWithAck('room:join', { roomId: room.id })).toMatchObject({ ok: true });
    for (let i = 0; i < 3; i++) await stomp.sendWithReceipt(`/pub/room/${room.id}/message`, { content: `hello ${i}` });
    expect(await sio.emitWithAck('message:send', { roomId: room.id, content: 'hi back' })).toMatchObject({ ok: true });

    const after = await scrape();
    expect(after.value('chat_messages_stored_total')).toBe(before.value('chat_messages_stored_total') + 4);
    expect(after.count('chat_store_batch_size')).toBeGreaterThan(before.count('chat_store_batch_size'));
    expect(after.count('chat_receipt_latency_seconds', { transport: 'stomp' })).toBe(before.count('chat_receipt_latency_seconds', { transport: 'stomp' }) + 3);
    expect(after.count('chat_receipt_latency_seconds', { transport: 'socketio' })).toBe(before.count('chat_receipt_latency_seconds', { transport: 'socketio' }) + 1);
    expect(after.count('chat_delivery_latency_seconds', { path: 'local' })).toBe(before.count('chat_delivery_latency_seconds', { path: 'local' }) + 4);

    sio.disconnect();
    await stomp.disconnect();
  });

  it('counts refusals by the limit that refused', async () => {
    const before = await scrape();
    expect((await postLargeBody(srv.url, '/api/trpc/inquiries.create', 4 * 1024 * 1024)).status).toBe(413);
    const batch = Array.from({ length: 21 }, () => 'auth.me').join(',');
    expect((await fetch(`${srv.url}/api/trpc/${batch}?batch=1`)).status).toBe(400);

    // a sender over the per-connection rate (burst 5, then 1/s)
    const buyer = `buyer-${randomUUID()}`;
    const room = await srv.service.chat.openRoom({ id: buyer, name: buyer, role: 'user' }, `seller-${randomUUID()}`, `product-${randomUUID()}`);
    const stomp = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(buyer)}` });
    const errors = stomp.subscribe('/user/queue/errors');
    for (let i = 0; i < 8; i++) stomp.send(`/pub/room/${room.id}/message`, { content: `burst ${i}` });
    await errors.waitFor(1);

    const after = await scrape();
    const refusals = (limit: string) => after.value('chat_limit_refusals_total', { limit }) - before.value('chat_limit_refusals_total', { limit });
    expect(refusals('body_size')).toBe(1);
    expect(refusals('trpc_batch')).toBe(1);
    expect(refusals('send_rate')).toBeGreaterThanOrEqual(1);
    await stomp.disconnect();
  });
});

describe('/metrics without METRICS_TOKEN', () => {
  it('answers a loopback caller', async () => {
    const open = await startTestServer();
    try {
      const m = await scrapeMetrics(open.url);
      expect(m.status).toBe(200);
      expect(m.families.length).toBeGreaterThan(0);
    } finally {
      await open.stop();
    }
  });
});
