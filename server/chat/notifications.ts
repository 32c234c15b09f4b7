/**
 * Offline push: a stored message whose recipient has no live session anywhere becomes one
 * `chat.notifications` event. Messages announced in the same tick (one committed batch) share
 * one presence lookup; answers are kept for half a second, since a busy conversation asks about
 * the same recipients for every message and a push decision that is 500 ms old is as good as a
 * fresh one.
 */
import type { RoomBus } from '../bus/room-bus.js';
import type { Logger } from '../logger.js';
import type { Presence } from '../presence/presence.js';
import type { MessageEvent } from '../shared/events.js';

const PRESENCE_MEMORY_MS = 500;
const MAX_REMEMBERED = 50_000;

interface Candidate {
  message: MessageEvent;
  recipients: string[];
}

export class OfflineNotifier {
  private readonly recent = new Map<string, { online: boolean | null; until: number }>();
  private batch: Candidate[] = [];

  constructor(
    private readonly deps: {
      presence: Presence;
      bus: RoomBus;
      logger: Logger;
      /** display name of a sender, for the push text */
      nameOf(userId: string): string;
    },
  ) {}

  /** queues the check for the message's recipients other than its sender and those who muted the room */
  stored(message: MessageEvent, members: readonly string[], muted: readonly string[] = []): void {
    const recipients = members.filter((id) => id !== message.senderId && !muted.includes(id));
    if (recipients.length === 0) return;
    if (this.batch.length === 0) setImmediate(() => void this.flush());
    this.batch.push({ message, recipients });
  }

  /** the user's presence changed: the remembered answer is stale */
  forget(userId: string): void {
    this.recent.delete(userId);
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    let online: Map<string, boolean | null>;
    try {
      online = await this.onlineOf([...new Set(batch.flatMap((b) => b.recipients))]);
    } catch (err) {
      this.deps.logger.warn({ err }, 'presence lookup for push notifications failed');
      return;
    }
    for (const { message: m, recipients } of batch) {
      for (const recipientId of recipients) {
        // unknown (Redis down) is not offline: better no push than a push to someone chatting
        if (online.get(recipientId) !== false) continue;
        this.deps.bus.notify({
          recipientId,
          roomId: m.roomId,
          messageId: m.id,
          senderId: m.senderId,
          senderName: this.deps.nameOf(m.senderId),
          preview: m.content === '' && m.attachments.length > 0 ? 'Photo' : m.content.slice(0, 140),
          createdAt: m.createdAt,
        });
      }
    }
  }

  private async onlineOf(recipients: string[]): Promise<Map<string, boolean | null>> {
    const now = Date.now();
    const result = new Map<string, boolean | null>();
    const ask: string[] = [];
    for (const id of recipients) {
      const hit = this.recent.get(id);
      if (hit && hit.until > now) result.set(id, hit.online);
      else ask.push(id);
    }
    if (ask.length > 0) {
      const fresh = await this.deps.presence.online(ask);
      if (this.recent.size > MAX_REMEMBERED) this.recent.clear();
      for (const id of ask) {
        const online = fresh.get(id) ?? null;
        result.set(id, online);
        this.recent.set(id, { online, until: now + PRESENCE_MEMORY_MS });
      }
    }
    return result;
  }
}
