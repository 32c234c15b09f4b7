/**
 * RoomBus: carries room events between instances. Kafka in production (topic
 * `chat.room-events`, keyed by room id so one room's events keep their order), an in-process
 * bus for a single instance. Every instance receives every event and delivers it to its own
 * local subscribers; the Kafka bus does not hand an instance its own events back (it delivered
 * them locally when they were committed), and the chat core ignores them by origin in any case.
 */
import type { RoomEvent, SendErrorEvent } from '../shared/events.js';
import type { DependencyStatus } from '../presence/presence.js';

export interface RoomEnvelope {
  roomId: string;
  /** member user ids, so instances can reach `/user/queue/events` without a lookup */
  members: string[];
  /** per-room sequence for message events (see rooms.lastSeq) */
  seq?: number;
  /** instance that produced the event */
  origin: string;
  event: RoomEvent | MembershipChangedEvent | UserErrorEvent;
}

/** an envelope whose event goes to clients */
export type ClientEnvelope = RoomEnvelope & { event: RoomEvent };

/**
 * Internal, never delivered to clients: memberships changed outside the room (account events),
 * so every instance drops its cached room access.
 */
export interface MembershipChangedEvent {
  type: 'membership-changed';
}

/**
 * Internal: a SEND of `userId` was rejected; every instance passes it to that user's
 * `/user/queue/errors` subscriptions (the rejecting instance did so already).
 */
export interface UserErrorEvent {
  type: 'user-error';
  userId: string;
  error: SendErrorEvent;
}

export interface OfflineNotification {
  recipientId: string;
  roomId: string;
  messageId: string;
  senderId: string;
  senderName: string;
  preview: string;
  createdAt: string;
}

/** a member's report for the moderation service (Kafka topic `chat.reports`) */
export interface ModerationReport {
  id: string;
  roomId: string;
  productId: string;
  reporterId: string;
  reportedUserId: string;
  messageId: string | null;
  /** the reported message's text as it was when reported (null when no message was named) */
  messageContent: string | null;
  reason: string;
  note: string | null;
  createdAt: string;
}

export interface RoomBus {
  /** hands the event to the bus; never throws and never blocks the caller on the broker */
  publish(envelope: RoomEnvelope): void;
  /** push-service notification for a recipient with no live session (Kafka topic `chat.notifications`) */
  notify(notification: OfflineNotification): void;
  /** a stored report for the moderation service (Kafka topic `chat.reports`); never throws */
  report(report: ModerationReport): void;
  onEvent(handler: (envelope: RoomEnvelope) => void): void;
  status(): DependencyStatus;
  /** events accepted by publish() and not yet handed to the broker (0 for the in-process bus) */
  queueLength?(): number;
  close(): Promise<void>;
}

/** Single-instance bus: there is no other instance to reach, so publishing only loops back. */
export class MemoryRoomBus implements RoomBus {
  private readonly handlers: Array<(e: RoomEnvelope) => void> = [];
  readonly notifications: OfflineNotification[] = [];
  readonly reports: ModerationReport[] = [];

  publish(envelope: RoomEnvelope): void {
    for (const h of this.handlers) h(envelope);
  }
  notify(notification: OfflineNotification): void {
    // kept (bounded) so a single-instance deployment can still inspect them
    this.notifications.push(notification);
    if (this.notifications.length > 1000) this.notifications.shift();
  }
  report(report: ModerationReport): void {
    // stored in MySQL already; kept (bounded) here like notifications
    this.reports.push(report);
    if (this.reports.length > 1000) this.reports.shift();
  }
  onEvent(handler: (e: RoomEnvelope) => void): void {
    this.handlers.push(handler);
  }
  status(): DependencyStatus {
    return 'embedded';
  }
  async close(): Promise<void> {}
}
