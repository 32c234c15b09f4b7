/**
 * Presence as rooms see it: when a user's first connection opens or their last one closes
 * (here, or on a killed instance), each of their rooms gets a presence event. Work still running
 * is tracked so that shutdown can wait for it before the pools close.
 */
import { isUnavailable } from '../db/availability.js';
import type { Logger } from '../logger.js';
import type { Presence } from '../presence/presence.js';
import type { RoomFanout } from './fanout.js';
import type { OfflineNotifier } from './notifications.js';
import type { RoomDirectory } from './rooms.js';

/** rooms told about one user's presence change, most recently active first */
const ANNOUNCED_ROOMS = 200;
const SHUTDOWN_WAIT_MS = 2_000;

export class PresenceFeed {
  private readonly work = new Set<Promise<void>>();

  constructor(
    private readonly deps: { presence: Presence; rooms: RoomDirectory; fanout: RoomFanout; notifier: OfflineNotifier; logger: Logger },
  ) {
    // a killed instance's users: someone has to tell their rooms they went offline
    deps.presence.onExpired((userId) => {
      deps.notifier.forget(userId);
      void this.track(this.announce(userId, false));
    });
  }

  connected(userId: string, sessionId: string): Promise<void> {
    return this.track(this.connectedNow(userId, sessionId));
  }

  disconnected(userId: string, sessionId: string): Promise<void> {
    return this.track(this.disconnectedNow(userId, sessionId));
  }

  /** waits (bounded) for announcements still running */
  async idle(): Promise<void> {
    await Promise.race([Promise.allSettled([...this.work]), new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS).unref())]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.work.add(work);
    return work.finally(() => this.work.delete(work));
  }

  private async connectedNow(userId: string, sessionId: string): Promise<void> {
    this.deps.notifier.forget(userId);
    if (await this.deps.presence.register(userId, sessionId)) await this.announce(userId, true);
  }

  private async disconnectedNow(userId: string, sessionId: string): Promise<void> {
    if (await this.deps.presence.unregister(userId, sessionId)) await this.announce(userId, false);
  }

  private async announce(userId: string, online: boolean): Promise<void> {
    try {
      for (const room of await this.deps.rooms.ofUser(userId, ANNOUNCED_ROOMS)) {
        this.deps.fanout.publish(room, { type: 'presence', roomId: room.roomId, userId, online });
      }
    } catch (err) {
      // while MySQL is down the rooms cannot be looked up; the outage is logged once elsewhere
      if (!isUnavailable(err)) this.deps.logger.warn({ err, userId }, 'presence announcement failed');
    }
  }
}
