/**
 * The chat page where real marketplace users live: a phone, a long conversation, a flaky
 * network. The production build served by the real custom server (a child process), users in
 * Debian's Chromium at 1280×800 and 390×844; other users write over STOMP. Screenshots of each
 * state go to test-results/screenshots.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, launchChromium, PHONE, screenshot, signedInPage, type SignedInPage } from '../helpers/browser.js';
import { dropDatabase, freePort, testEnvVars, uniqueName, startBuiltServer, type ChildServer } from '../helpers/server.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';

const dbName = uniqueName('e2e_page');
let server: ChildServer | undefined;
let browser: Browser | undefined;
let baseUrl: string;
const closeLater: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  const vars = testEnvVars(dbName, { NODE_ENV: 'production', WEB: 'true', DEMO_SIGN_IN: 'true', PORT: String(port), SEND_RATE_PER_SECOND: '500', SEND_BURST: '500', USER_SEND_RATE_PER_SECOND: '500', USER_SEND_BURST: '500' });
  server = await startBuiltServer(vars);
  baseUrl = server.url;
}, 120_000);

afterAll(async () => {
  for (const c of closeLater.reverse()) await c().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await dropDatabase(dbName).catch(() => undefined);
}, 60_000);

/** `seller` (over STOMP) in a room that `buyer` opened about `productId` */
async function roomWith(buyer: string, seller: string, productId: string): Promise<{ roomId: string; sellerStomp: StompUser; buyerApi: ReturnType<typeof trpcClient> }> {
  const buyerApi = trpcClient(baseUrl, { token: await tokenFor(buyer) });
  const opened = await buyerApi.mutate('rooms.open', { productId, sellerId: seller });
  expect(opened.status).toBe(200);
  const sellerStomp = await connectStomp(server!.wsUrl, { Authorization: `Bearer ${await tokenFor(seller)}` });
  closeLater.push(() => sellerStomp.disconnect());
  return { roomId: opened.data.id as string, sellerStomp, buyerApi };
}

let written = 0;
async function write(stomp: StompUser, roomId: string, texts: string[]) {
  for (const content of texts) await stomp.sendWithReceipt(`/pub/room/${roomId}/message`, { content, clientMsgId: `e2e-${++written}` });
}

const bubbles = (page: Page) => page.locator('[data-testid="message"] .bubble').allInnerTexts();
const documentScroll = (page: Page) =>
  page.evaluate(() => ({ top: document.scrollingElement!.scrollTop, height: document.scrollingElement!.scrollHeight, viewport: window.innerHeight }));

async function inViewport(page: Page, testId: string): Promise<boolean> {
  const box = await page.getByTestId(testId).boundingBox();
  const vp = page.viewportSize()!;
  return !!box && box.y >= 0 && box.y + box.height <= vp.height + 1;
}

/** a finger swipe (phone) or the mouse wheel (desktop) over the middle of `selector` */
async function swipeOver(page: Page, cdp: CDPSession | null, selector: string, dy: number) {
  const box = await page.locator(selector).first().boundingBox();
  expect(box, selector).not.toBeNull();
  const x = box!.x + box!.width / 2;
  const y = box!.y + box!.height / 2;
  if (cdp) {
    // a finger moving against the scroll direction, in small steps, as on a phone
    const steps = 12;
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
    for (let i = 1; i <= steps; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: y - (dy * i) / steps / 3 }] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } else {
    await page.mouse.move(x, y);
    await page.mouse.wheel(0, dy);
  }
}

describe('the chat page on a phone and on a flaky network', () => {
  let longRoom: string;
  let erin: SignedInPage;

  it('keeps header, composer and room list in place in a 200-message room: only the message list scrolls', async () => {
    const { roomId, sellerStomp } = await roomWith('erin', 'bob', 'p-road-bike');
    longRoom = roomId;
    await write(sellerStomp, roomId, Array.from({ length: 200 }, (_, i) => `Line ${i + 1} about the bike`));
    erin = await signedInPage(browser!, baseUrl, 'erin');

    for (const [label, viewport, touch] of [
      ['desktop', DESKTOP, false],
      ['phone', PHONE, true],
    ] as const) {
      const context = await browser!.newContext({ viewport, baseURL: baseUrl, locale: 'en-GB', hasTouch: touch, isMobile: touch, storageState: await erin.context.storageState() });
      const page = await context.newPage();
      const cdp = touch ? await context.newCDPSession(page) : null;
      await page.goto(`/chat/${roomId}`);
      await page.locator('[data-testid="message"] .bubble', { hasText: 'Line 200 about the bike' }).waitFor();
      // the document is exactly one screen: nothing (not even the hidden per-message labels) makes it taller
      const start = await documentScroll(page);
      expect(start.height, `${label}: document height`).toBeLessThanOrEqual(start.viewport);

      const targets = ['[data-testid="chat-header"]', '[data-testid="composer"]', ...(touch ? [] : ['[data-testid="room-list"]'])];
      for (const target of targets) {
        for (const dy of [600, -600, 1200]) {
          await swipeOver(page, cdp, target, dy);
          const now = await documentScroll(page);
          expect(now.top, `${label}: document scrolled after a swipe over ${target}`).toBe(0);
        }
      }
      // the message list itself still scrolls, under the finger or the wheel
      const listTop = () => page.getByTestId('messages').evaluate((el) => el.scrollTop);
      const before = await listTop();
      await swipeOver(page, cdp, '[data-testid="messages"]', before < 100 ? 1200 : -1200);
      await expect.poll(listTop).not.toBe(before);
      expect((await documentScroll(page)).top).toBe(0);
      expect(await inViewport(page, 'composer'), `${label}: composer in view`).toBe(true);
      expect(await inViewport(page, 'chat-header'), `${label}: header in view`).toBe(true);
      // the product stays visible on phones too, with title and price, and links to the listing
      const product = page.getByTestId('chat-product');
      await expect(product.innerText()).resolves.toMatch(/Road bike[\s\S]*₩420,000/);
      await expect(product.getAttribute('href')).resolves.toBe('/?product=p-road-bike#product-p-road-bike');
      expect(await product.isVisible()).toBe(true);
      await screenshot(page, `long-room-${label}`);
      await context.close();
    }
  }, 180_000);

  it('shows a banner and unknown presence when the network drops, then reconnects within 5 s and sends what was written, in order', async () => {
    const page = erin.page;
    await page.goto(`/chat/${longRoom}`);
    await page.locator('[data-testid="message"] .bubble', { hasText: 'Line 200 about the bike' }).waitFor();
    await expect.poll(() => page.getByTestId('counterpart-status').getAttribute('data-state')).toBe('online');

    await erin.context.setOffline(true);
    // within the heart-beat window (the browser's offline event makes it immediate)
    const banner = page.getByTestId('connection-banner');
    await banner.waitFor({ timeout: 20_000 });
    await expect(banner.innerText()).resolves.toMatch(/offline/i);
    await expect.poll(() => page.getByTestId('counterpart-status').getAttribute('data-state')).toBe('unknown');
    await expect(page.getByTestId('counterpart-status').innerText()).resolves.not.toBe('Online');

    const composer = page.getByTestId('composer');
    for (const text of ['Offline one', 'Offline two', 'Offline three']) {
      await composer.fill(text);
      await composer.press('Enter');
    }
    await expect.poll(() => page.getByTestId('pending-message').count()).toBe(3);
    await expect(page.locator('[data-testid="pending-message"][data-status="sending"]').count()).resolves.toBe(3);
    await screenshot(page, 'offline-desktop');

    await erin.context.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 5_000 });
    await expect.poll(() => page.getByTestId('pending-message').count(), { timeout: 15_000 }).toBe(0);
    const shown = await bubbles(page);
    expect(shown.slice(-3)).toEqual(['Offline one', 'Offline two', 'Offline three']);
    // the server's order is the order on screen
    const history = await trpcClient(baseUrl, { token: await tokenFor('erin') }).query<{ messages: Array<{ content: string }> }>('history.list', { roomId: longRoom, limit: 3 });
    expect(history.data!.messages.map((m) => m.content).reverse()).toEqual(['Offline one', 'Offline two', 'Offline three']);
    await expect.poll(() => page.getByTestId('counterpart-status').getAttribute('data-state')).toBe('online');
    await screenshot(page, 'back-online-desktop');
  }, 90_000);

  it('never shows a message the server rejected as sent, until the user retries it', async () => {
    const { roomId, sellerStomp } = await roomWith('frank', 'carol', 'p-film-camera');
    const frank = await signedInPage(browser!, baseUrl, 'frank', PHONE);
    const page = frank.page;
    // the next SEND of this text goes to a room frank is not in: the real server refuses it
    let tamper = true;
    await page.routeWebSocket(/\/ws-stomp$/, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((frame) => {
        const text = typeof frame === 'string' ? frame : frame.toString();
        upstream.send(tamper && text.includes('Refused offer') ? text.replace(`/pub/room/${roomId}/`, '/pub/room/00000000-0000-4000-8000-000000000000/') : text);
      });
    });
    await page.goto(`/chat/${roomId}`);
    await page.getByTestId('composer').waitFor();
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seenStatuses: string[] }).seenStatuses = []);
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid="pending-message"]')) seen.push(el.getAttribute('data-status') ?? '');
        if ([...document.querySelectorAll('[data-testid="message"] .bubble')].some((b) => b.textContent === 'Refused offer')) seen.push('stored');
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByTestId('composer').fill('Refused offer');
    await page.getByTestId('composer').press('Enter');
    const failed = page.locator('[data-testid="pending-message"][data-status="failed"]');
    await failed.waitFor({ timeout: 15_000 });
    await screenshot(page, 'rejected-phone');

    // life goes on: a reply arrives, a reconnect resyncs; the refused one stays refused
    await write(sellerStomp, roomId, ['Still there?']);
    await page.locator('[data-testid="message"] .bubble', { hasText: 'Still there?' }).waitFor();
    await frank.context.setOffline(true);
    await page.getByTestId('connection-banner').waitFor();
    await frank.context.setOffline(false);
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 10_000 });
    await expect(failed.count()).resolves.toBe(1);
    const seen = await page.evaluate(() => (window as unknown as { seenStatuses: string[] }).seenStatuses);
    expect(seen).not.toContain('sent');
    expect(seen).not.toContain('stored');

    tamper = false;
    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-testid="message"] .bubble', { hasText: 'Refused offer' }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId('pending-message').count()).resolves.toBe(0);
    await frank.context.close();
  }, 90_000);

  it('opens a room with 60 unread messages at the "Unread messages" divider', async () => {
    for (const [label, viewport, reader] of [
      ['desktop', DESKTOP, 'gina'],
      ['phone', PHONE, 'hana'],
    ] as const) {
      // 20 messages read, then 60 unread (opening the room reads them: one reader per size)
      const { roomId, sellerStomp, buyerApi } = await roomWith(reader, 'dave', 'p-armchair');
      await write(sellerStomp, roomId, Array.from({ length: 20 }, (_, i) => `Earlier ${i + 1}`));
      const page1 = await buyerApi.query<{ messages: Array<{ id: string }> }>('history.list', { roomId, limit: 1 });
      expect((await buyerApi.mutate('history.markRead', { roomId, messageId: page1.data!.messages[0]!.id })).status).toBe(200);
      await write(sellerStomp, roomId, Array.from({ length: 60 }, (_, i) => `Unread ${i + 1}`));
      const gina = await signedInPage(browser!, baseUrl, reader, viewport);
      const page = gina.page;
      if (label === 'desktop') {
        await page.goto('/chat');
        await expect.poll(() => page.locator(`[data-room="${roomId}"] [data-testid="unread-badge"]`).innerText()).toMatch(/^60/);
      }
      await page.goto(`/chat/${roomId}`);
      const divider = page.getByTestId('unread-divider');
      await divider.waitFor();
      // the divider sits at the top of the list, the first unread message right under it
      const offset = () =>
        page.evaluate(() => {
          const list = document.querySelector('[data-testid="messages"]')!.getBoundingClientRect();
          return document.querySelector('[data-testid="unread-divider"]')!.getBoundingClientRect().top - list.top;
        });
      await expect.poll(offset).toBeLessThan(60);
      expect(await offset()).toBeGreaterThanOrEqual(-1);
      const next = await divider.evaluate((el) => el.nextElementSibling?.querySelector('.bubble')?.textContent);
      expect(next).toBe('Unread 1');
      await screenshot(page, `unread-divider-${label}`);
      await gina.context.close();
    }
  }, 120_000);

  it('makes links clickable and safe, and keeps a half-typed message per room', async () => {
    const { roomId, sellerStomp } = await roomWith('erin', 'carol', 'p-houseplant');
    await write(sellerStomp, roomId, ['Photos: https://reuse.example/p/monstera?x=1. Not this: javascript:alert(1) <b>bold</b>']);
    const page = erin.page;
    await page.goto(`/chat/${roomId}`);
    const bubble = page.locator('[data-testid="message"] .bubble', { hasText: 'Photos:' });
    await bubble.waitFor();
    const links = await bubble.locator('a').evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), text: a.textContent })));
    expect(links).toEqual([{ href: 'https://reuse.example/p/monstera?x=1', rel: expect.stringContaining('noopener noreferrer'), text: 'https://reuse.example/p/monstera?x=1' }]);
    await expect(bubble.innerText()).resolves.toContain('javascript:alert(1) <b>bold</b>');
    await expect(bubble.locator('b').count()).resolves.toBe(0);

    await page.getByTestId('composer').fill('Would you take 30,000');
    await page.locator(`[data-testid="room-item"][data-room="${longRoom}"]`).click();
    await page.waitForURL(`**/chat/${longRoom}`);
    await expect(page.getByTestId('composer').inputValue()).resolves.toBe('');
    await page.locator(`[data-testid="room-item"][data-room="${roomId}"]`).click();
    await page.waitForURL(`**/chat/${roomId}`);
    await expect(page.getByTestId('composer').inputValue()).resolves.toBe('Would you take 30,000');
    await screenshot(page, 'links-and-draft-desktop');
  }, 60_000);

  it('notifies and counts in the tab title a message that arrives while the tab is hidden, and shows when the other side was last seen', async () => {
    // a seller with no other connection in this file, so that leaving makes them offline
    const { roomId, sellerStomp } = await roomWith('ivan', 'kim', 'p-headphones');
    const ivan = await signedInPage(browser!, baseUrl, 'ivan');
    const page = ivan.page;
    // before the permission is granted the page offers to ask for it
    await page.goto('/chat');
    await page.getByTestId('enable-notifications').waitFor();
    await ivan.context.grantPermissions(['notifications'], { origin: baseUrl });
    // the tab's visibility is driven by the test; notifications shown are recorded on their way out
    await page.addInitScript(() => {
      const w = window as unknown as { hidden: boolean; shown: Array<{ title: string; body: string }> };
      w.hidden = false;
      w.shown = [];
      Object.defineProperty(document, 'visibilityState', { get: () => (w.hidden ? 'hidden' : 'visible') });
      const Real = window.Notification;
      window.Notification = class extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          w.shown.push({ title, body: options?.body ?? '' });
        }
      } as typeof Notification;
    });
    await page.goto(`/chat/${roomId}`);
    await page.getByTestId('composer').waitFor();
    await expect.poll(() => page.getByTestId('counterpart-status').getAttribute('data-state')).toBe('online');
    await page.evaluate(() => {
      (window as unknown as { hidden: boolean }).hidden = true;
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await write(sellerStomp, roomId, ['Are you still interested?']);
    await expect.poll(() => page.evaluate(() => (window as unknown as { shown: unknown[] }).shown)).toEqual([{ title: 'Kim', body: 'Are you still interested?' }]);
    await expect.poll(() => page.title()).toBe('(1) Re:Use Chat');
    // back in the tab: it is read, the badge goes
    await page.evaluate(() => {
      (window as unknown as { hidden: boolean }).hidden = false;
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect.poll(() => page.title()).toBe('Re:Use Chat');

    await sellerStomp.disconnect();
    await expect.poll(() => page.getByTestId('counterpart-status').innerText(), { timeout: 15_000 }).toMatch(/^Last seen (just now|\d+ min ago)$/);
    await screenshot(page, 'last-seen-desktop');
    await ivan.context.close();
  }, 60_000);

  it('signs in a user with a Korean name', async () => {
    const minsu = await signedInPage(browser!, baseUrl, '민수', PHONE);
    await expect(minsu.page.getByTestId('me').innerText()).resolves.toBe('민수');
    await minsu.page.goto('/chat');
    await minsu.page.getByText('No chats yet.').waitFor();
    await screenshot(minsu.page, 'korean-name-phone');
    expect(minsu.errors).toEqual([]);
    await minsu.context.close();
  }, 60_000);

  it('answers an unknown address with a 404 page that links home', async () => {
    const context = await browser!.newContext({ viewport: PHONE, baseURL: baseUrl });
    const page = await context.newPage();
    const res = await page.goto('/no-such-page');
    expect(res?.status()).toBe(404);
    await page.getByRole('heading', { name: 'This page does not exist' }).waitFor();
    await screenshot(page, 'not-found-phone');
    await page.getByRole('link', { name: 'Go to the catalogue' }).click();
    await page.waitForURL((u) => u.pathname === '/' || u.pathname === '/signin');
    await context.close();
  }, 30_000);
});
