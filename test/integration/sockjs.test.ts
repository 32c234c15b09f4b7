import { randomUUID } from 'node:crypto';
import type { IFrame } from '@stomp/stompjs';
import { encode } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectSockJsStomp, connectStomp, sockJsSocket, type SockJsTransport, type StompUser } from '../helpers/stomp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TEST_AUTH_SECRET } from '../helpers/services.js';
import { tokenFor } from '../helpers/tokens.js';

let srv: TestServer;
const open: StompUser[] = [];

beforeAll(async () => {
  srv = await startTestServer({ env: { STOMP_MAX_FRAME_BYTES: '8192', SLOW_CONSUMER_BYTES: '16384' } });
});
afterAll(async () => {
  for (const u of open) await u.disconnect().catch(() => undefined);
  await srv?.stop();
});

async function room() {
  const buyer = `buyer-${randomUUID()}`;
  const seller = `seller-${randomUUID()}`;
  const r = await srv.service.chat.openRoom({ id: buyer, name: buyer, role: 'user' }, seller, `product-${randomUUID()}`);
  return { roomId: r.id, buyer, seller };
}

async function sockJsUser(transport: SockJsTransport, id: string) {
  const u = await connectSockJsStomp(srv.url, transport, { Authorization: `Bearer ${await tokenFor(id)}` });
  open.push(u);
  return u;
}

/** connects over SockJS and resolves with the ERROR frame the server answers with */
async function refusedConnect(transport: SockJsTransport, headers: Record<string, string>): Promise<IFrame> {
  const attempt = connectStomp(`${srv.url}/ws-stomp`, headers, { socket: sockJsSocket(srv.url, transport) });
  const error = await attempt.then(
    () => {
      throw new Error('CONNECT was accepted');
    },
    (err: Error) => err,
  );
  expect(error.message).toMatch(/^ERROR /);
  return { headers: { message: error.message.slice('ERROR '.length) } } as unknown as IFrame;
}

describe('SockJS at /ws-stomp', () => {
  it('answers /ws-stomp/info as a SockJS server does', async () => {
    const res = await fetch(`${srv.url}/ws-stomp/info`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ websocket: true, cookie_needed: false });
  });

  it('serves the SockJS client for its iframe transports from this host, not a CDN', async () => {
    const page = await (await fetch(`${srv.url}/ws-stomp/iframe.html`)).text();
    expect(page).toContain('src="/ws-stomp/sockjs.min.js"');
    const script = await fetch(`${srv.url}/ws-stomp/sockjs.min.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('SockJS');
  });

  it('speaks STOMP on its raw WebSocket at /ws-stomp/websocket too', async () => {
    const { roomId, buyer } = await room();
    const u = await connectStomp(`${srv.wsUrl}/websocket`, { Authorization: `Bearer ${await tokenFor(buyer)}` }, { protocols: [] });
    open.push(u);
    const seen = u.subscribe(`/sub/chat/room/${roomId}`);
    await u.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'over the raw SockJS socket' });
    expect((await seen.waitForType('message', 1)).map((m) => m.body.content)).toEqual(['over the raw SockJS socket']);
  });

  describe.each(['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'] as const)('over %s', (transport) => {
    it('connects with a token, subscribes, sends with a receipt and receives, together with a raw WebSocket client', async () => {
      const { roomId, buyer, seller } = await room();
      const viaSockJs = await sockJsUser(transport, buyer);
      const viaWs = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
      open.push(viaWs);
      const mine = viaSockJs.subscribe(`/sub/chat/room/${roomId}`, { receipt: 'sub-sockjs' });
      const theirs = viaWs.subscribe(`/sub/chat/room/${roomId}`);
      // a SUBSCRIBE is live once a later SEND's receipt is back (frames are handled in order)
      await viaSockJs.sendWithReceipt(`/pub/room/${roomId}/typing`, {});
      await viaWs.sendWithReceipt(`/pub/room/${roomId}/typing`, {});
      await viaSockJs.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `hello over ${transport} \u00e9\u2603` });
      await viaWs.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'hello over raw WebSocket' });
      const got = (await mine.waitForType('message', 2)).map((m) => m.body.content);
      expect(got).toEqual([`hello over ${transport} \u00e9\u2603`, 'hello over raw WebSocket']);
      expect((await theirs.waitForType('message', 2)).map((m) => [m.body.senderId, m.body.content])).toEqual([
        [buyer, `hello over ${transport} \u00e9\u2603`],
        [seller, 'hello over raw WebSocket'],
      ]);
    });

    it('refuses a bad token with ERROR, as the raw endpoint does', async () => {
      const error = await refusedConnect(transport, { Authorization: `Bearer ${await tokenFor('mallory', { secret: 'another-secret-of-at-least-32-chars!!' })}` });
      expect(error.headers.message).toMatch(/authentication failed/);
    });

    it('closes the connection of a stranger who subscribes to a room', async () => {
      const { roomId } = await room();
      const stranger = await sockJsUser(transport, `stranger-${randomUUID()}`);
      stranger.subscribe(`/sub/chat/room/${roomId}`);
      await stranger.closed;
      expect(stranger.errors.map((e) => e.headers.message)).toEqual([expect.stringMatching(/forbidden/)]);
    });

    it('refuses a frame over the size limit with ERROR and closes', async () => {
      const { roomId, buyer } = await room();
      const u = await sockJsUser(transport, buyer);
      u.send(`/pub/room/${roomId}/message`, { content: 'x'.repeat(10_000) });
      await u.closed;
      expect(u.errors.map((e) => e.headers.message)).toEqual([expect.stringMatching(/too large/)]);
    });
  });
});

/**
 * The SockJS protocol by hand, with the headers a browser would send (sockjs-client cannot
 * set Cookie or Origin): resolves with the first STOMP frame the server answers CONNECT with.
 */
async function firstFrameOverXhrStreaming(headers: Record<string, string>): Promise<string> {
  const base = `${srv.url}/ws-stomp/000/${randomUUID().replace(/-/g, '')}`;
  const stream = await fetch(`${base}/xhr_streaming`, { method: 'POST', headers });
  expect(stream.status).toBe(200);
  const reader = stream.body!.getReader();
  let text = '';
  let sent = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended: ${text}`);
    text += Buffer.from(value).toString();
    const lines = text.split('\n');
    if (!sent && lines.includes('o')) {
      sent = true;
      const send = await fetch(`${base}/xhr_send`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: JSON.stringify(['CONNECT\naccept-version:1.2\n\n\0']) });
      expect(send.status).toBe(204);
    }
    const message = lines.find((l) => l.startsWith('a['));
    if (message) {
      await reader.cancel();
      return (JSON.parse(message.slice(1)) as string[])[0]!;
    }
  }
}

async function firstFrameOverSockJsWebSocket(headers: Record<string, string>): Promise<string> {
  const ws = new WebSocket(`${srv.wsUrl}/000/${randomUUID().replace(/-/g, '')}/websocket`, { headers });
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'o') ws.send(JSON.stringify(['CONNECT\naccept-version:1.2\n\n\0']));
        else if (text.startsWith('a[')) resolve((JSON.parse(text.slice(1)) as string[])[0]!);
      });
    });
  } finally {
    ws.terminate();
  }
}

describe('SockJS and the web page session cookie', () => {
  async function sessionCookie(sub: string) {
    return `next-auth.session-token=${await encode({ token: { sub, name: sub }, secret: TEST_AUTH_SECRET })}`;
  }

  it.each([
    ['xhr_streaming', firstFrameOverXhrStreaming],
    ['websocket', firstFrameOverSockJsWebSocket],
  ] as const)('lets a cookie open a session over %s only from an allowed Origin', async (_transport, firstFrame) => {
    const user = `web-${randomUUID()}`;
    const cookie = await sessionCookie(user);
    const accepted = await firstFrame({ cookie, origin: srv.url });
    expect(accepted).toMatch(/^CONNECTED\n/);
    expect(accepted).toContain(`user-name:${user}\n`);
    const refused = await firstFrame({ cookie, origin: 'https://evil.example' });
    expect(refused).toMatch(/^ERROR\n/);
    expect(refused).toContain('message:authentication failed');
  });
});

describe('SockJS and slow readers', () => {
  it('disconnects a polling client that stops polling while messages pile up, as a slow WebSocket reader is', async () => {
    const { roomId, buyer, seller } = await room();
    const base = `${srv.url}/ws-stomp/000/${randomUUID().replace(/-/g, '')}`;
    const poll = async () => (await fetch(`${base}/xhr`, { method: 'POST' })).text();
    const send = async (frames: string[]) => {
      const res = await fetch(`${base}/xhr_send`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(frames) });
      expect(res.status).toBe(204);
    };
    expect(await poll()).toBe('o\n');
    await send([`CONNECT\naccept-version:1.2\nAuthorization:Bearer ${await tokenFor(seller)}\n\n\0`]);
    expect(await poll()).toMatch(/^a\["CONNECTED\\n/);
    await send([`SUBSCRIBE\nid:0\ndestination:/sub/chat/room/${roomId}\nreceipt:live\n\n\0`]);
    expect(await poll()).toContain('receipt-id:live');

    // the reader stops polling; its messages wait in the SockJS session until the bound is passed
    const writer = await sockJsUser('websocket', buyer);
    for (let i = 0; i < 24; i++) await writer.sendWithReceipt(`/pub/room/${roomId}/message`, { content: `${i} ${'x'.repeat(1500)}` });
    const backlog = await poll();
    const frames = JSON.parse(backlog.slice(1)) as string[];
    expect(frames.length).toBeLessThan(24);
    expect(frames.at(-1)).toMatch(/^ERROR\n/);
    expect(frames.at(-1)).toContain('slow consumer');
    expect(await poll()).toMatch(/^c\[/);
  });
});
