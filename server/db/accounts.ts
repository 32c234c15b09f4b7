/**
 * Account changes announced by the marketplace's user service, applied to chat data:
 *   - delete: that user's memberships are removed (they lose access to every room; the
 *     counterpart keeps the room and its history), and the profile is anonymised — the row
 *     stays so the counterpart sees "Deleted user" rather than an id that may be an email.
 *   - update: an id equal to the old email is re-keyed to the new email everywhere it is a key
 *     (memberships, rooms, message authors, inquiries, the profile) in one transaction, so the
 *     user keeps their rooms and their own messages still count as theirs (unread counts
 *     compare sender ids). An opaque id keeps its id; only its email changes.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { inTransaction } from './transaction.js';

/** how the profile of a deleted account is shown to the people they chatted with */
export const DELETED_USER_NAME = 'Deleted user';

async function exec(conn: PoolConnection, sql: string, params: unknown[]): Promise<number> {
  const [res] = await conn.query<ResultSetHeader>(sql, params);
  return res.affectedRows;
}

/** Removes the memberships of the account with this email; resolves to the number of rows changed. */
export async function applyUserDelete(pool: Pool, address: string): Promise<number> {
  return inTransaction(pool, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT id FROM users WHERE id = ? OR email = ? FOR UPDATE', [address, address]);
    const ids = [...new Set([address, ...rows.map((r) => String(r.id))])];
    let changed = await exec(conn, 'DELETE FROM room_members WHERE user_id IN (?)', [ids]);
    changed += await exec(
      conn,
      'UPDATE users SET name = ?, email = NULL, updated_at = CURRENT_TIMESTAMP(3) WHERE id IN (?)',
      [DELETED_USER_NAME, ids],
    );
    return changed;
  });
}

/**
 * Re-keys the id equal to `oldEmail` to `newEmail`, and moves `users.email` of opaque ids.
 * Resolves to the number of rows changed.
 */
export async function applyUserUpdate(pool: Pool, oldEmail: string, newEmail: string): Promise<number> {
  if (oldEmail === newEmail) return 0;
  return inTransaction(pool, async (conn) => {
    const oldId = oldEmail;
    const newId = newEmail;
    // every statement below reaches rows through an index: rooms by id, messages by
    // (room_id, sender_id), memberships by user_id, so a re-key never scans a whole table
    const [memberRows] = await conn.query<RowDataPacket[]>('SELECT room_id FROM room_members WHERE user_id = ? FOR UPDATE', [oldId]);
    const [buyerRows] = await conn.query<RowDataPacket[]>('SELECT id FROM rooms WHERE buyer_id = ? FOR UPDATE', [oldId]);
    const roomIds = [...new Set([...memberRows.map((r) => String(r.room_id)), ...buyerRows.map((r) => String(r.id))])];
    let changed = 0;
    let stuck: string[] = [];
    if (roomIds.length > 0) {
      // IGNORE: when the new id already has a room with the same counterpart and product, that
      // room cannot take the new id (unique index); it stays whole under the old id
      changed += await exec(conn, 'UPDATE IGNORE rooms SET buyer_id = ? WHERE id IN (?) AND buyer_id = ?', [newId, roomIds, oldId]);
      changed += await exec(conn, 'UPDATE IGNORE rooms SET seller_id = ? WHERE id IN (?) AND seller_id = ?', [newId, roomIds, oldId]);
      const [stuckRows] = await conn.query<RowDataPacket[]>('SELECT id FROM rooms WHERE id IN (?) AND (buyer_id = ? OR seller_id = ?)', [
        roomIds,
        oldId,
        oldId,
      ]);
      stuck = stuckRows.map((r) => String(r.id));
      const movable = roomIds.filter((id) => !stuck.includes(id));
      if (movable.length > 0) {
        // a membership the new id already has wins, keeping the further read mark of the two
        changed += await exec(
          conn,
          `INSERT INTO room_members (room_id, user_id, role, last_read_message_id, joined_at, left_at)
           SELECT src.room_id, ?, src.role, src.last_read_message_id, src.joined_at, src.left_at
             FROM room_members src WHERE src.user_id = ? AND src.room_id IN (?)
           ON DUPLICATE KEY UPDATE last_read_message_id = GREATEST(room_members.last_read_message_id, VALUES(last_read_message_id))`,
          [newId, oldId, movable],
        );
        changed += await exec(conn, 'DELETE FROM room_members WHERE user_id = ? AND room_id IN (?)', [oldId, movable]);
        // IGNORE: the same clientMsgId sent under both ids in one room keeps the old author
        changed += await exec(conn, 'UPDATE IGNORE messages SET sender_id = ? WHERE room_id IN (?) AND sender_id = ?', [
          newId,
          movable,
          oldId,
        ]);
      }
    }
    changed += await exec(conn, 'UPDATE inquiries SET user_id = ? WHERE user_id = ?', [newId, oldId]);
    // the profile follows the id; if the new id already has one, it is kept and the old one goes
    changed += await exec(conn, 'UPDATE IGNORE users SET id = ?, email = ?, updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?', [
      newId,
      newEmail,
      oldId,
    ]);
    if (stuck.length === 0) changed += await exec(conn, 'DELETE FROM users WHERE id = ?', [oldId]);
    // opaque ids keep their id; only the address they are known by moves
    changed += await exec(conn, 'UPDATE users SET email = ?, updated_at = CURRENT_TIMESTAMP(3) WHERE email = ?', [newEmail, oldEmail]);
    return changed;
  });
}
