import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { KAFKA_BROKERS } from '../helpers/services.js';
import { databaseUrl, dropDatabase, startChildServer, startTestServer, testEnvVars, uniqueName } from '../helpers/server.js';

async function schemaOf(dbName: string): Promise<string> {
  const conn = await mysql.createConnection(databaseUrl(dbName));
  try {
    const [tables] = await conn.query<mysql.RowDataPacket[]>('SHOW TABLES');
    const out: string[] = [];
    for (const t of tables) {
      const name = String(Object.values(t)[0]);
      const [rows] = await conn.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE \`${name}\``);
      out.push(String(rows[0]?.['Create Table']).replace(/ AUTO_INCREMENT=\d+/, ''));
    }
    const [migrations] = await conn.query<mysql.RowDataPacket[]>('SELECT hash FROM __drizzle_migrations ORDER BY id');
    out.push(migrations.map((m) => m.hash).join(','));
    return out.join('\n');
  } finally {
    await conn.end();
  }
}

describe('the service foundation', () => {
  const dbs: string[] = [];
  afterAll(async () => {
    for (const db of dbs) await dropDatabase(db);
  });

  it('creates the database, applies the migrations on an empty one, and a second start changes nothing', async () => {
    const dbName = uniqueName('migrate');
    dbs.push(dbName);
    const first = await startTestServer({ dbName });
    await first.stop();
    const schema1 = await schemaOf(dbName);
    for (const table of ['rooms', 'room_members', 'messages', 'inquiries', 'users']) {
      expect(schema1).toContain(`CREATE TABLE \`${table}\``);
    }
    expect(schema1).toMatch(/UNIQUE KEY `rooms_buyer_seller_product_idx` \(`buyer_id`,`seller_id`,`product_id`\)/);
    expect(schema1).toMatch(/UNIQUE KEY `messages_client_msg_idx` \(`room_id`,`sender_id`,`client_msg_id`\)/);
    expect(schema1).toMatch(/KEY `messages_room_id_idx` \(`room_id`,`id`\)/);
    expect(schema1).toMatch(/CHARSET=utf8mb4/);

    const second = await startTestServer({ dbName });
    await second.stop();
    expect(await schemaOf(dbName)).toBe(schema1);
  });

  it('answers /healthz and reports every dependency on /readyz', async () => {
    const srv = await startTestServer();
    try {
      const health = await fetch(`${srv.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${srv.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        mysql: 'up',
        redis: 'up',
        kafka: 'embedded',
        smtp: 'embedded',
        dependencies: { mysql: 'up', redis: 'up', kafka: 'embedded', smtp: 'embedded' },
      });
    } finally {
      await srv.stop();
    }
  });

  it('still starts when Redis is unreachable, and /readyz says redis is down', async () => {
    const srv = await startTestServer({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const ready = await fetch(`${srv.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'degraded', dependencies: { mysql: 'up', redis: 'down' } });
    } finally {
      await srv.stop();
    }
  });

  it('answers /readyz with 503 once MySQL is unreachable', async () => {
    const srv = await startTestServer();
    const dbName = srv.dbName;
    dbs.push(dbName);
    // lose the database under the running service
    await srv.service.database.pool.end();
    const ready = await fetch(`${srv.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', dependencies: { mysql: 'down' } });
    await srv.service.close().catch(() => undefined);
  });

  it('refuses unknown paths for HTTP and WebSocket upgrades', async () => {
    const srv = await startTestServer();
    try {
      expect((await fetch(`${srv.url}/nope`)).status).toBe(404);
      const { WebSocket } = await import('ws');
      const ws = new WebSocket(`ws://127.0.0.1:${srv.service.port}/not-a-socket`);
      const outcome = await new Promise<string>((resolve) => {
        ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        ws.on('open', () => resolve('open'));
        ws.on('error', (e) => resolve(`error ${e.message}`));
      });
      expect(outcome).toBe('http 404');
    } finally {
      await srv.stop();
    }
  });

  it('exits with a clear message naming the variable when the configuration is wrong', async () => {
    const dbName = uniqueName('badcfg');
    // the exit is what is awaited; the deadline only bounds a child that never exits
    await expect(startChildServer(testEnvVars(dbName, { SEND_RATE_PER_SECOND: '-3', PORT: '0' }), { timeoutMs: 60_000 })).rejects.toThrow(
      /exited with 2:[\s\S]*SEND_RATE_PER_SECOND/,
    );
  }, 90_000);

  it('shuts down gracefully on SIGTERM within the shutdown timeout', async () => {
    const dbName = uniqueName('sigterm');
    dbs.push(dbName);
    const child = await startChildServer(testEnvVars(dbName, { LOG_LEVEL: 'info' }));
    const started = Date.now();
    const code = await child.stop('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(child.output()).toContain('"msg":"stopped"');
  });

  it('serves the production web page and the API on one port from the compiled server', async () => {
    const root = projectRoot();
    expect(existsSync(join(root, 'dist/server/index.js')), 'run `npm run build` first').toBe(true);
    expect(existsSync(join(root, '.next/BUILD_ID')), 'run `npm run build` first').toBe(true);
    const dbName = uniqueName('prod');
    dbs.push(dbName);
    const child = await startChildServer(testEnvVars(dbName, { NODE_ENV: 'production', WEB: 'true' }), {
      entry: [join(root, 'dist/server/index.js')],
      timeoutMs: 60_000,
    });
    try {
      const page = await fetch(`${child.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Re:Use Chat');
      expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await child.stop()).toBe(0);
    }
  });
});

describe('the local Kafka broker of scripts/kafka.sh', () => {
  it('accepts records from a kafkajs producer and hands them to a consumer group', async () => {
    const kafka = new Kafka({ clientId: 'foundation-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    const topic = `${uniqueName('topic')}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'a', value: 'one' }, { key: 'a', value: 'two' }] });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(String(message.value));
          if (got.length === 2) resolve();
        },
      });
    });
    expect(got).toEqual(['one', 'two']);
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteGroups([`${topic}-group`]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  }, 60_000);
});

