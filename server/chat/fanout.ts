/**
 * RoomFanout: the one place an event leaves the chat core. Local subscribers (the hub) and the
 * other instances (the bus) are reached together, the way socket.io's cluster adapter keeps
 * local and remote broadcast in one class; events of other instances come back in here and go
 * to the hub. Transports subscribe through the hub and never hear from storage.
 */
import type { ClientEnvelope, RoomBus, RoomEnvelope } from '../bus/room-bus.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RoomEvent, SendErrorEvent } from '../shared/events.js';
import type { LocalHub } from './hub.js';

export interface FanoutDeps {
  hub: LocalHub;
  bus: RoomBus;
  instanceId: string;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** another instance changed memberships (or a room's blocks and mutes): one room, or all when undefined */
  onMembershipChanged(roomId?: string): void;
  /** another instance announced a user's presence */
  onRemotePresence(userId: string): void;
}

export class RoomFanout {
  constructor(private readonly deps: FanoutDeps) {
    deps.bus.onEvent((env) => this.fromBus(env));
  }

  /**
   * Delivers to this instance's subscribers, then hands the event to the bus. Never throws:
   * it runs after a commit, and a stored message must still be confirmed to its sender.
   */
  publish(room: { roomId: string; members: string[] }, event: RoomEvent, seq?: number): void {
    const env: ClientEnvelope = { roomId: room.roomId, members: room.members, origin: this.deps.instanceId, event };
    if (seq !== undefined) env.seq = seq;
    try {
      this.deps.hub.ingest(env);
    } catch (err) {
      this.deps.logger.error({ err, roomId: room.roomId }, 'local delivery failed');
    }
    this.deps.bus.publish(env);
  }

  /** a rejected SEND: to the user's error channel here and on every other instance */
  userError(userId: string, error: SendErrorEvent): void {
    this.deps.hub.toUser(userId, 'errors', error);
    this.deps.bus.publish({ roomId: '*', members: [userId], origin: this.deps.instanceId, event: { type: 'user-error', userId, error } });
  }

  /**
   * tells every other instance that memberships changed (they drop their access caches): of
   * one room (blocks, mutes) or of any room
   */
  membershipChanged(roomId?: string): void {
    this.deps.bus.publish({ roomId: roomId ?? '*', members: [], origin: this.deps.instanceId, event: { type: 'membership-changed' } });
  }

  private fromBus(env: RoomEnvelope): void {
    // our own events were delivered locally when they were published
    if (env.origin === this.deps.instanceId) return;
    const event = env.event;
    if (event.type === 'membership-changed') this.deps.onMembershipChanged(env.roomId === '*' ? undefined : env.roomId);
    else if (event.type === 'user-error') this.deps.hub.toUser(event.userId, 'errors', event.error);
    else {
      if (event.type === 'presence') this.deps.onRemotePresence(event.userId);
      this.deps.metrics?.deliveredFromBus(event);
      this.deps.hub.ingest(env as ClientEnvelope);
    }
  }
}
