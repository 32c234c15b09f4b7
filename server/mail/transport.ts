/**
 * MailTransport: SMTP through nodemailer when SMTP_URL is set, otherwise each mail is written
 * as an .eml file under MAIL_DIR (a developer can open it in any mail client).
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
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  status(): DependencyStatus;
  close(): Promise<void>;
}

export class SmtpMailTransport implements MailTransport {
  private readonly transporter: Transporter;
  private healthy: DependencyStatus = 'down';
  private readonly timer: NodeJS.Timeout;

  constructor(url: string, private readonly logger: Logger) {
    this.transporter = nodemailer.createTransport(url, {});
    const check = () =>
      this.transporter.verify().then(
        () => void (this.healthy = 'up'),
        (err: Error) => {
          if (this.healthy === 'up') this.logger.warn({ err: err.message }, 'smtp server unreachable');
          this.healthy = 'down';
        },
      );
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

  status(): DependencyStatus {
    return 'embedded';
  }

  async close() {}
}
