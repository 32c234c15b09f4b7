/**
 * Runs once per `vitest run`: checks that MariaDB, Redis and Kafka answer (a missing service is
 * a failure, never a skip), hands every test file a run id for its database names, key and
 * topic prefixes, and drops whatever this run created at the end.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../server/paths.js';
import { KAFKA_BROKERS, MYSQL_URL, REDIS_URL } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
  }
}

function tcpCheck(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(2000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
    s.connect(port, host);
  });
}

export default async function setup(project: TestProject) {
  const runId = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const problems: string[] = [];
  try {
    const conn = await mysql.createConnection(MYSQL_URL);
    await conn.end();
  } catch (err) {
    problems.push(`MariaDB/MySQL at ${MYSQL_URL}: ${(err as Error).message}`);
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(`Redis at ${REDIS_URL}: ${(err as Error).message}`);
  }
  const [kHost, kPort] = (KAFKA_BROKERS.split(',')[0] ?? '').split(':');
  if (!(await tcpCheck(kHost ?? '127.0.0.1', Number(kPort ?? 9092)))) {
    if (process.env.TEST_KAFKA_BROKERS) {
      problems.push(`Kafka at ${KAFKA_BROKERS}: not answering`);
    } else {
      // the project's own broker; it is left running for the next run (and for other runs
      // sharing it): `bash scripts/kafka.sh stop` stops it, .ci/run does so at its end
      const r = spawnSync('bash', [join(projectRoot(), 'scripts/kafka.sh'), 'start'], { stdio: 'inherit' });
      if (r.status !== 0) problems.push(`Kafka at ${KAFKA_BROKERS}: scripts/kafka.sh start failed`);
    }
  }
  if (problems.length > 0) {
    redis.disconnect();
    throw new Error(`Test services are missing:\n  ${problems.join('\n  ')}`);
  }
  project.provide('runId', runId);

  return async () => {
    // drop this run's databases and keys, whatever the tests left behind
    const conn = await mysql.createConnection(MYSQL_URL);
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW DATABASES LIKE ?', [`reuse_chat_test_${runId}%`]);
    for (const r of rows) await conn.query(`DROP DATABASE IF EXISTS \`${String(Object.values(r)[0])}\``);
    await conn.end();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `test:${runId}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    // .eml files this run's servers wrote (var/test-mail/<run>/<database>)
    rmSync(join(projectRoot(), 'var', 'test-mail', runId), { recursive: true, force: true });
  };
}
