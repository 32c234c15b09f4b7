/**
 * Photos, block, delete and leave as two people do them in the chat page: a buyer at 1280×800
 * and a seller on a 390×844 phone, both in Debian's Chromium against the production build served
 * by the real custom server; STOMP clients stand in where the other side is not a page.
 * Screenshots of each new state, at both sizes, go to test-results/screenshots.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { DESKTOP, launchChromium, PHONE, screenshot, signedInPage, type SignedInPage } from '../helpers/browser.js';
import { dropDatabase, freePort, startChildServer, testEnvVars, uniqueName, type ChildServer } from '../helpers/server.js';
import { connectStomp, type StompUser } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';
import { photo } from '../helpers/uploads.js';

const dbName = uniqueName('e2e_social');
let server: ChildServer | undefined;
let browser: Browser | undefined;
let baseUrl: string;
const closeLater: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  const vars = testEnvVars(dbName, { NODE_ENV: 'production', WEB: 'true', DEMO_SIGN_IN: 'true', PORT: String(port), SEND_RATE_PER_SECOND: '500', SEND_BURST: '500' });
  server = await startChildServer(vars, { entry: [join(projectRoot(), 'dist/server/index.js')], timeoutMs: 90_000 });
  baseUrl = server.url;
}, 120_000);

afterAll(async () => {
  for (const c of closeLater.reverse()) await c().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await dropDatabase(dbName).catch(() => undefined);
}, 60_000);

async function openRoom(buyer: string, seller: string, productId: string): Promise<string> {
  const api = trpcClient(baseUrl, { token: await tokenFor(buyer) });
  const opened = await api.mutate('rooms.open', { productId, sellerId: seller });
  expect(opened.status).toBe(200);
  return opened.data.id as string;
}

async function stompAs(user: string): Promise<StompUser> {
  const s = await connectStomp(server!.wsUrl, { Authorization: `Bearer ${await tokenFor(user)}` });
  closeLater.push(() => s.disconnect());
  return s;
}

async function pageAs(user: string, viewport?: { width: number; height: number }): Promise<SignedInPage> {
  const p = await signedInPage(browser!, baseUrl, user, viewport);
  closeLater.push(() => p.context.close());
  return p;
}

async function openChat(page: Page, roomId: string) {
  await page.goto(`/chat/${roomId}`);
  await page.getByTestId('composer').waitFor();
  await page.getByText('This is the start of your conversation.').or(page.getByText(/^Say hello to/)).first().waitFor();
}

async function sendText(page: Page, text: string) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
  await page.locator('[data-testid="message"] .bubble', { hasText: text }).waitFor();
}

/** the state as it is, at both sizes (the page goes back to its own size after) */
async function shoot(page: Page, name: string) {
  const own = page.viewportSize()!;
  for (const [label, size] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(size);
    await screenshot(page, `social-${name}-${label}`);
  }
  await page.setViewportSize(own);
}

const bubble = (page: Page, text: string) => page.locator('[data-testid="message"]', { hasText: text });

describe('photos, block, delete and leave in the chat page', () => {
  it('sends photos chosen or dropped in the page; the other side sees thumbnails, opens one full size and closes it with Esc or Back', async () => {
    const roomId = await openRoom('hana', 'ivan', 'p-road-bike');
    const hana = await pageAs('hana');
    const ivan = await pageAs('ivan', PHONE);
    await openChat(hana.page, roomId);
    await openChat(ivan.page, roomId);

    const jpeg = await photo(1600, 1200).jpeg({ quality: 80 }).toBuffer();
    await hana.page.getByTestId('photo-input').setInputFiles({ name: 'bike.jpg', mimeType: 'image/jpeg', buffer: jpeg });
    await hana.page.locator('[data-testid="staged-photo"][data-state="ready"]').waitFor({ timeout: 30_000 });
    await shoot(hana.page, 'photo-staged');
    await hana.page.getByTestId('composer').fill('The frame, as promised');
    await hana.page.getByRole('button', { name: 'Send' }).click();

    // on the phone: a thumbnail that really loaded, and the text beside it
    const thumb = ivan.page.locator('[data-testid="message"] [data-testid="photo-thumb"] img').first();
    await thumb.waitFor({ timeout: 20_000 });
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await bubble(ivan.page, 'The frame, as promised').waitFor();
    await shoot(ivan.page, 'photo-received');

    await ivan.page.getByRole('button', { name: /Open photo 1 of 1/ }).click();
    const full = ivan.page.getByTestId('photo-full');
    await full.waitFor();
    // the full image, not the thumbnail blown up
    const thumbWidth = await thumb.evaluate((img: HTMLImageElement) => img.naturalWidth);
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))).toBeGreaterThan(thumbWidth);
    await shoot(ivan.page, 'photo-viewer');
    await ivan.page.keyboard.press('Escape');
    await full.waitFor({ state: 'detached' });
    expect(ivan.page.url()).toContain(`/chat/${roomId}`);
    // the phone's back button closes the viewer and stays in the chat
    await ivan.page.getByRole('button', { name: /Open photo 1 of 1/ }).click();
    await full.waitFor();
    await ivan.page.goBack();
    await full.waitFor({ state: 'detached' });
    expect(ivan.page.url()).toContain(`/chat/${roomId}`);
    await ivan.page.getByTestId('composer').waitFor();

    // a photo dropped onto the composer, sent without text; the room list says "Photo" for it
    const png = await photo(400, 300).png().toBuffer();
    await hana.page.locator('form.composer').evaluate((form, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'detail.png', { type: 'image/png' }));
      form.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [...png]);
    await hana.page.locator('[data-testid="staged-photo"][data-state="ready"]').waitFor({ timeout: 30_000 });
    await hana.page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => ivan.page.locator('[data-testid="photo-thumb"]').count(), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => hana.page.locator('[data-testid="room-item"]', { hasText: 'Ivan' }).locator('.room-preview').innerText()).toBe('You: Photo');
    await shoot(hana.page, 'photo-sent');
    expect(hana.errors).toEqual([]);
    expect(ivan.errors).toEqual([]);
  }, 120_000);

  it('stops delivery both ways while the buyer blocks the seller, and restores it after unblocking', async () => {
    const roomId = await openRoom('jade', 'kofi', 'p-desk-lamp');
    const jade = await pageAs('jade', PHONE);
    const kofiStomp = await stompAs('kofi');
    const kofiErrors = kofiStomp.subscribe('/user/queue/errors');
    await kofiErrors.live();
    await kofiStomp.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'Hello from Kofi', clientMsgId: 'k-1' });
    await openChat(jade.page, roomId);
    await bubble(jade.page, 'Hello from Kofi').waitFor();

    await jade.page.getByTestId('room-menu-button').click();
    await jade.page.getByTestId('menu-block').click();
    await jade.page.getByTestId('confirm-dialog').getByRole('button', { name: 'Block' }).click();
    const note = jade.page.getByTestId('composer-blocked');
    await note.waitFor();
    expect(await note.innerText()).toContain('You blocked Kofi');
    await expect.poll(() => jade.page.getByTestId('composer').count()).toBe(0);
    await jade.page.getByTestId('header-blocked').waitFor();
    await shoot(jade.page, 'blocked-by-me');

    // the blocked side's SEND is refused and never reaches the page
    kofiStomp.send(`/pub/room/${roomId}/message`, { content: 'Are you there?', clientMsgId: 'k-2' });
    const [refusal] = await kofiErrors.waitForType('error', 1);
    expect(refusal!.body.code).toBe('BLOCKED');
    // and the blocking side cannot write either
    const jadeStomp = await stompAs('jade');
    const jadeErrors = jadeStomp.subscribe('/user/queue/errors');
    await jadeErrors.live();
    jadeStomp.send(`/pub/room/${roomId}/message`, { content: 'Leave me alone', clientMsgId: 'j-1' });
    expect((await jadeErrors.waitForType('error', 1))[0]!.body.code).toBe('BLOCKED');
    const history = await trpcClient(baseUrl, { token: await tokenFor('kofi') }).query('history.list', { roomId });
    expect((history.data.messages as Array<{ content: string }>).map((m) => m.content)).toEqual(['Hello from Kofi']);

    // the other side, opening the chat, is told it cannot write
    const kofi = await pageAs('kofi');
    await kofi.page.goto(`/chat/${roomId}`);
    await kofi.page.getByTestId('composer-blocked').waitFor();
    expect(await kofi.page.getByTestId('composer-blocked').innerText()).toContain('You can no longer send messages');
    await shoot(kofi.page, 'blocked-by-them');

    await jade.page.getByTestId('unblock-button').click();
    await jade.page.getByTestId('composer').waitFor();
    await kofiStomp.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'Back again', clientMsgId: 'k-3' });
    await bubble(jade.page, 'Back again').waitFor();
    await sendText(jade.page, 'Fine, the lamp is yours');
    expect(await bubble(jade.page, 'Are you there?').count()).toBe(0);
    expect(jade.errors).toEqual([]);
  }, 120_000);

  it('shows a deleted message as "Message deleted" on both sides', async () => {
    const roomId = await openRoom('lena', 'milo', 'p-road-bike');
    const lena = await pageAs('lena');
    const milo = await pageAs('milo', PHONE);
    await openChat(lena.page, roomId);
    await openChat(milo.page, roomId);
    await sendText(lena.page, 'My number is 010-1234-5678');
    await bubble(milo.page, 'My number is 010-1234-5678').waitFor();

    const mine = bubble(lena.page, 'My number is 010-1234-5678');
    await mine.getByTestId('delete-message').click();
    await lena.page.getByTestId('confirm-dialog').getByRole('button', { name: 'Delete' }).click();
    await lena.page.getByTestId('deleted-message').waitFor();
    await milo.page.getByTestId('deleted-message').waitFor();
    expect(await milo.page.getByText('010-1234-5678').evaluateAll((els) => els.map((e) => e.outerHTML))).toEqual([]);
    expect(await lena.page.getByText('010-1234-5678').evaluateAll((els) => els.map((e) => e.outerHTML))).toEqual([]);
    await shoot(lena.page, 'deleted-own');
    await shoot(milo.page, 'deleted-theirs');

    // and after a reload, from history
    await milo.page.reload();
    await milo.page.getByTestId('deleted-message').waitFor();
    expect(lena.errors).toEqual([]);
    expect(milo.errors).toEqual([]);
  }, 120_000);

  it('hides a left chat from the list until the other side writes again', async () => {
    const roomId = await openRoom('nora', 'omar', 'p-desk-lamp');
    const omar = await stompAs('omar');
    await omar.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'Still interested?', clientMsgId: 'o-1' });
    const nora = await pageAs('nora', PHONE);
    await openChat(nora.page, roomId);
    await nora.page.getByTestId('room-menu-button').click();
    await shoot(nora.page, 'room-menu');
    await nora.page.getByTestId('menu-leave').click();
    await nora.page.getByTestId('confirm-dialog').getByRole('button', { name: 'Leave' }).click();
    await nora.page.waitForURL((url) => url.pathname === '/chat');
    await nora.page.getByText('No chats yet.').waitFor();
    await shoot(nora.page, 'left');
    // the list from the server agrees
    const listed = await trpcClient(baseUrl, { token: await tokenFor('nora') }).query('rooms.list', {});
    expect((listed.data.rooms as Array<{ id: string }>).map((r) => r.id)).not.toContain(roomId);

    await omar.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'I can lower the price', clientMsgId: 'o-2' });
    const row = nora.page.locator('[data-testid="room-item"]', { hasText: 'I can lower the price' });
    await row.waitFor({ timeout: 20_000 });
    await shoot(nora.page, 'back-after-message');
    expect(nora.errors).toEqual([]);
  }, 120_000);

  it("shows when the other side was last seen on a freshly opened page (the server remembers it)", async () => {
    const roomId = await openRoom('rosa', 'sami', 'p-road-bike');
    const sami = await connectStomp(server!.wsUrl, { Authorization: `Bearer ${await tokenFor('sami')}` });
    await sami.disconnect();
    const rosa = await pageAs('rosa', PHONE);
    const status = rosa.page.getByTestId('counterpart-status');
    // the page never saw Sami online or leaving, and Sami wrote nothing: only the server can know
    await expect
      .poll(
        async () => {
          await openChat(rosa.page, roomId);
          await status.filter({ hasNotText: 'Status unknown' }).waitFor();
          return status.innerText();
        },
        { timeout: 20_000 },
      )
      .toMatch(/^Last seen (just now|\d+ min ago)$/);
    await shoot(rosa.page, 'last-seen');
    expect(rosa.errors).toEqual([]);
  }, 120_000);

  it('mutes a chat from the menu and shows it muted in the list; reports a message with a reason', async () => {
    const roomId = await openRoom('pia', 'quinn', 'p-road-bike');
    const quinn = await stompAs('quinn');
    await quinn.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'Pay outside the app, cheaper', clientMsgId: 'q-1' });
    const pia = await pageAs('pia');
    await openChat(pia.page, roomId);
    await pia.page.getByTestId('room-menu-button').click();
    await pia.page.getByTestId('menu-mute').click();
    await pia.page.locator('[data-room] [data-testid="room-muted"]').waitFor();
    // stored on the server: still muted after a reload
    await openChat(pia.page, roomId);
    await pia.page.locator('[data-room] [data-testid="room-muted"]').waitFor();

    await bubble(pia.page, 'Pay outside the app').getByTestId('report-message').click();
    const dialog = pia.page.getByTestId('report-dialog');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Choose what is wrong.').waitFor(); // no reason: nothing sent
    await dialog.getByLabel('Scam or fraud').check();
    await shoot(pia.page, 'report');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await pia.page.getByTestId('chat-notice').filter({ hasText: 'your report was sent' }).waitFor();
    await dialog.waitFor({ state: 'hidden' });
    // the moderators have it: the message, who reported whom, and why
    const admin = trpcClient(baseUrl, { token: await tokenFor('moderator', { role: 'admin' }) });
    const reports = (await admin.query('reports.list', { limit: 100 })).data.reports as Array<Record<string, unknown>>;
    expect(reports.filter((r) => r.roomId === roomId)).toEqual([expect.objectContaining({ reporterId: 'pia', reportedUserId: 'quinn', reason: 'fraud' })]);
    expect(reports.find((r) => r.roomId === roomId)?.messageId).toBeTruthy();
    await shoot(pia.page, 'muted-reported');
    expect(pia.errors).toEqual([]);
  }, 120_000);
});
