/**
 * Delivery of other instances' messages while the room bus (Kafka) is down. Messages are
 * committed to MySQL before they are published, so an instance can find what it did not hear:
 * every POLL_MS while the bus reports 'down' it asks MySQL, in one query, for the messages past
 * the last delivered seq of each room that has subscribers here (at most MAX_ROOMS rooms and
 * MAX_ROWS messages a round), and hands them to the hub like bus events. The hub's per-room
 * order drops what it already delivered, so the bus replaying its queue after the outage
 * duplicates nothing. Polling stops as soon as the bus is up again; one log line each way.
 * Read marks, typing and presence of other instances are not polled (they are not durable
 * events, or are re-read by clients on their own).
 */
import type { RoomBus } from '../bus/room-bus.js';
import type { MessageRow } from '../db/types.js';
import type { Logger } from '../logger.js';
import { messageEvent } from '../shared/events.js';
import type { LocalHub } from './hub.js';

const POLL_MS = 1_000;
const MAX_ROOMS = 500;
const MAX_ROWS = 2_000;

export interface BusOutageDeps {
  bus: RoomBus;
  hub: LocalHub;
  fetch(rooms: Array<{ roomId: string; afterSeq: number }>, limit: number): Promise<MessageRow[]>;
  membersOf(roomId: string): Promise<string[]>;
  logger: Logger;
  pollMs?: number | undefined;
}

export class BusOutagePoller {
  private readonly timer: NodeJS.Timeout;
  private polling = false;
  private running = false;
  /** where the next round starts, so that more than MAX_ROOMS rooms are all visited in turn */
  private offset = 0;

  constructor(private readonly deps: BusOutageDeps) {
    this.timer = setInterval(() => void this.tick(), deps.pollMs ?? POLL_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const down = this.deps.bus.status() === 'down';
    if (down !== this.polling) {
      this.polling = down;
      if (down) this.deps.logger.warn({ everyMs: this.deps.pollMs ?? POLL_MS }, 'room bus is down: delivering other instances\' messages from MySQL');
      else this.deps.logger.info('room bus is back: polling MySQL stopped');
    }
    if (!down || this.running) return;
    this.running = true;
    try {
      await this.poll();
    } catch (err) {
      this.deps.logger.debug({ err: (err as Error).message }, 'polling for messages failed');
    } finally {
      this.running = false;
    }
  }

  private async poll(): Promise<void> {
    const all = this.deps.hub.subscribedRooms();
    if (all.length === 0) return;
    if (this.offset >= all.length) this.offset = 0;
    const rooms = all.slice(this.offset, this.offset + MAX_ROOMS);
    this.offset += rooms.length;
    const rows = await this.deps.fetch(rooms.map((r) => ({ roomId: r.roomId, afterSeq: r.lastSeq })), MAX_ROWS);
    const members = new Map<string, string[]>();
    for (const row of rows) {
      let m = members.get(row.roomId);
      if (!m) members.set(row.roomId, (m = await this.deps.membersOf(row.roomId)));
      this.deps.hub.ingest({ roomId: row.roomId, members: m, seq: row.seq, origin: 'mysql', event: messageEvent(row) });
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
