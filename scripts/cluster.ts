/**
 * Runs N instances on ports 3001.. against the same MySQL, Redis and Kafka, to try scale-out
 * by hand:  npm run cluster -- [--instances 3] [--base-port 3001]
 * Starts the project's Kafka broker if none answers on KAFKA_BROKERS (default 127.0.0.1:9092).
 * Ctrl+C stops every instance.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../server/paths.js';

const { values } = parseArgs({ options: { instances: { type: 'string', default: '3' }, 'base-port': { type: 'string', default: '3001' } } });
const count = Number(values.instances);
const basePort = Number(values['base-port']);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const root = projectRoot();

const answers = (hostPort: string) =>
  new Promise<boolean>((resolve) => {
    const [host, port] = hostPort.split(':');
    const s = connect(Number(port), host!, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

if (!(await answers(brokers.split(',')[0]!))) {
  console.log(`> no Kafka on ${brokers}: starting the local broker (scripts/kafka.sh)`);
  if (spawnSync('bash', [join(root, 'scripts/kafka.sh'), 'start'], { stdio: 'inherit' }).status !== 0) process.exit(1);
}

const children: ChildProcess[] = [];
for (let i = 0; i < count; i++) {
  const port = basePort + i;
  const name = String.fromCharCode(97 + i);
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server/index.ts')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), INSTANCE_ID: name, KAFKA_BROKERS: brokers, WEB: i === 0 ? (process.env.WEB ?? 'true') : 'false', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  const prefix = (d: Buffer) => d.toString().split('\n').filter(Boolean).map((l) => `[${name}:${port}] ${l}`).join('\n');
  child.stdout!.on('data', (d: Buffer) => console.log(prefix(d)));
  child.stderr!.on('data', (d: Buffer) => console.error(prefix(d)));
  child.on('exit', (code) => console.log(`[${name}:${port}] exited (${code})`));
  children.push(child);
  // the first instance migrates the database; let it finish before the others start
  if (i === 0) {
    for (let t = 0; t < 600 && !(await answers(`127.0.0.1:${port}`)); t++) await new Promise((r) => setTimeout(r, 100));
  }
}
console.log(`> ${count} instances on ports ${basePort}..${basePort + count - 1} (instance a also serves the web page); Ctrl+C stops them`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of children) c.kill('SIGTERM');
    setTimeout(() => process.exit(0), 3000).unref();
  });
}
