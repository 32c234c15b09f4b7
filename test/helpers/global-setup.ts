/**
 * Runs once per `vitest run`: checks that MariaDB, Redis, Kafka and the S3-compatible store answer
 * (a missing service is a failure, never a skip; the project's own Kafka and S3Proxy are started), hands every test file a run id for its database names, key and
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
import { DeleteBucketCommand, DeleteObjectCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { KAFKA_BROKERS, MYSQL_URL, REDIS_URL, S3_ACCESS_KEY_ID, S3_ENDPOINT, S3_SECRET_ACCESS_KEY } from './services.js';

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
  const s3 = new URL(S3_ENDPOINT);
  if (!(await tcpCheck(s3.hostname, Number(s3.port || 80)))) {
    if (process.env.TEST_S3_ENDPOINT) {
      problems.push(`S3 at ${S3_ENDPOINT}: not answering`);
    } else {
      // like Kafka: left running for the next run; `bash scripts/s3proxy.sh stop` stops it
      const r = spawnSync('bash', [join(projectRoot(), 'scripts/s3proxy.sh'), 'start'], { stdio: 'inherit' });
      if (r.status !== 0) problems.push(`S3 at ${S3_ENDPOINT}: scripts/s3proxy.sh start failed`);
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
    await dropBuckets(`reuse-chat-test-${runId}`.toLowerCase());
    // .eml files this run's servers wrote (var/test-mail/<run>/<database>)
    rmSync(join(projectRoot(), 'var', 'test-mail', runId), { recursive: true, force: true });
    // photos this run's servers stored on disk (var/test-uploads/<run>/…)
    rmSync(join(projectRoot(), 'var', 'test-uploads', runId), { recursive: true, force: true });
  };
}

/** the buckets of this run the upload tests did not remove themselves (a failed test, say) */
async function dropBuckets(prefix: string): Promise<void> {
  const client = new S3Client({
    endpoint: S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
  });
  try {
    const { Buckets = [] } = await client.send(new ListBucketsCommand({}));
    for (const b of Buckets.filter((b) => b.Name?.startsWith(prefix))) {
      const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: b.Name }));
      for (const o of Contents) await client.send(new DeleteObjectCommand({ Bucket: b.Name, Key: o.Key }));
      await client.send(new DeleteBucketCommand({ Bucket: b.Name }));
    }
  } finally {
    client.destroy();
  }
}
