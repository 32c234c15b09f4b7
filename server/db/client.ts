/**
 * MySQL through Drizzle (mysql2). Creates the database when missing and applies the committed
 * migrations at start, under a named lock so that instances starting together migrate once.
 */
import { join } from 'node:path';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql, { type Pool } from 'mysql2/promise';
import type { Logger } from '../logger.js';
import { projectRoot } from '../paths.js';
import * as schema from './schema.js';

export type Db = MySql2Database<typeof schema>;

/** typed queries (Drizzle) on a mysql2 pool */
export function drizzleOn(pool: Pool): Db {
  return drizzle(pool, { schema, mode: 'default' });
}

export interface Database {
  db: Db;
  pool: Pool;
  /** the message store's own connections: multi-statement queries, all values placeholders */
  storePool: Pool;
  name: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(name)) {
    throw new Error(`DATABASE_URL: database name ${JSON.stringify(name)} is missing or not a plain identifier`);
  }
  return name;
}

function connectionOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    charset: 'utf8mb4_bin',
    // every DATETIME is UTC on the wire
    timezone: 'Z',
    supportBigNumbers: true,
    dateStrings: false,
  } as const;
}

/** Creates the database if it does not exist (utf8mb4, binary collation: ids are case-sensitive). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const conn = await mysql.createConnection(connectionOptions(url));
  try {
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
  } finally {
    await conn.end();
  }
}

export async function openDatabase(opts: { url: string; poolSize: number; logger: Logger; migrate?: boolean }): Promise<Database> {
  const name = databaseName(opts.url);
  await ensureDatabase(opts.url);
  const pool = mysql.createPool({
    ...connectionOptions(opts.url),
    database: name,
    connectionLimit: opts.poolSize,
    waitForConnections: true,
    enableKeepAlive: true,
    // fail fast when the server is gone instead of queueing forever
    connectTimeout: 5_000,
  });
  const storePool = mysql.createPool({
    ...connectionOptions(opts.url),
    database: name,
    connectionLimit: 4,
    waitForConnections: true,
    enableKeepAlive: true,
    connectTimeout: 5_000,
    multipleStatements: true,
    // the hot path: no stack capture per query (≈3 % of the service's CPU under load); the
    // store's errors carry their code and SQL message, and are logged where they are caught
    trace: false,
  });
  const db = drizzleOn(pool);
  if (opts.migrate !== false) await applyMigrations(pool, db, opts.logger);
  return {
    db,
    pool,
    storePool,
    name,
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([pool.end(), storePool.end()]);
    },
  };
}

async function applyMigrations(pool: Pool, db: Db, logger: Logger): Promise<void> {
  const conn = await pool.getConnection();
  try {
    // one migrator at a time across instances; others wait, then find nothing to do
    const [rows] = await conn.query("SELECT GET_LOCK('reuse_chat_migrations', 60) AS got");
    if ((rows as Array<{ got: number }>)[0]?.got !== 1) throw new Error('could not take the migration lock in 60 s');
    try {
      const started = Date.now();
      await migrate(db, { migrationsFolder: join(projectRoot(), 'drizzle') });
      logger.info({ ms: Date.now() - started }, 'database migrations applied');
    } finally {
      await conn.query("SELECT RELEASE_LOCK('reuse_chat_migrations')");
    }
  } finally {
    conn.release();
  }
}
