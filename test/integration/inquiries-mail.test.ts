/**
 * Inquiries against the real MariaDB and a real SMTP receiver (smtp-server on port 0, plain
 * text, no auth) reached through the real SmtpMailTransport: stored first, mailed to support,
 * confirmed to a signed-in customer at their proven address (never to a typed one), retried
 * across outages, never lost and never sent twice.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChatError } from '../../server/shared/errors.js';
import { openDatabase, type Database } from '../../server/db/client.js';
import { InquiryService, type InquiryServiceOptions, type InquiryView } from '../../server/inquiries/service.js';
import { FileMailTransport, SmtpMailTransport, type MailTransport } from '../../server/mail/transport.js';
import { databaseUrl, dropDatabase, uniqueName } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const SUPPORT = 'support@reuse.test';
const FROM = 'Re:Use Chat <no-reply@reuse.test>';
/** the caller's address as the tRPC edge passes it */
const CLIENT = '192.0.2.10';
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

// ---------------------------------------------------------------- a real SMTP receiver

interface Delivery {
  /** which receiver took it */
  via: string;
  from: string;
  to: string[];
  raw: string;
}

interface Receiver {
  port: number;
  stop(): Promise<void>;
}

/** an SMTP server that keeps every accepted message in `deliveries` (shared across restarts) */
async function startReceiver(deliveries: Delivery[], port = 0, label = 'rx'): Promise<Receiver> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1_000,
    // 127.0.0.1 has no PTR record worth waiting for
    disableReverseLookup: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        deliveries.push({
          via: label,
          from: from ? from.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  return {
    port: (server.server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------- reading what arrived

interface ParsedMail {
  headers: Map<string, string>;
  text: string;
  html: string;
}

function splitHead(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const soft = body.replace(/=\r?\n/g, '');
      const bytes: number[] = [];
      for (let i = 0; i < soft.length; i++) {
        const hex = soft.slice(i + 1, i + 3);
        if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else bytes.push(...Buffer.from(soft[i] ?? '', 'utf8'));
      }
      return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
    }
    default:
      return body.replace(/\r\n/g, '\n');
  }
}

/** RFC 2047 encoded words, as nodemailer writes non-ASCII subjects */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeBody(data.replace(/_/g, ' '), 'quoted-printable'),
    );
}

/** enough MIME for what nodemailer writes: one part, or multipart/alternative text + html */
function parseMail(raw: string): ParsedMail {
  const { headers, body } = splitHead(raw);
  const type = headers.get('content-type') ?? 'text/plain';
  const out: ParsedMail = { headers, text: '', html: '' };
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  const parts = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1)
        .filter((p) => !p.startsWith('--'))
        .map((p) => splitHead(p.replace(/^\r?\n/, '')))
    : [{ headers, body }];
  for (const part of parts) {
    const partType = part.headers.get('content-type') ?? 'text/plain';
    const decoded = decodeBody(part.body, part.headers.get('content-transfer-encoding'));
    if (partType.startsWith('text/html')) out.html = decoded;
    else if (partType.startsWith('text/plain')) out.text = decoded;
  }
  return out;
}

function subjectOf(d: Delivery): string {
  return decodeWords(parseMail(d.raw).headers.get('subject') ?? '');
}

function supportDeliveries(deliveries: Delivery[], inquiryId?: string): Delivery[] {
  return deliveries.filter(
    (d) => d.to.includes(SUPPORT) && (inquiryId === undefined || subjectOf(d).includes(`[Inquiry #${inquiryId}]`)),
  );
}

// ---------------------------------------------------------------- the suite

const sample = {
  name: 'Jiwoo Park',
  email: 'jiwoo@example.test',
  phone: '+82 (10) 1234-5678',
  category: 'order',
  message: 'The jacket (Größe M) never arrived — 주문번호 42.\nCan you check?',
};
/** a signed-in author whose identity provider vouches for the sample's address */
const author = (id: string, email = sample.email) => ({ id, name: sample.name, email });

describe('inquiries are stored, then mailed to support', () => {
  let database: Database;
  let dbName: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dbName = uniqueName('inquiries');
    database = await openDatabase({ url: databaseUrl(dbName), poolSize: 10, logger });
  });
  afterAll(async () => {
    await database?.close();
    if (dbName) await dropDatabase(dbName);
  });
  beforeEach(async () => {
    await database.pool.query('DELETE FROM inquiries');
  });
  afterEach(async () => {
    // services first, then transports and receivers
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function service(mail: MailTransport, opts: Partial<InquiryServiceOptions> = {}): InquiryService {
    const s = new InquiryService({
      pool: database.pool,
      mail,
      logger,
      supportEmail: SUPPORT,
      mailFrom: FROM,
      maxAttempts: 20,
      retryBaseMs: 50,
      ratePerHour: 100,
      pollMs: 25,
      ...opts,
    });
    cleanups.push(() => s.close());
    return s;
  }

  function smtp(port: number): SmtpMailTransport {
    const t = new SmtpMailTransport(`smtp://127.0.0.1:${port}`, logger, { connectionTimeoutMs: 2_000, greetingTimeoutMs: 2_000 });
    cleanups.push(() => t.close());
    return t;
  }

  async function receiver(deliveries: Delivery[], port = 0, label?: string): Promise<Receiver> {
    const r = await startReceiver(deliveries, port, label);
    cleanups.push(() => r.stop());
    return r;
  }

  async function tempMailDir(label: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `reuse-inquiry-${label}-`));
    cleanups.unshift(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function stored(id: string): Promise<RowDataPacket | undefined> {
    const [rows] = await database.pool.query<RowDataPacket[]>('SELECT * FROM inquiries WHERE id = ?', [id]);
    return rows[0];
  }

  async function count(): Promise<number> {
    const [rows] = await database.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM inquiries');
    return Number(rows[0]?.n);
  }

  it('stores the inquiry as pending, mails support every field, confirms to the signed-in customer, and marks it sent', async () => {
    const deliveries: Delivery[] = [];
    const rx = await receiver(deliveries);
    const inquiries = service(smtp(rx.port));
    inquiries.start();

    const view = await inquiries.create(sample, author('buyer-1'), CLIENT);
    expect(view).toMatchObject({ ...sample, status: 'pending', attempts: 0, lastError: null, sentAt: null });
    expect(view.id).toMatch(/^\d+$/);
    expect(new Date(view.createdAt).toISOString()).toBe(view.createdAt);

    const row = await waitFor(async () => {
      const r = await stored(view.id);
      return r?.status === 'sent' ? r : undefined;
    }, 'the inquiry to be sent');
    expect(row.attempts).toBe(1);
    expect(row.sent_at).toBeInstanceOf(Date);

    await waitFor(async () => deliveries.length >= 2, 'the confirmation');
    const toSupport = supportDeliveries(deliveries, view.id);
    expect(toSupport).toHaveLength(1);
    const support = parseMail(toSupport[0]!.raw);
    expect(support.headers.get('reply-to')).toContain(sample.email);
    for (const body of [support.text, support.html]) {
      expect(body).toContain(`#${view.id}`);
      expect(body).toContain(sample.name);
      expect(body).toContain(sample.email);
      expect(body).toContain(sample.phone);
      expect(body).toContain(sample.category);
      expect(body).toContain('Größe M');
      expect(body).toContain('주문번호 42');
      expect(body).toContain(view.createdAt);
      expect(body).toContain('buyer-1');
    }
    expect(support.text).toContain(sample.message);

    const toCustomer = deliveries.filter((d) => d.to.includes(sample.email));
    expect(toCustomer).toHaveLength(1);
    expect(subjectOf(toCustomer[0]!)).toContain(`#${view.id}`);
    const confirmation = parseMail(toCustomer[0]!.raw);
    expect(confirmation.text).toContain(sample.message);
    expect(confirmation.headers.get('reply-to')).toContain(SUPPORT);

    const mine = await inquiries.mine('buyer-1');
    expect(mine).toEqual([expect.objectContaining({ id: view.id, status: 'sent', attempts: 1, sentAt: expect.any(String) })]);
  });

  it('escapes user text in the HTML part and keeps CR/LF out of the subject', async () => {
    const deliveries: Delivery[] = [];
    const rx = await receiver(deliveries);
    const inquiries = service(smtp(rx.port));
    inquiries.start();

    // the service trusts its input; this proves the mail is safe even if the edge let it through
    const view = await inquiries.create(
      {
        name: '<b>Eve</b>\r\nBcc: victim@example.test',
        email: 'eve@example.test',
        category: '"report" & <img src=x onerror=alert(1)>',
        message: '<script>alert("hi")</script> & \'quoted\'',
      },
      null,
      CLIENT,
    );
    await waitFor(async () => (await stored(view.id))?.status === 'sent' && deliveries.length >= 1, 'the support mail');

    const [support] = supportDeliveries(deliveries, view.id);
    const mail = parseMail(support!.raw);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;');
    expect(mail.html).toContain('&lt;b&gt;Eve&lt;/b&gt;');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.html).not.toMatch(/<script|<b>|<img/);
    // the plain text part shows what the customer typed
    expect(mail.text).toContain('<script>alert("hi")</script>');

    expect(subjectOf(support!)).toBe(`[Inquiry #${view.id}] "report" & <img src=x onerror=alert(1)>: <b>Eve</b> Bcc: victim@example.test`);
    expect(mail.headers.has('bcc')).toBe(false);
    expect(deliveries.flatMap((d) => d.to)).not.toContain('victim@example.test');
  });

  it('keeps the inquiry pending while the receiver is down, then sends it exactly once when it is back', async () => {
    const deliveries: Delivery[] = [];
    // find a port, then leave it closed
    const probe = await startReceiver([]);
    const port = probe.port;
    await probe.stop();

    const inquiries = service(smtp(port));
    inquiries.start();
    const view = await inquiries.create(sample, author('buyer-3'), CLIENT);

    // attempts counts claims: a third claim means the first two attempts have failed
    const failing = await waitFor(async () => {
      const r = await stored(view.id);
      return r && r.attempts >= 3 ? r : undefined;
    }, 'two failed attempts');
    expect(failing.status).toBe('pending');
    expect(failing.last_error).toMatch(/ECONNREFUSED/);
    expect(failing.sent_at).toBeNull();
    expect(deliveries).toHaveLength(0);

    await receiver(deliveries, port);
    const sent = await waitFor(async () => {
      const r = await stored(view.id);
      return r?.status === 'sent' ? r : undefined;
    }, 'the inquiry to be sent after the receiver came back');
    expect(sent.attempts).toBeGreaterThanOrEqual(3);

    // one more inquiry through the same worker: a repeated send of the first would come before its mail
    const later = await inquiries.create({ ...sample, email: 'later@example.test' }, null, '192.0.2.200');
    await waitFor(() => supportDeliveries(deliveries, later.id).length > 0, 'the later inquiry mailed');
    expect(supportDeliveries(deliveries, view.id)).toHaveLength(1);
    expect(deliveries.filter((d) => d.to.includes(sample.email))).toHaveLength(1);
    expect(await count()).toBe(2);
  });

  it('marks the inquiry failed after maxAttempts and keeps it stored', async () => {
    const probe = await startReceiver([]);
    const port = probe.port;
    await probe.stop();

    const inquiries = service(smtp(port), { maxAttempts: 3, retryBaseMs: 20 });
    inquiries.start();
    const view = await inquiries.create(sample, { id: 'buyer-2' }, CLIENT);

    const failed = await waitFor(async () => {
      const r = await stored(view.id);
      return r?.status === 'failed' ? r : undefined;
    }, 'the inquiry to fail');
    expect(failed.attempts).toBe(3);
    expect(failed.last_error).toMatch(/ECONNREFUSED/);

    // no further attempts once failed: a later inquiry runs through all of its attempts meanwhile
    const later = await inquiries.create({ ...sample, email: 'later@example.test' }, { id: 'buyer-3' }, '192.0.2.201');
    await waitFor(async () => (await stored(later.id))?.status === 'failed', 'the later inquiry to fail too');
    expect((await stored(view.id))?.attempts).toBe(3);

    const { inquiries: listed } = await inquiries.list({ limit: 10, status: 'failed' });
    expect(listed.map((i) => i.id)).toEqual([later.id, view.id]);
    expect(listed.filter((i) => i.id === view.id)).toEqual([
      expect.objectContaining({ id: view.id, status: 'failed', attempts: 3, lastError: expect.stringMatching(/ECONNREFUSED/), message: sample.message }),
    ]);
    // customers see their inquiry failed, but not the SMTP server's answer
    expect(await inquiries.mine('buyer-2')).toEqual([expect.objectContaining({ id: view.id, status: 'failed', lastError: null })]);
  });

  it('writes .eml files without SMTP and still moves the inquiry to sent', async () => {
    const dir = await tempMailDir('eml');
    const inquiries = service(new FileMailTransport(dir));
    inquiries.start();
    const view = await inquiries.create(sample, author('buyer-4'), CLIENT);

    await waitFor(async () => (await stored(view.id))?.status === 'sent', 'the inquiry to be sent');
    const files = await waitFor(async () => {
      const names = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
      return names.length >= 2 ? names : undefined;
    }, 'two .eml files');
    const mails = await Promise.all(files.map(async (f) => parseMail(await readFile(join(dir, f), 'utf8'))));
    const support = mails.filter((m) => m.headers.get('to')?.includes(SUPPORT));
    expect(support).toHaveLength(1);
    expect(support[0]!.text).toContain(`#${view.id}`);
    expect(support[0]!.text).toContain(sample.message);
    expect(mails.filter((m) => m.headers.get('to')?.includes(sample.email))).toHaveLength(1);
  });

  it('never lets two workers send the same inquiry twice', async () => {
    const deliveries: Delivery[] = [];
    // one receiver per worker, so we can tell that both took part
    const first = service(smtp((await receiver(deliveries, 0, 'first')).port));
    const second = service(smtp((await receiver(deliveries, 0, 'second')).port));

    const views: InquiryView[] = [];
    for (let i = 0; i < 20; i++) {
      const email = `buyer${i}@example.test`;
      views.push(await first.create({ ...sample, email, message: `inquiry number ${i}` }, author(`buyer-${i}`, email), `192.0.2.${i}`));
    }
    first.start();
    second.start();

    await waitFor(async () => {
      const [rows] = await database.pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM inquiries WHERE status = 'sent'");
      return Number(rows[0]?.n) === 20;
    }, 'all 20 inquiries to be sent');
    await waitFor(async () => deliveries.length >= 40, 'all confirmations');
    // one more through the first worker: a repeated send of any of the 20 would come before it
    const laterEmail = 'later@example.test';
    const later = await first.create({ ...sample, email: laterEmail, message: 'the last one' }, author('buyer-later', laterEmail), '192.0.2.202');
    await waitFor(() => supportDeliveries(deliveries, later.id).length > 0 && deliveries.length >= 42, 'the last inquiry mailed');

    const support = supportDeliveries(deliveries).filter((d) => !subjectOf(d).includes(`[Inquiry #${later.id}]`));
    expect(support).toHaveLength(20);
    expect(support.filter((d) => d.via === 'first').length).toBeGreaterThan(0);
    expect(support.filter((d) => d.via === 'second').length).toBeGreaterThan(0);
    const mailed = new Set(support.map((d) => /\[Inquiry #(\d+)\]/.exec(subjectOf(d))?.[1]));
    expect([...mailed].sort()).toEqual(views.map((v) => v.id).sort());
    expect(deliveries.filter((d) => !d.to.includes(SUPPORT))).toHaveLength(21);
    const [rows] = await database.pool.query<RowDataPacket[]>('SELECT attempts FROM inquiries');
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });

  it('refuses the (ratePerHour+1)-th inquiry of one author with TOO_MANY_REQUESTS and stores nothing for it', async () => {
    const inquiries = service(new FileMailTransport(await tempMailDir('rate')), { ratePerHour: 3 });

    for (let i = 0; i < 3; i++) await inquiries.create(sample, { id: 'busy-buyer' }, `192.0.2.${i}`);
    // a new address does not help a signed-in author
    const refused = inquiries.create(sample, { id: 'busy-buyer' }, '192.0.2.99');
    await expect(refused).rejects.toBeInstanceOf(ChatError);
    await expect(refused).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(await count()).toBe(3);

    // anonymous authors are counted by address, whatever email they type
    for (let i = 0; i < 3; i++) await inquiries.create({ ...sample, email: `anon+${i}@example.test` }, null, '198.51.100.7');
    await expect(inquiries.create({ ...sample, email: 'someone-else@example.test' }, null, '198.51.100.7')).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
    });
    // someone else is not held back
    await inquiries.create(sample, { id: 'other-buyer' }, '198.51.100.8');
    expect(await count()).toBe(7);
  });

  it('mails no confirmation to an address the caller only typed, signed in or not', async () => {
    const deliveries: Delivery[] = [];
    const rx = await receiver(deliveries);
    const inquiries = service(smtp(rx.port));
    inquiries.start();

    const anonymous = await inquiries.create({ ...sample, email: 'victim@example.test' }, null, CLIENT);
    // signed in, but the identity provider vouches for another address
    const signedIn = await inquiries.create({ ...sample, email: 'victim+2@example.test' }, author('buyer-5', 'buyer5@example.test'), CLIENT);
    // signed in without any address on record
    const unknown = await inquiries.create({ ...sample, email: 'victim+3@example.test' }, { id: 'buyer-6' }, CLIENT);

    await waitFor(async () => {
      const rows = await Promise.all([anonymous, signedIn, unknown].map((v) => stored(v.id)));
      return rows.every((r) => r?.status === 'sent');
    }, 'all three inquiries to be sent');
    await waitFor(async () => deliveries.some((d) => d.to.includes('buyer5@example.test')), 'the proven confirmation');
    // support got all three; no third party got anything
    expect(supportDeliveries(deliveries)).toHaveLength(3);
    expect(deliveries.flatMap((d) => d.to).filter((to) => to.startsWith('victim'))).toEqual([]);
    expect(deliveries.filter((d) => !d.to.includes(SUPPORT)).map((d) => d.to)).toEqual([['buyer5@example.test']]);
  });

  it('lists inquiries newest first, page by page, and each customer sees only their own', async () => {
    const inquiries = service(new FileMailTransport(await tempMailDir('list')));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await inquiries.create({ ...sample, message: `m${i}` }, { id: i % 2 ? 'odd' : 'even' }, CLIENT)).id);

    const page1 = await inquiries.list({ limit: 2 });
    expect(page1.inquiries.map((v) => v.id)).toEqual([ids[4], ids[3]]);
    const page2 = await inquiries.list({ limit: 2, cursor: page1.nextCursor! });
    expect(page2.inquiries.map((v) => v.id)).toEqual([ids[2], ids[1]]);
    const page3 = await inquiries.list({ limit: 2, cursor: page2.nextCursor! });
    expect(page3).toEqual({ inquiries: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    await expect(inquiries.list({ limit: 2, cursor: 'abc' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    expect((await inquiries.mine('odd')).map((v) => v.id)).toEqual([ids[3], ids[1]]);
    expect((await inquiries.mine('nobody'))).toEqual([]);
  });
});
