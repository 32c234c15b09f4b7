/**
 * The static files of public/ as the production build serves them through the custom server:
 * robots.txt, the web manifest and every icon it names (PNG sizes read from the files).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, freePort, testEnvVars, uniqueName, startBuiltServer, type ChildServer } from '../helpers/server.js';

const dbName = uniqueName('public');
let server: ChildServer | undefined;

beforeAll(async () => {
  const vars = testEnvVars(dbName, { NODE_ENV: 'production', WEB: 'true', PORT: String(await freePort()) });
  server = await startBuiltServer(vars);
}, 120_000);

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await dropDatabase(dbName).catch(() => undefined);
}, 60_000);

/** width and height from a PNG's IHDR chunk */
function pngSize(bytes: Buffer): string {
  expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'a PNG signature').toBe(true);
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

describe('public/ in the production build', () => {
  it('serves robots.txt as text that keeps crawlers out', async () => {
    const res = await fetch(`${server!.url}/robots.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^User-agent: \*$/m);
    expect(text).toMatch(/^Disallow: \/$/m);
  });

  it('serves a web manifest that installs "Re:Use Chat" standalone from /', async () => {
    const res = await fetch(`${server!.url}/manifest.webmanifest`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    const manifest = (await res.json()) as Record<string, any>;
    expect(manifest).toMatchObject({ name: 'Re:Use Chat', start_url: '/', display: 'standalone' });
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
    expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  });

  it('links the manifest and the icon from every page, so browsers can install it', async () => {
    const html = await (await fetch(`${server!.url}/`)).text();
    expect(html).toMatch(/<link rel="manifest" href="\/manifest\.webmanifest"/);
    expect(html).toMatch(/<link rel="icon" href="\/icon\.svg"/);
    expect(html).toMatch(/<meta name="theme-color" content="#1f8a5b"/);
  });

  it('serves every icon the manifest names, with its declared type and size', async () => {
    const manifest = (await (await fetch(`${server!.url}/manifest.webmanifest`)).json()) as { icons: Array<{ src: string; sizes: string; type: string }> };
    for (const icon of manifest.icons) {
      const res = await fetch(`${server!.url}${icon.src}`);
      expect(res.status, icon.src).toBe(200);
      expect(res.headers.get('content-type'), icon.src).toMatch(new RegExp(`^${icon.type.replace('+', '\\+')}`));
      const bytes = Buffer.from(await res.arrayBuffer());
      if (icon.type === 'image/png') expect(pngSize(bytes), icon.src).toBe(icon.sizes);
      else expect(bytes.toString('utf8'), icon.src).toMatch(/^<svg[^>]*viewBox="0 0 512 512"/);
    }
  });
});
