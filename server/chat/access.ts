/**
 * Room access: who may read and write a room, with a short-lived cache. Every instance caches
 * on its own; memberships that change outside the room's own path (account events) clear it
 * everywhere through the fan-out.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { ChatError } from '../shared/errors.js';

export interface RoomAccess {
  roomId: string;
  members: string[];
  buyerId: string;
  sellerId: string;
}

const ACCESS_TTL_MS = 15_000;
const MAX_CACHED = 50_000;

export class RoomAccessCache {
  private readonly cache = new Map<string, { value: RoomAccess; expires: number }>();
  private readonly loads = new Map<string, Promise<RoomAccess>>();

  constructor(private readonly pool: Pool) {}

  /** members of the room; NOT_FOUND when it does not exist, FORBIDDEN for anyone else */
  async authorize(userId: string, roomId: string): Promise<RoomAccess> {
    const cached = this.cache.get(roomId);
    const access = cached && cached.expires > Date.now() ? cached.value : await this.loadOnce(roomId);
    if (!access.members.includes(userId)) throw new ChatError('FORBIDDEN');
    return access;
  }

  forget(roomId: string): void {
    this.cache.delete(roomId);
  }

  clear(): void {
    this.cache.clear();
  }

  /**
   * Concurrent lookups of one room share a query: pipelined SENDs of a connection then resume
   * in their arrival order, so they reach the store in the order they were sent.
   */
  private loadOnce(roomId: string): Promise<RoomAccess> {
    let p = this.loads.get(roomId);
    if (!p) {
      p = this.load(roomId).finally(() => this.loads.delete(roomId));
      this.loads.set(roomId, p);
    }
    return p;
  }

  private async load(roomId: string): Promise<RoomAccess> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT r.buyer_id, r.seller_id, m.user_id FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.left_at IS NULL WHERE r.id = ?',
      [roomId],
    );
    const first = rows[0];
    if (!first) throw new ChatError('NOT_FOUND');
    const value: RoomAccess = {
      roomId,
      buyerId: String(first.buyer_id),
      sellerId: String(first.seller_id),
      members: rows.filter((r) => r.user_id !== null).map((r) => String(r.user_id)),
    };
    if (this.cache.size > MAX_CACHED) this.cache.clear();
    this.cache.set(roomId, { value, expires: Date.now() + ACCESS_TTL_MS });
    return value;
  }
}
