/**
 * SockJS + STOMP in Debian's Chromium, the way the Spring service's web page connected: a page
 * (served by this test, on its own origin) loads sockjs-client and @stomp/stompjs, connects to
 * /ws-stomp with a token and exchanges messages with a raw WebSocket client. Once with
 * WebSocket available, once with WebSocket removed from the page, so SockJS falls back to
 * xhr-streaming as it does behind a proxy that strips WebSocket.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>SockJS + STOMP</title>
<script src="/sockjs.min.js"></script><script src="/stomp.umd.min.js"></script>
<script>
  window.received = [];
  window.errors = [];
  /** connects over SockJS, subscribes to the room and sends one message; resolves with the transport SockJS chose */
  window.chat = ({ url, token, roomId, text }) => new Promise((resolve, reject) => {
    let sock;
    const client = new StompJs.Client({
      webSocketFactory: () => (sock = new SockJS(url)),
      connectHeaders: { Authorization: 'Bearer ' + token },
      heartbeatIncoming: 1000,
      heartbeatOutgoing: 1000,
      reconnectDelay: 0,
    });
    client.onStompError = (frame) => { window.errors.push(frame.headers.message); reject(new Error(frame.headers.message)); };
    client.onConnect = () => {
      client.subscribe('/sub/chat/room/' + roomId, (m) => window.received.push(JSON.parse(m.body)));
      client.watchForReceipt('sent', () => resolve(sock.transport));
      client.publish({ destination: '/pub/room/' + roomId + '/message', body: JSON.stringify({ content: text }), headers: { receipt: 'sent', 'content-type': 'application/json' } });
    };
    client.activate();
  });
</script></head><body>SockJS + STOMP</body></html>`;

let srv: TestServer;
let pages: Server;
let pageOrigin: string;
let browser: Browser;
const clients: StompUser[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  const files: Record<string, [string, Buffer | string]> = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/sockjs.min.js': ['application/javascript', readFileSync(join(projectRoot(), 'node_modules/sockjs-client/dist/sockjs.min.js'))],
    '/stomp.umd.min.js': ['application/javascript', readFileSync(join(projectRoot(), 'node_modules/@stomp/stompjs/bundles/stomp.umd.min.js'))],
  };
  pages = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await browser?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await srv?.stop();
});

describe('SockJS + STOMP in Chromium', () => {
  it.each([
    ['with WebSocket', false, 'websocket'],
    ['with WebSocket removed from the page', true, 'xhr-streaming'],
  ] as const)('a page %s chats with a raw WebSocket client', async (_label, removeWebSocket, expectedTransport) => {
    const buyer = `buyer-${randomUUID()}`;
    const seller = `seller-${randomUUID()}`;
    const roomId = (await srv.service.chat.openRoom({ id: buyer, name: buyer, role: 'user' }, seller, `p-${randomUUID()}`)).id;

    const raw = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
    clients.push(raw);
    const seenByRaw = raw.subscribe(`/sub/chat/room/${roomId}`);
    await raw.sendWithReceipt(`/pub/room/${roomId}/typing`, {});

    const context = await browser.newContext();
    try {
      if (removeWebSocket) await context.addInitScript(() => Object.defineProperty(window, 'WebSocket', { value: undefined }));
      const page = await context.newPage();
      await page.goto(pageOrigin);
      const transport = await page.evaluate((args) => (window as any).chat(args), {
        url: `${srv.url}/ws-stomp`,
        token: await tokenFor(buyer),
        roomId,
        text: `from Chromium ${expectedTransport}`,
      });
      expect(transport).toBe(expectedTransport);
      const [fromPage] = await seenByRaw.waitForType('message', 1);
      expect(fromPage!.body).toMatchObject({ senderId: buyer, content: `from Chromium ${expectedTransport}` });

      await raw.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'reply from a raw WebSocket' });
      await page.waitForFunction(() => (window as any).received.some((m: { content?: string }) => m.content === 'reply from a raw WebSocket'), null, { timeout: 15_000 });
      const contents = await page.evaluate(() => (window as any).received.filter((m: { type: string }) => m.type === 'message').map((m: { content: string }) => m.content));
      expect(contents).toEqual([`from Chromium ${expectedTransport}`, 'reply from a raw WebSocket']);
      expect(await page.evaluate(() => (window as any).errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
