/**
 * Browser helpers for end-to-end tests: Debian's Chromium driven by playwright-core (never a
 * browser download), demo sign-in through the real sign-in page, and screenshots under
 * test-results/screenshots. A missing Chromium is a failure, not a skip.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { projectRoot } from '../../server/paths.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: install it with "apt-get update && apt-get install -y chromium"`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface SignedInPage {
  context: BrowserContext;
  page: Page;
  /** what the page logged as errors (console.error, uncaught exceptions) */
  errors: string[];
}

/** a fresh context (own cookies) signed in as `user` through the demo buttons or the name field */
export async function signedInPage(browser: Browser, baseUrl: string, user: string, viewport: { width: number; height: number } = DESKTOP): Promise<SignedInPage> {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, locale: 'en-GB', timezoneId: 'Asia/Seoul' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 500) errors.push(`response: ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  await page.goto('/signin');
  const demo = page.locator(`button[data-user="${user}"]`);
  if (await demo.count()) {
    await demo.click();
  } else {
    await page.getByLabel('Or another user name').fill(user);
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });
  await page.getByTestId('me').waitFor();
  return { context, page, errors };
}

export function screenshotPath(name: string): string {
  const dir = join(projectRoot(), 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = screenshotPath(name);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** the session cookie header of a context, for calling tRPC as that user from the test */
export async function cookieHeader(context: BrowserContext): Promise<string> {
  const cookies = await context.cookies();
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}
