/**
 * Inquiry spam: the limit holds per client address (and per signed-in user), not per typed
 * email, and confirmations go only to addresses an identity provider vouched for — so the
 * form cannot be used to mail strangers. Mail is checked where it lands (.eml files; the
 * SMTP path is covered in inquiries-mail.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { databaseUrl, startTestServer, type TestServer } from '../helpers/server.js';
import { tokenFor } from '../helpers/tokens.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function server(env: Record<string, string> = {}): Promise<TestServer> {
  const srv = await startTestServer({ env });
  servers.push(srv);
  return srv;
}

const inquiry = (email: string) => ({ name: 'Mallory', email, message: 'Please call me back about my order.' });

async function create(srv: TestServer, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${srv.url}/api/trpc/inquiries.create`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const json = (await res.json()) as { error?: { data: { code: string } } };
  return { status: res.status, code: json.error?.data.code };
}

async function rows(srv: TestServer): Promise<Array<{ status: string }>> {
  const conn = await mysql.createConnection(databaseUrl(srv.dbName));
  try {
    const [r] = await conn.query<mysql.RowDataPacket[]>('SELECT status FROM inquiries');
    return r as Array<{ status: string }>;
  } finally {
    await conn.end();
  }
}

/** waits until every stored inquiry is mailed, stops the mail worker, and returns each mail's recipients */
async function recipientsOnceMailed(srv: TestServer): Promise<string[][]> {
  const deadline = Date.now() + 20_000;
  while (!(await rows(srv)).every((r) => r.status === 'sent')) {
    if (Date.now() > deadline) throw new Error('inquiries were not mailed');
    await new Promise((r) => setTimeout(r, 50));
  }
  // close() waits for the worker's pass, confirmations included: nothing more will be mailed
  await srv.service.inquiries.close();
  const dir = isAbsolute(srv.service.env.MAIL_DIR) ? srv.service.env.MAIL_DIR : join(projectRoot(), srv.service.env.MAIL_DIR);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
  return Promise.all(
    files.map(async (f) => {
      const to = /^To: (.*)$/m.exec(await readFile(join(dir, f), 'utf8'))?.[1] ?? '';
      return to.split(',').map((a) => a.trim());
    }),
  );
}

describe('anonymous inquiries', () => {
  it('refuses one client after the hourly limit whatever email it types, and mails none of those addresses', async () => {
    const srv = await server();
    const results = [];
    for (let n = 0; n < 100; n++) {
      // a forged X-Forwarded-For does not make a new client while TRUST_PROXY is off
      results.push(await create(srv, inquiry(`victim+${n}@example.test`), { 'x-forwarded-for': `10.0.${n}.1` }));
    }
    expect(results.slice(0, 10).every((r) => r.status === 200)).toBe(true);
    expect(results.slice(10).every((r) => r.status === 429 && r.code === 'TOO_MANY_REQUESTS')).toBe(true);
    expect(await rows(srv)).toHaveLength(10);
    const refusals = (await srv.service.metrics.limitRefusals.get()).values.find((v) => v.labels.limit === 'inquiry_address');
    expect(refusals?.value).toBe(90);

    const mailed = await recipientsOnceMailed(srv);
    expect(mailed).toHaveLength(10);
    expect(mailed.every((to) => to.length === 1 && to[0] === srv.service.env.SUPPORT_EMAIL)).toBe(true);
  });

  it('behind a trusted proxy, counts each forwarded client on its own', async () => {
    const srv = await server({ TRUST_PROXY: 'true', INQUIRY_RATE_PER_HOUR: '3' });
    // the proxy appends the real client last; what the client wrote before it is not trusted
    const from = (client: string, forged = '198.51.100.99') => ({ 'x-forwarded-for': `${forged}, ${client}` });
    for (let n = 0; n < 3; n++) expect((await create(srv, inquiry(`a${n}@example.test`), from('203.0.113.1', `10.9.9.${n}`))).status).toBe(200);
    expect((await create(srv, inquiry('a4@example.test'), from('203.0.113.1'))).code).toBe('TOO_MANY_REQUESTS');
    expect((await create(srv, inquiry('b@example.test'), from('203.0.113.2'))).status).toBe(200);
  });
});

describe('signed-in inquiries', () => {
  it('counts a user across client addresses, and confirms only to the address in their token', async () => {
    const srv = await server({ TRUST_PROXY: 'true', INQUIRY_RATE_PER_HOUR: '3' });
    const token = await tokenFor(`buyer-${randomUUID().slice(0, 8)}`, { email: 'real.buyer@example.test' });
    const as = (n: number) => ({ authorization: `Bearer ${token}`, 'x-forwarded-for': `203.0.113.${n}` });

    for (let n = 0; n < 3; n++) expect((await create(srv, inquiry(`victim+${n}@example.test`), as(n))).status).toBe(200);
    expect(await create(srv, inquiry('victim+9@example.test'), as(9))).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS' });

    const mailed = (await recipientsOnceMailed(srv)).flat();
    expect(mailed.filter((to) => to === srv.service.env.SUPPORT_EMAIL)).toHaveLength(3);
    expect(mailed.filter((to) => to !== srv.service.env.SUPPORT_EMAIL)).toEqual(Array(3).fill('real.buyer@example.test'));
  });
});
