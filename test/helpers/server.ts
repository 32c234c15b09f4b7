/**
 * Starts the real service for a test: in-process (fast, for most suites) or as a child process
 * (for restarts, SIGKILL and multi-instance tests). Each call gets its own database (dropped
 * by `stop()`) unless it is told to share one, and its own Redis key prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import { inject } from 'vitest';
import { startService, type Service } from '../../server/app.js';
import { loadEnv } from '../../server/env.js';
import { chatMounts } from '../../server/mounts.js';
import { projectRoot } from '../../server/paths.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { waitForHealth } from '../../scripts/lib/wait-for-health.js';
import { MYSQL_URL, REDIS_URL, TEST_AUTH_SECRET } from './services.js';

export function uniqueName(label: string): string {
  return `reuse_chat_test_${inject('runId')}_${label}_${randomBytes(3).toString('hex')}`;
}

export function databaseUrl(name: string): string {
  return `${MYSQL_URL.replace(/\/$/, '')}/${name}`;
}

export async function dropDatabase(name: string): Promise<void> {
  const conn = await mysql.createConnection(MYSQL_URL);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

export function testEnvVars(dbName: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const vars: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    WEB: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl(dbName),
    DATABASE_POOL_SIZE: '8',
    REDIS_URL,
    REDIS_KEY_PREFIX: `test:${inject('runId')}:${randomBytes(3).toString('hex')}:`,
    AUTH_SECRET: TEST_AUTH_SECRET,
    MAIL_DIR: join(projectRoot(), 'var', 'test-mail', inject('runId'), dbName),
    UPLOAD_DIR: join(projectRoot(), 'var', 'test-uploads', inject('runId'), dbName),
    ...extra,
  };
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined));
}

export interface TestServer {
  service: Service;
  url: string;
  wsUrl: string;
  dbName: string;
  stop(opts?: { keepDatabase?: boolean }): Promise<void>;
}

export async function startTestServer(opts: { dbName?: string; env?: Record<string, string | undefined> } = {}): Promise<TestServer> {
  const dbName = opts.dbName ?? uniqueName('srv');
  const env = loadEnv(testEnvVars(dbName, opts.env));
  const logger = pino({ level: env.LOG_LEVEL });
  const service = await startService({ env, logger, mounts: chatMounts() });
  return {
    service,
    url: service.url,
    wsUrl: `ws://127.0.0.1:${service.port}/ws-stomp`,
    dbName,
    async stop(stopOpts) {
      await service.close();
      if (!opts.dbName && !stopOpts?.keepDatabase) await dropDatabase(dbName);
    },
  };
}

export { freePort };

export interface ChildServer {
  url: string;
  wsUrl: string;
  port: number;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit; resolves to the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** runs `server/index.ts` (through tsx) as its own process and waits for /healthz */
export async function startChildServer(vars: Record<string, string>, opts: { entry?: string[]; timeoutMs?: number } = {}): Promise<ChildServer> {
  const port = vars.PORT && vars.PORT !== '0' ? Number(vars.PORT) : await freePort();
  // `node --import tsx` keeps the server in this one process (the tsx CLI would fork a child,
  // and a SIGKILL of the CLI would leave the real server running)
  const args = opts.entry ?? ['--import', 'tsx', join(projectRoot(), 'server/index.ts')];
  const proc = spawn(process.execPath, args, {
    cwd: projectRoot(),
    env: { ...process.env, ...vars, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, proc, { timeoutMs: opts.timeoutMs ?? 30_000, label: 'server', output: () => out });
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws-stomp`,
    port,
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

/**
 * The compiled server with the Next.js production build, as `npm start` runs it (`npm run build`
 * first; `npm test` does that when the build is stale).
 */
export function startBuiltServer(vars: Record<string, string>): Promise<ChildServer> {
  return startChildServer(vars, { entry: [join(projectRoot(), 'dist/server/index.js')], timeoutMs: 90_000 });
}
