/** The one way to run work in a MySQL transaction: commit on success, roll back on any error. */
import type { Pool, PoolConnection } from 'mysql2/promise';

export async function inTransaction<T>(pool: Pool, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await work(conn);
    await conn.commit();
    return result;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    // released before the caller reads more: that read may need a pool connection of its own
    conn.release();
  }
}
