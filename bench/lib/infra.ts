/**
 * Bench infrastructure: service instances and generators as child processes, bench databases,
 * JWTs, /proc CPU and RSS readings, and a forced GC through the inspector protocol.
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import mysql from 'mysql2/promise';
import WebSocket from 'ws';
import { freePort } from '../../scripts/lib/free-port.js';
import { waitForHealth } from '../../scripts/lib/wait-for-health.js';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const MYSQL_URL = 'mysql://root@127.0.0.1:3306';
export const AUTH_SECRET = 'bench-secret-0123456789-abcdefghijklmnopq';
export const RUN_TAG = `${Date.now().toString(36)}`;
export const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
export const FD_LIMIT = 20000;

const key = new TextEncoder().encode(AUTH_SECRET);
export function token(sub: string, ttlSeconds = 7200): Promise<string> {
  return new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


// ------------------------------------------------------------------ the service build
function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** the compiled server when it is fresh (rebuilt if stale), else tsx */
export function serverEntry(log: (s: string) => void): { args: string[]; compiled: boolean } {
  const dist = join(ROOT, 'dist/server/index.js');
  const fresh = () => existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(ROOT, 'server'), '.ts');
  if (!fresh()) {
    log('dist/server is stale: npm run build:server');
    try {
      execSync('npm run build:server', { cwd: ROOT, stdio: 'ignore' });
    } catch {
      log('build failed: running the TypeScript sources through tsx');
    }
  }
  if (fresh()) return { args: [dist], compiled: true };
  return { args: ['--import', 'tsx', join(ROOT, 'server/index.ts')], compiled: false };
}

export interface ServerProc {
  name: string;
  url: string;
  wsUrl: string;
  port: number;
  pid: number;
  proc: ChildProcess;
  inspectPort?: number;
  output(): string;
  stop(): Promise<void>;
}

export async function startServer(opts: {
  name: string;
  instance: string;
  db: string;
  redisPrefix: string;
  kafka?: { prefix: string };
  entry: string[];
  nodeFlags?: string[];
  inspect?: boolean;
  extraEnv?: Record<string, string>;
  /** also copy the process's stdout to this file (e.g. --trace-gc lines, which outgrow output()) */
  stdoutFile?: string;
}): Promise<ServerProc> {
  const port = await freePort();
  const inspectPort = opts.inspect ? await freePort() : undefined;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'production',
    WEB: 'false',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `${MYSQL_URL}/${opts.db}`,
    REDIS_KEY_PREFIX: opts.redisPrefix,
    AUTH_SECRET,
    SEND_RATE_PER_SECOND: '1000',
    SEND_BURST: '2000',
    // the per-user limits run (their cost is measured) but do not refuse the generated load
    USER_SEND_RATE_PER_SECOND: '1000',
    USER_SEND_BURST: '2000',
    USER_MAX_CONNECTIONS: '1000',
    INSTANCE_ID: opts.instance,
    MAIL_DIR: join(ROOT, 'var', 'bench-mail'),
    ...(opts.kafka ? { KAFKA_BROKERS: '127.0.0.1:9092', KAFKA_TOPIC_PREFIX: opts.kafka.prefix } : {}),
    ...(opts.extraEnv ?? {}),
  };
  delete env.KAFKA_BROKERS_UNSET;
  if (!opts.kafka) delete env.KAFKA_BROKERS;
  const flags = [...(opts.nodeFlags ?? []), ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [])];
  const cmd = [process.execPath, ...flags, ...opts.entry].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  // the bash wrapper raises the open-file limit (to this container's hard limit)
  const proc = spawn('bash', ['-c', `ulimit -n ${FD_LIMIT}; exec ${cmd}`], { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-20000)));
  if (opts.stdoutFile) proc.stdout!.pipe(createWriteStream(opts.stdoutFile));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-20000)));
  let stopping = false;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('exit', (code, signal) => {
    if (!stopping) console.error(`!! server ${opts.name} exited unexpectedly (code ${code}, signal ${signal}); last output:\n${out.slice(-3000)}`);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, proc, { timeoutMs: 90_000, label: `server ${opts.name}`, output: () => out });
  return {
    name: opts.name,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws-stomp`,
    port,
    pid: proc.pid!,
    proc,
    ...(inspectPort ? { inspectPort } : {}),
    output: () => out,
    async stop() {
      stopping = true;
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ------------------------------------------------------------------ generator processes
export interface Gen {
  pid: number;
  proc: ChildProcess;
  call<T>(cmd: string, spec?: unknown, onEvent?: (e: { type: string; [k: string]: unknown }) => void): Promise<T>;
  stop(): Promise<void>;
}
export async function startGen(name: string): Promise<Gen> {
  const cmd = `exec '${process.execPath}' --import tsx '${join(ROOT, 'bench/gen.ts')}'`;
  const proc = spawn('bash', ['-c', `ulimit -n ${FD_LIMIT}; ${cmd}`], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (c) => reject(new Error(`generator ${name} exited ${c}`)));
  });
  let listener: ((m: { type: string; [k: string]: unknown }) => void) | undefined;
  proc.on('message', (m) => listener?.(m as { type: string }));
  return {
    pid: proc.pid!,
    proc,
    call<T>(cmd: string, spec?: unknown, onEvent?: (e: { type: string; [k: string]: unknown }) => void) {
      return new Promise<T>((resolve, reject) => {
        listener = (m) => {
          if (m.type === 'done') resolve(m.result as T);
          else if (m.type === 'error') reject(new Error(`generator ${name}: ${m.error as string}`));
          else if (m.type === 'log') console.log(`    [${name}] ${m.msg as string}`);
          else onEvent?.(m);
        };
        proc.send({ cmd, spec });
      });
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.send({ cmd: 'exit' });
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
}

// ------------------------------------------------------------------ databases
export async function dropDatabase(name: string) {
  const conn = await mysql.createConnection(MYSQL_URL);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

export async function dbConn(db?: string) {
  return mysql.createConnection({ uri: db ? `${MYSQL_URL}/${db}` : MYSQL_URL, multipleStatements: true });
}

export interface BenchRoom {
  id: string;
  buyer: string;
  seller: string;
}
/** rooms + room_members + users rows, bulk-inserted (uuid-shaped ids the service accepts) */
export async function insertRooms(db: string, n: number, tag: string): Promise<BenchRoom[]> {
  const rooms: BenchRoom[] = [];
  for (let i = 0; i < n; i++) {
    const hex = (i + 1).toString(16).padStart(12, '0');
    rooms.push({ id: `b0000000-0000-4000-8000-${hex}`, buyer: `${tag}-buyer-${i}`, seller: `${tag}-seller-${i}` });
  }
  const conn = await dbConn(db);
  try {
    for (let i = 0; i < rooms.length; i += 2000) {
      const chunk = rooms.slice(i, i + 2000);
      await conn.query('INSERT INTO rooms (id, product_id, buyer_id, seller_id) VALUES ?', [chunk.map((r, k) => [r.id, `product-${i + k}`, r.buyer, r.seller])]);
      await conn.query('INSERT INTO room_members (room_id, user_id, role) VALUES ?', [chunk.flatMap((r) => [[r.id, r.buyer, 'buyer'], [r.id, r.seller, 'seller']])]);
      await conn.query('INSERT IGNORE INTO users (id, name) VALUES ?', [chunk.flatMap((r) => [[r.buyer, r.buyer], [r.seller, r.seller]])]);
    }
  } finally {
    await conn.end();
  }
  return rooms;
}

export async function dbVariables(): Promise<Record<string, string>> {
  const conn = await dbConn();
  try {
    const [rows] = await conn.query(
      `SHOW VARIABLES WHERE Variable_name IN ('version','innodb_flush_log_at_trx_commit','sync_binlog','log_bin','innodb_doublewrite','innodb_flush_method','innodb_buffer_pool_size','innodb_log_file_size','innodb_autoinc_lock_mode','transaction_isolation','tx_isolation','innodb_use_native_aio')`,
    );
    return Object.fromEntries((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, r.Value]));
  } finally {
    await conn.end();
  }
}

// ------------------------------------------------------------------ Redis / Kafka cleanup
export async function dropRedisPrefix(prefix: string) {
  const { Redis } = await import('ioredis');
  const r = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } catch {
    /* redis down: nothing to clean */
  } finally {
    r.disconnect();
  }
}

export async function dropKafkaTopics(prefix: string) {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: ['127.0.0.1:9092'], clientId: 'bench-cleanup', logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
  } catch {
    /* best effort */
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// ------------------------------------------------------------------ /proc
export function procCpuSec(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}
export function procRssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
function pgrep(name: string): number[] {
  try {
    return execSync(`pgrep -x ${name}`).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/** the shared infrastructure processes on this machine */
export function infraPids(): Record<string, number[]> {
  const kafka: number[] = [];
  try {
    const pid = Number(readFileSync('/tmp/reuse-chat-kafka/kafka.pid', 'utf8').trim());
    if (pid) kafka.push(pid);
  } catch {
    for (const p of pgrep('java')) kafka.push(p);
  }
  return {
    mysqld: [...pgrep('mariadbd'), ...pgrep('mysqld')],
    'redis-server': pgrep('redis-server'),
    'kafka(java)': kafka,
    'rabbitmq(beam)': pgrep('beam.smp'),
  };
}

/** CPU seconds of named processes between two snapshots */
export class CpuMeter {
  private start = new Map<string, number>();
  private t0 = Date.now();
  constructor(private readonly procs: () => Record<string, number[]>) {
    this.reset();
  }
  private read(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.procs())) {
      let total = 0;
      let any = false;
      for (const pid of pids) {
        const v = procCpuSec(pid);
        if (v !== null) {
          total += v;
          any = true;
        }
      }
      if (any) m.set(name, total);
    }
    return m;
  }
  /** a new meter over the same processes */
  fresh(): CpuMeter {
    return new CpuMeter(this.procs);
  }
  reset() {
    this.start = this.read();
    this.t0 = Date.now();
  }
  /** CPU seconds per process since reset, plus wall seconds */
  delta(): { wallSec: number; cpuSec: Record<string, number> } {
    const now = this.read();
    const cpuSec: Record<string, number> = {};
    for (const [k, v] of now) cpuSec[k] = Math.round((v - (this.start.get(k) ?? v)) * 100) / 100;
    return { wallSec: Math.round((Date.now() - this.t0) / 100) / 10, cpuSec };
  }
}

// ------------------------------------------------------------------ GC via the inspector
/** full GC in the server through the DevTools protocol (the server exposes no gc hook) */
export async function forceGc(inspectPort: number): Promise<{ usedHeapKb: number } | null> {
  try {
    const list = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    let id = 0;
    const call = (method: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const my = ++id;
        const h = (d: Buffer) => {
          const m = JSON.parse(d.toString()) as { id?: number; result?: Record<string, unknown> };
          if (m.id === my) {
            ws.off('message', h);
            resolve(m.result ?? {});
          }
        };
        ws.on('message', h);
        ws.send(JSON.stringify({ id: my, method }));
      });
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = (await call('Runtime.getHeapUsage')) as { usedSize?: number };
    ws.close();
    return { usedHeapKb: Math.round((usage.usedSize ?? 0) / 1024) };
  } catch {
    return null;
  }
}
