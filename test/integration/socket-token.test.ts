/**
 * auth.socketToken is issued to a signed-in web session only: never in exchange for a bearer
 * token (a leaked token could renew itself forever), never outliving the session, and with the
 * session's role.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { encode } from 'next-auth/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH_SECRET } from '../helpers/services.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';

let srv: TestServer;
beforeAll(async () => {
  // a socket token lifetime longer than the sessions below, so the session is what bounds it
  srv = await startTestServer({ env: { SOCKET_TOKEN_TTL_SECONDS: '3600' } });
});
afterAll(async () => {
  await srv?.stop();
});

const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

async function sessionCookie(sub: string, opts: { maxAge: number; role?: 'admin' }): Promise<string> {
  const token = await encode({ token: { sub, name: sub, ...(opts.role ? { role: opts.role } : {}) }, secret: TEST_AUTH_SECRET, maxAge: opts.maxAge });
  return `next-auth.session-token=${token}`;
}

describe('auth.socketToken', () => {
  it('refuses a bearer caller with FORBIDDEN and says why', async () => {
    const leaked = await tokenFor(uid('user'), { ttlSeconds: 20 });
    const res = await trpcClient(srv.url, { token: leaked }).mutate('auth.socketToken');
    expect(res.status).toBe(403);
    expect(res.error?.data.code).toBe('FORBIDDEN');
    expect(res.error?.message).toMatch(/signed-in web session only/);
  });

  it('does not renew an admin bearer token either', async () => {
    const admin = await tokenFor(uid('admin'), { role: 'admin' });
    const res = await trpcClient(srv.url, { token: admin }).mutate('auth.socketToken');
    expect(res.error?.data.code).toBe('FORBIDDEN');
  });

  it('gives a web session a token that expires no later than the session, and that opens a socket', async () => {
    const me = uid('web');
    const sessionEnds = Math.floor(Date.now() / 1000) + 120;
    const res = await trpcClient(srv.url, { cookie: await sessionCookie(me, { maxAge: 120 }) }).mutate('auth.socketToken');
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.data.token);
    expect(claims.sub).toBe(me);
    // the session cookie was made a moment before `sessionEnds` was taken
    expect(claims.exp).toBeLessThanOrEqual(sessionEnds);
    expect(claims.exp).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect(Date.parse(res.data.expiresAt) / 1000).toBeLessThanOrEqual(sessionEnds);
    expect(claims.role).toBeUndefined();

    const socket = await connectStomp(srv.wsUrl, { Authorization: `Bearer ${res.data.token}` });
    expect(socket.client.connected).toBe(true);
    await socket.disconnect();
  });

  it('carries the session role, so an admin session gets an admin token and a user session does not', async () => {
    const res = await trpcClient(srv.url, { cookie: await sessionCookie(uid('staff'), { maxAge: 600, role: 'admin' }) }).mutate('auth.socketToken');
    expect(decodeJwt(res.data.token).role).toBe('admin');
  });

  it('cannot be renewed with the socket token it issued', async () => {
    const first = await trpcClient(srv.url, { cookie: await sessionCookie(uid('web'), { maxAge: 600 }) }).mutate('auth.socketToken');
    const again = await trpcClient(srv.url, { token: first.data.token }).mutate('auth.socketToken');
    expect(again.error?.data.code).toBe('FORBIDDEN');
  });
});
