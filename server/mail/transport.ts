/**
 * MailTransport: SMTP through nodemailer when SMTP_URL is set, otherwise each mail is written
 * as an .eml file under MAIL_DIR (a developer can open it in any mail client).
 * SMTP sends are bounded in time (connect, greeting, idle socket), so a caller that leases work
 * for a while — the inquiry mail worker — knows a send cannot outlive its lease.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logger.js';
import { projectRoot } from '../paths.js';
import type { DependencyStatus } from '../presence/presence.js';

export interface OutgoingMail {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** resolves once the mail is accepted (by the SMTP server, or written to disk); rejects otherwise */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  /** checks now that mail could be sent (SMTP: connect and greet); rejects with the reason */
  verify(): Promise<void>;
  status(): DependencyStatus;
  close(): Promise<void>;
}

export interface SmtpTimeouts {
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  /** longest silence on an open connection before the send fails */
  socketTimeoutMs: number;
}

/**
 * nodemailer's defaults (2 min to connect, 10 min of socket silence) would hold a send far longer
 * than anyone waits for a support mail; a send that fails fast is simply retried later.
 */
export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
};

export class SmtpMailTransport implements MailTransport {
  private readonly transporter: Transporter;
  private healthy: DependencyStatus = 'down';
  private readonly timer: NodeJS.Timeout;

  constructor(
    url: string,
    private readonly logger: Logger,
    timeouts: Partial<SmtpTimeouts> = {},
  ) {
    const t = { ...DEFAULT_SMTP_TIMEOUTS, ...timeouts };
    this.transporter = nodemailer.createTransport({
      url,
      connectionTimeout: t.connectionTimeoutMs,
      greetingTimeout: t.greetingTimeoutMs,
      socketTimeout: t.socketTimeoutMs,
    });
    const check = () => {
      const was = this.healthy;
      return this.verify().catch((err: Error) => {
        if (was === 'up') this.logger.warn({ err: err.message }, 'smtp server unreachable');
      });
    };
    void check();
    this.timer = setInterval(check, 15_000);
    this.timer.unref();
  }

  async send(mail: OutgoingMail) {
    try {
      const info = await this.transporter.sendMail(mail);
      this.healthy = 'up';
      return { messageId: String(info.messageId) };
    } catch (err) {
      this.healthy = 'down';
      throw err;
    }
  }

  async verify() {
    try {
      await this.transporter.verify();
      this.healthy = 'up';
    } catch (err) {
      this.healthy = 'down';
      throw err;
    }
  }

  status() {
    return this.healthy;
  }

  async close() {
    clearInterval(this.timer);
    this.transporter.close();
  }
}

export class FileMailTransport implements MailTransport {
  private readonly dir: string;
  private readonly renderer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(dir: string) {
    this.dir = isAbsolute(dir) ? dir : join(projectRoot(), dir);
  }

  async send(mail: OutgoingMail) {
    await mkdir(this.dir, { recursive: true });
    const info = (await this.renderer.sendMail(mail)) as unknown as { message: Buffer; messageId: string };
    const file = join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`);
    await writeFile(file, info.message);
    return { messageId: info.messageId };
  }

  /** the folder is created on demand; verifying proves it can be */
  async verify() {
    await mkdir(this.dir, { recursive: true });
  }

  status(): DependencyStatus {
    return 'embedded';
  }

  async close() {}
}
