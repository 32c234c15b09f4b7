/**
 * The body bound covers the Next.js routes too (next-auth under /api/auth reads bodies): the
 * production build served by the real custom server answers 413 to an oversized body before
 * Next reads it, and serves normal requests as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLargeBody } from '../helpers/http-raw.js';
import { dropDatabase, testEnvVars, uniqueName, startBuiltServer, type ChildServer } from '../helpers/server.js';

const MB = 1024 * 1024;
const dbName = uniqueName('web_bodies');
let server: ChildServer | undefined;

beforeAll(async () => {
  const vars = testEnvVars(dbName, { NODE_ENV: 'production', WEB: 'true', DEMO_SIGN_IN: 'true' });
  server = await startBuiltServer(vars);
}, 120_000);

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await dropDatabase(dbName).catch(() => undefined);
}, 60_000);

describe('request bodies on the web routes', () => {
  it('answers 413 to an oversized body on next-auth routes, declared or streamed', async () => {
    const signIn = '/api/auth/callback/credentials';
    expect((await postLargeBody(server!.url, signIn, 64 * MB, { declare: true })).status).toBe(413);
    const streamed = await postLargeBody(server!.url, signIn, 64 * MB);
    expect(streamed.status).toBe(413);
    expect(streamed.sent).toBeLessThan(32 * MB);
  });

  it('still serves next-auth and the pages normally', async () => {
    const csrf = await fetch(`${server!.url}/api/auth/csrf`);
    expect(csrf.status).toBe(200);
    expect(((await csrf.json()) as { csrfToken?: string }).csrfToken).toMatch(/\w{16,}/);
    expect((await fetch(`${server!.url}/signin`)).status).toBe(200);
  });
});
