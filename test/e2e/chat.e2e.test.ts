/**
 * The web chat end to end: the production build served by the real custom server (a child
 * process), two signed-in browsers (buyer and seller) in Debian's Chromium, a server restart
 * in the middle of the conversation, and the support form. One story whose later steps build on
 * the earlier ones (same users, same room), hence one file a little over the usual length; the
 * phone / flaky-network behaviour lives in page-resilience.e2e.test.ts.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieHeader, DESKTOP, launchChromium, PHONE, screenshot, signedInPage, type SignedInPage } from '../helpers/browser.js';
import { dropDatabase, freePort, testEnvVars, uniqueName, startBuiltServer, type ChildServer } from '../helpers/server.js';
import { connectStomp } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';

const dbName = uniqueName('e2e');
let vars: Record<string, string>;
let server: ChildServer | undefined;
let browser: Browser | undefined;
let baseUrl: string;
let buyer: SignedInPage;
let seller: SignedInPage;
let roomId: string;

const startServer = () => startBuiltServer(vars);

/** message texts shown in a chat view, in order (stored ones only, not pending) */
const shownMessages = (page: Page) => page.locator('[data-testid="message"] .bubble').allInnerTexts();

async function send(page: Page, text: string) {
  const composer = page.getByTestId('composer');
  await composer.click();
  await composer.pressSequentially(text, { delay: 5 });
  await composer.press('Enter');
}

function messageBubble(page: Page, text: string) {
  return page.locator('[data-testid="message"] .bubble', { hasText: text });
}

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  vars = testEnvVars(dbName, { NODE_ENV: 'production', WEB: 'true', DEMO_SIGN_IN: 'true', PORT: String(port), SEND_RATE_PER_SECOND: '500', SEND_BURST: '500', USER_SEND_RATE_PER_SECOND: '500', USER_SEND_BURST: '500', USER_ROOMS_PER_HOUR: '500' });
  server = await startServer();
  baseUrl = server.url;
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await dropDatabase(dbName).catch(() => undefined);
}, 60_000);

describe('web chat between a buyer and a seller', () => {
  it('sends a signed-out visitor to the sign-in page and back to where they were going', async () => {
    const context = await browser!.newContext({ baseURL: baseUrl });
    const page = await context.newPage();
    await page.goto('/chat');
    await page.waitForURL(/\/signin\?callbackUrl=%2Fchat$/);
    await page.goto('/support');
    await page.waitForURL(/\/signin\?callbackUrl=%2Fsupport/);
    await page.locator('button[data-user="carol"]').waitFor();
    await screenshot(page, 'signin-desktop');
    await page.locator('button[data-user="carol"]').click();
    await page.waitForURL((u) => u.pathname === '/support');
    await expect(page.getByTestId('me').innerText()).resolves.toBe('Carol');
    await context.close();
  });

  it('opens a chat from a product and delivers messages both ways without a reload', async () => {
    seller = await signedInPage(browser!, baseUrl, 'bob');
    buyer = await signedInPage(browser!, baseUrl, 'alice');

    // the seller watches the room list before the buyer writes
    await seller.page.goto('/chat');
    await seller.page.getByText('No chats yet.').waitFor();

    await screenshot(buyer.page, 'catalogue-desktop');
    // a user's own listing cannot be chatted about
    await expect(buyer.page.locator('[data-product="p-desk-lamp"]').getByText('Your listing').count()).resolves.toBe(1);
    await buyer.page.locator('[data-product="p-road-bike"]').getByRole('button', { name: /Chat with seller/ }).click();
    await buyer.page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
    roomId = new URL(buyer.page.url()).pathname.split('/').pop()!;
    await buyer.page.getByRole('heading', { name: 'Bob' }).waitFor();

    await send(buyer.page, 'Hi Bob, is the road bike still available?');
    await messageBubble(buyer.page, 'is the road bike still available').waitFor();
    await expect.poll(() => buyer.page.getByTestId('pending-message').count(), { timeout: 10_000 }).toBe(0);

    // the new room appears in the seller's list, live, with an unread badge
    const sellerRoom = seller.page.locator(`[data-testid="room-item"][data-room="${roomId}"]`);
    await sellerRoom.waitFor({ timeout: 15_000 });
    await expect.poll(() => sellerRoom.getByTestId('unread-badge').innerText(), { timeout: 10_000 }).toMatch(/^1/);
    await expect(sellerRoom.innerText()).resolves.toContain('Road bike');
    await expect(seller.page.getByTestId('total-unread').innerText()).resolves.toMatch(/^1/);
    await screenshot(seller.page, 'room-list-desktop');

    // opening the room clears the badge and marks the message read on the buyer's side
    await sellerRoom.click();
    await seller.page.waitForURL(`**/chat/${roomId}`);
    await messageBubble(seller.page, 'is the road bike still available').waitFor();
    await expect.poll(() => sellerRoom.getByTestId('unread-badge').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => seller.page.getByTestId('total-unread').count(), { timeout: 10_000 }).toBe(0);
    const readMark = buyer.page.locator('[data-testid="message"]', { hasText: 'is the road bike still available' }).getByTestId('read-mark');
    await readMark.waitFor({ timeout: 10_000 });

    // typing shows on the other side, then the reply arrives
    await seller.page.getByTestId('composer').pressSequentially('Yes, it is', { delay: 20 });
    await expect.poll(() => buyer.page.getByTestId('typing').innerText(), { timeout: 5_000 }).toMatch(/Bob is typing/);
    await seller.page.getByTestId('composer').pressSequentially('! Want to see it tomorrow?', { delay: 5 });
    await seller.page.getByTestId('composer').press('Enter');
    await messageBubble(buyer.page, 'Want to see it tomorrow?').waitFor({ timeout: 10_000 });

    // Shift+Enter is a new line, Enter sends
    const composer = buyer.page.getByTestId('composer');
    await composer.pressSequentially('Great.');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('Around 6 pm?');
    await composer.press('Enter');
    await messageBubble(seller.page, 'Around 6 pm?').waitFor({ timeout: 10_000 });
    await expect(messageBubble(seller.page, 'Around 6 pm?').innerText()).resolves.toBe('Great.\nAround 6 pm?');
    await send(seller.page, '6 pm works. See you at Mapo station, exit 3.');
    await messageBubble(buyer.page, 'exit 3').waitFor({ timeout: 10_000 });
    await expect(buyer.page.getByTestId('counterpart-status').innerText()).resolves.toBe('Online');

    await screenshot(buyer.page, 'chat-desktop');
    expect(buyer.errors.filter((e) => !/WebSocket|ERR_CONNECTION/.test(e))).toEqual([]);
  }, 120_000);

  it('reconnects after a server restart and loses no message', async () => {
    const before = await shownMessages(buyer.page);
    expect(before).toHaveLength(4);

    await server!.stop('SIGTERM');
    await buyer.page.getByTestId('connection-banner').waitFor({ timeout: 15_000 });
    await seller.page.getByTestId('connection-banner').waitFor({ timeout: 15_000 });

    // written while the server is down: waits, then goes out after the reconnect
    await send(buyer.page, 'Sent while you were away');
    await buyer.page.getByTestId('pending-message').waitFor();

    server = await startServer(); // same port, same database
    await buyer.page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await seller.page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });

    await messageBubble(seller.page, 'Sent while you were away').waitFor({ timeout: 15_000 });
    await send(seller.page, 'Back online after the restart');
    await messageBubble(buyer.page, 'Back online after the restart').waitFor({ timeout: 15_000 });

    const expected = [...before, 'Sent while you were away', 'Back online after the restart'];
    await expect.poll(() => shownMessages(buyer.page), { timeout: 10_000 }).toEqual(expected);
    await expect.poll(() => shownMessages(seller.page), { timeout: 10_000 }).toEqual(expected);
    await expect(buyer.page.getByTestId('pending-message').count()).resolves.toBe(0);

    // and a reload shows the same conversation from history
    await seller.page.reload();
    await expect.poll(() => shownMessages(seller.page), { timeout: 15_000 }).toEqual(expected);
  }, 150_000);

  it('shows the room list and the conversation as separate screens on a phone', async () => {
    await seller.page.setViewportSize(PHONE);
    await seller.page.goto('/chat');
    await seller.page.locator(`[data-testid="room-item"][data-room="${roomId}"]`).waitFor();
    await expect(seller.page.getByTestId('chat-view').count()).resolves.toBe(0);
    await screenshot(seller.page, 'room-list-phone');

    await seller.page.locator(`[data-testid="room-item"][data-room="${roomId}"]`).click();
    await messageBubble(seller.page, 'Back online after the restart').waitFor();
    await expect(seller.page.getByTestId('room-list').isVisible()).resolves.toBe(false);
    await seller.page.waitForTimeout(300);
    await screenshot(seller.page, 'chat-phone');

    await seller.page.goto('/');
    await screenshot(seller.page, 'catalogue-phone');

    // nothing runs off the side of the smallest phones
    const noSideScroll = () => seller.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await seller.page.setViewportSize({ width: 360, height: 740 });
    for (const path of ['/', '/chat', `/chat/${roomId}`, '/support']) {
      await seller.page.goto(path);
      await seller.page.getByTestId('me').waitFor({ state: 'attached' });
      await seller.page.waitForLoadState('networkidle');
      expect(await noSideScroll(), `horizontal scrolling on ${path}`).toBe(true);
    }
    await screenshot(seller.page, 'support-360');
    await seller.page.setViewportSize(PHONE);
    await seller.page.goto(`/chat/${roomId}`);
    await seller.page.getByRole('link', { name: 'Back to chats' }).click();
    await seller.page.waitForURL((u) => u.pathname === '/chat');
    await seller.page.setViewportSize(DESKTOP);
  }, 60_000);

  it('loads earlier messages when scrolled to the top, keeping the reading position', async () => {
    // a long conversation written by another client (dave, over STOMP) about another product
    const token = await tokenFor('dave', { name: 'Dave' });
    const opened = await trpcClient(baseUrl, { token }).mutate('rooms.open', { productId: 'p-headphones', sellerId: 'bob' });
    expect(opened.status).toBe(200);
    const longRoom = opened.data.id as string;
    const dave = await connectStomp(server!.wsUrl, { Authorization: `Bearer ${token}` });
    try {
      for (let i = 1; i <= 75; i++) await dave.sendWithReceipt(`/pub/room/${longRoom}/message`, { content: `Message ${i}`, clientMsgId: `long-${i}` });
    } finally {
      await dave.disconnect();
    }
    // read already (an unread room opens at its first unread message instead: page-resilience.e2e)
    const bobApi = trpcClient(baseUrl, { token: await tokenFor('bob') });
    const newest = await bobApi.query<{ messages: Array<{ id: string }> }>('history.list', { roomId: longRoom, limit: 1 });
    expect((await bobApi.mutate('history.markRead', { roomId: longRoom, messageId: newest.data!.messages[0]!.id })).status).toBe(200);

    const page = seller.page;
    await page.goto(`/chat/${longRoom}`);
    await messageBubble(page, 'Message 75').waitFor();
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThanOrEqual(30);
    const firstLoaded = await page.getByTestId('message').count();
    expect(firstLoaded).toBeLessThan(75);
    // it opened at the newest message
    const atBottom = () => page.getByTestId('messages').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
    await expect.poll(atBottom).toBe(true);

    // scrolling up fetches the page before; what was on screen stays where it was
    const oldestShown = (await shownMessages(page))[0]!;
    const anchor = messageBubble(page, oldestShown).first();
    // scroll to the top and note where the oldest message is, before the next page comes in
    const topBefore = await page.evaluate((text) => {
      const list = document.querySelector<HTMLElement>('[data-testid="messages"]')!;
      list.scrollTop = 0;
      const bubble = [...list.querySelectorAll<HTMLElement>('[data-testid="message"] .bubble')].find((b) => b.innerText === text)!;
      return bubble.getBoundingClientRect().top;
    }, oldestShown);
    await expect.poll(() => page.getByTestId('message').count(), { timeout: 10_000 }).toBeGreaterThan(firstLoaded);
    const topAfter = await anchor.evaluate((el) => el.getBoundingClientRect().top);
    expect(Math.abs(topAfter - topBefore)).toBeLessThan(5);

    await page.getByTestId('messages').evaluate((el) => (el.scrollTop = 0));
    await expect.poll(() => page.getByTestId('message').count(), { timeout: 10_000 }).toBe(75);
    await page.getByText('This is the start of your conversation.').waitFor();
    const texts = await shownMessages(page);
    expect(texts).toEqual(Array.from({ length: 75 }, (_, i) => `Message ${i + 1}`));
  }, 60_000);

  it('shows older conversations on request, keeps them live, and hides the button when all are shown', async () => {
    // more rooms than one page of the room list (ROOM_LIST_INPUT in app/_lib/chat-context.tsx)
    const pageSize = 50;
    const total = pageSize + 5;
    const products = ['p-road-bike', 'p-film-camera', 'p-desk-lamp', 'p-armchair', 'p-headphones', 'p-houseplant'];
    const api = trpcClient(baseUrl, { token: await tokenFor('erin', { name: 'Erin' }) });
    for (let i = 1; i <= total; i++) {
      const opened = await api.mutate('rooms.open', { productId: products[i % products.length], sellerId: `seller-${String(i).padStart(2, '0')}` });
      expect(opened.status).toBe(200);
    }
    // the order the server pages in: the last one is the first room opened
    const all = await api.query<{ rooms: Array<{ id: string; counterpart: { id: string } }>; nextCursor: string | null }>('rooms.list', { limit: 100 });
    const ids = all.data!.rooms.map((r) => r.id);
    expect(ids).toHaveLength(total);
    const oldest = ids[total - 1]!;
    const oldestSeller = all.data!.rooms[total - 1]!.counterpart.id;

    const erin = await signedInPage(browser!, baseUrl, 'erin');
    const page = erin.page;
    await page.goto('/chat');
    const items = page.getByTestId('room-item');
    const shownIds = () => items.evaluateAll((els) => els.map((el) => el.getAttribute('data-room')));
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(pageSize);
    await expect(shownIds()).resolves.toEqual(ids.slice(0, pageSize));
    await expect(page.locator(`[data-testid="room-item"][data-room="${oldest}"]`).count()).resolves.toBe(0);

    // the next page is held back until the loading state has been seen
    const more = page.getByRole('button', { name: 'Show older conversations' });
    await more.scrollIntoViewIfNeeded();
    const boxBefore = await more.boundingBox();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/trpc\/rooms\.list/, async (route) => {
      if (decodeURIComponent(route.request().url()).includes('"cursor"')) await held;
      await route.continue();
    });
    // from the keyboard: Tab from the last room reaches the button, Enter presses it
    await items.last().focus();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Show older conversations');
    await page.keyboard.press('Enter');
    const loading = page.getByTestId('older-rooms');
    await expect.poll(() => loading.innerText()).toMatch(/Loading older conversations/);
    await expect(loading.getAttribute('aria-disabled')).resolves.toBe('true');
    expect(await loading.boundingBox()).toEqual(boxBefore);
    await screenshot(page, 'room-list-older-loading');
    release();

    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(total);
    await expect(shownIds()).resolves.toEqual(ids);
    const oldestItem = page.locator(`[data-testid="room-item"][data-room="${oldest}"]`);
    await oldestItem.waitFor();
    await expect(oldestItem.innerText().then((t) => t.toLowerCase())).resolves.toContain(oldestSeller);
    // nothing older: the button is gone, and the keyboard focus went to the first room it brought
    await expect.poll(() => page.getByTestId('older-rooms').count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-room'))).toBe(ids[pageSize]);
    await page.unroute(/\/api\/trpc\/rooms\.list/);

    // a room from the older page stays live: a new message moves it to the top with a badge
    const sellerStomp = await connectStomp(server!.wsUrl, { Authorization: `Bearer ${await tokenFor(oldestSeller)}` });
    try {
      await sellerStomp.sendWithReceipt(`/pub/room/${oldest}/message`, { content: 'Still looking for a <b>bike</b>?', clientMsgId: 'older-room-1' });
    } finally {
      await sellerStomp.disconnect();
    }
    await expect.poll(() => shownIds().then((s) => s[0]), { timeout: 15_000 }).toBe(oldest);
    await expect.poll(() => oldestItem.getByTestId('unread-badge').innerText(), { timeout: 10_000 }).toMatch(/^1/);
    await expect(oldestItem.locator('.room-preview').innerText()).resolves.toBe('Still looking for a <b>bike</b>?');
    await expect(items.count()).resolves.toBe(total);
    await screenshot(page, 'room-list-older-desktop');
    expect(erin.errors).toEqual([]);
    await erin.context.close();
  }, 90_000);

  it('checks the inquiry form, shows the server’s field errors, then stores the inquiry', async () => {
    const page = buyer.page;
    await page.goto('/support');
    const form = page.getByRole('form', { name: 'Inquiry' });

    // checked in the page before anything is sent
    await form.getByLabel('Email').fill('not-an-email');
    await form.getByLabel('Phone (optional)').fill('call me');
    await form.getByRole('button', { name: 'Send inquiry' }).click();
    await expect(page.getByTestId('error-email').innerText()).resolves.toMatch(/valid email/);
    await expect(page.getByTestId('error-phone').innerText()).resolves.toMatch(/digits/);
    await expect(page.getByTestId('error-message').innerText()).resolves.toMatch(/how we can help/);
    await expect(form.getByLabel('Email').getAttribute('aria-invalid')).resolves.toBe('true');

    // an address the page lets through but the server refuses: the server's message shows there
    await screenshot(page, 'support-errors-desktop');
    await form.getByLabel('Email').fill('alice@localhost');
    await form.getByLabel('Phone (optional)').fill('010-1234-5678');
    await form.getByLabel('Category').selectOption('payment');
    await form.getByLabel('Message').fill('I paid for the road bike twice. Please refund one payment.');
    await form.getByRole('button', { name: 'Send inquiry' }).click();
    await expect.poll(() => page.getByTestId('error-email').innerText(), { timeout: 10_000 }).toMatch(/email must be a valid address/i);
    await expect(page.getByTestId('error-message').innerText()).resolves.toBe('');

    await form.getByLabel('Email').fill('alice@example.com');
    await form.getByRole('button', { name: 'Send inquiry' }).click();
    const confirmation = page.getByTestId('inquiry-confirmation');
    await confirmation.waitFor({ timeout: 10_000 });
    await expect(confirmation.getByTestId('inquiry-status').innerText()).resolves.toMatch(/Pending|Sent to support|Delivery failed/);
    await page.getByTestId('inquiry-list').getByText('I paid for the road bike twice').waitFor();
    // the card and the list say the same thing about the same inquiry, as it moves on
    const listed = page.getByTestId('inquiry-list').locator('li', { hasText: 'I paid for the road bike twice' }).getByTestId('inquiry-status');
    await expect.poll(() => listed.innerText(), { timeout: 20_000 }).toBe('Sent to support');
    await expect(confirmation.getByTestId('inquiry-status').innerText()).resolves.toBe('Sent to support');

    // it is stored: the API returns it to its author
    const api = trpcClient(baseUrl, { cookie: await cookieHeader(buyer.context) });
    const mine = await api.query('inquiries.mine');
    expect(mine.status).toBe(200);
    expect(mine.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          email: 'alice@example.com',
          phone: '010-1234-5678',
          category: 'payment',
          message: 'I paid for the road bike twice. Please refund one payment.',
          status: expect.stringMatching(/^(pending|sent|failed)$/),
        }),
      ]),
    );
    await screenshot(page, 'support-desktop');
  }, 60_000);
});
