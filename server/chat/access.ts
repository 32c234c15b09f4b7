/**
 * Room access: who may read and write a room, with a short-lived cache. Every instance caches
 * on its own; memberships that change outside the room's own path (account events) clear it
 * everywhere through the fan-out. While MySQL does not answer, expired entries keep being
 * served: members keep their rooms through an outage instead of being refused.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { isUnavailable } from '../db/availability.js';
import type { Db } from '../db/client.js';
import { roomMembers, rooms } from '../db/schema.js';
import { ChatError } from '../shared/errors.js';

export interface RoomAccess {
  roomId: string;
  members: string[];
  buyerId: string;
  sellerId: string;
}

const MAX_CACHED = 50_000;

export class RoomAccessCache {
  private readonly cache = new Map<string, { value: RoomAccess; expires: number }>();
  private readonly loads = new Map<string, Promise<RoomAccess>>();

  constructor(
    private readonly db: Db,
    /** how long a room's members are trusted without asking MySQL again */
    private readonly ttlMs = 15_000,
  ) {}

  /** members of the room; NOT_FOUND when it does not exist, FORBIDDEN for anyone else */
  async authorize(userId: string, roomId: string): Promise<RoomAccess> {
    const cached = this.cache.get(roomId);
    let access: RoomAccess;
    if (cached && cached.expires > Date.now()) access = cached.value;
    else {
      try {
        access = await this.loadOnce(roomId);
      } catch (err) {
        if (!cached || !isUnavailable(err)) throw err;
        access = cached.value;
      }
    }
    if (!access.members.includes(userId)) throw new ChatError('FORBIDDEN');
    return access;
  }

  /** the room's members, from the cache when it has them (stale too), else from MySQL */
  async members(roomId: string): Promise<string[]> {
    return (this.cache.get(roomId)?.value ?? (await this.loadOnce(roomId))).members;
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
    // one row per current member (or one with no member), each carrying the room's parties
    const rows = await this.db
      .select({ buyerId: rooms.buyerId, sellerId: rooms.sellerId, userId: roomMembers.userId })
      .from(rooms)
      .leftJoin(roomMembers, and(eq(roomMembers.roomId, rooms.id), isNull(roomMembers.leftAt)))
      .where(eq(rooms.id, roomId));
    const first = rows[0];
    if (!first) throw new ChatError('NOT_FOUND');
    const value: RoomAccess = {
      roomId,
      buyerId: first.buyerId,
      sellerId: first.sellerId,
      members: rows.flatMap((r) => (r.userId === null ? [] : [r.userId])),
    };
    if (this.cache.size > MAX_CACHED) this.cache.clear();
    this.cache.set(roomId, { value, expires: Date.now() + this.ttlMs });
    return value;
  }
}
