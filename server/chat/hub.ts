/**
 * LocalHub: this instance's live subscribers and the ordering of what they receive.
 *
 * Sinks are transport-neutral (a STOMP subscription, a Socket.IO socket in a room). Every event
 * is wrapped once in an `Outgoing`, which caches its JSON and any transport's pre-serialised
 * frame, so fan-out to many subscribers serialises once.
 *
 * Each user has two channels of their own on this instance: `events` (everything from all their
 * rooms except typing, for room lists and badges) and `errors` (rejections of their SENDs).
 *
 * Order: message events carry the room's seq. Events of this instance arrive in commit order;
 * events of other instances arrive over the bus and may interleave. Per room the hub delivers
 * seq n+1 only after n: a later seq waits in `pending`, and if the gap is not closed by the
 * bus within `gapWaitMs` it is filled from the database (it must be there: an event is
 * published only after its commit, and a lower seq commits first). Each sink also drops any
 * message id it has already passed, which makes replay + live exactly-once.
 *
 * A little over our usual length on purpose: the subscribers, the per-room order and the replay
 * (with its retry while MySQL is down) share one state, and read best together.
 */
import { isUnavailable } from '../db/availability.js';
import type { Logger } from '../logger.js';
import type { ClientEnvelope, RoomEnvelope } from '../bus/room-bus.js';
import { messageEvent, type MessageEvent, type RoomEvent, type SendErrorEvent, type StoredMessage } from '../shared/events.js';

/** what a sink can receive: room events, or a user's SEND rejections on the `errors` channel */
export type ClientEvent = RoomEvent | SendErrorEvent;

export class Outgoing<E extends ClientEvent = ClientEvent> {
  private cachedJson: string | undefined;
  /** created on first use: most events reach few destinations, and every event is wrapped */
  private memo: Map<string, unknown> | undefined;

  constructor(readonly event: E) {}

  get json(): string {
    return (this.cachedJson ??= JSON.stringify(this.event));
  }

  /**
   * per-transport cache, e.g. a pre-serialised STOMP MESSAGE for one destination; `make` gets the
   * key and this event so that callers can pass a plain function, not a closure per delivery
   */
  cached<T>(key: string, make: (key: string, out: this) => T): T {
    const memo = (this.memo ??= new Map());
    let v = memo.get(key) as T | undefined;
    if (v === undefined) {
      v = make(key, this);
      memo.set(key, v);
    }
    return v;
  }
}

export interface Sink {
  readonly userId: string;
  deliver(out: Outgoing): void;
}

interface RoomSubscription {
  sink: Sink;
  /** highest message id passed to the sink */
  lastId: number;
  /** live events held back while history is replayed */
  buffer: Outgoing<RoomEvent>[] | null;
  closed: boolean;
}

interface RoomOrder {
  lastSeq: number;
  pending: Map<number, Outgoing<RoomEvent>>;
  timer: NodeJS.Timeout | null;
}

export interface HubDeps {
  logger: Logger;
  /** messages of a room with lastSeq < seq < beforeSeq, oldest first */
  fetchSeqRange(roomId: string, afterSeq: number, beforeSeq: number): Promise<StoredMessage[]>;
  /** messages of a room with id > afterId, oldest first, at most `limit` */
  fetchAfter(roomId: string, afterId: number, limit: number): Promise<StoredMessage[]>;
  /** the client event of a stored message (photo URLs signed); plain messageEvent by default */
  toEvent?(m: StoredMessage): MessageEvent;
  gapWaitMs?: number;
}

/** a user's own channels: their rooms' events, and rejections of their SENDs */
export type UserChannel = 'events' | 'errors';

export interface RoomSubscriptionHandle {
  close(): void;
}

const REPLAY_PAGE = 500;
/** a replay the database could not serve is tried again this often while the subscriber waits */
const REPLAY_RETRY_MS = 1_000;

/**
 * Handles are small objects, not `{ close: () => ... }` literals: a closure and its context per
 * subscription add ~0.1 KB each to every idle connection.
 */
class RoomHandle implements RoomSubscriptionHandle {
  constructor(
    private readonly hub: LocalHub,
    private readonly roomId: string,
    private readonly sub: RoomSubscription,
  ) {}

  close(): void {
    this.hub.unsubscribeRoom(this.roomId, this.sub);
  }
}

class UserHandle implements RoomSubscriptionHandle {
  constructor(
    private readonly hub: LocalHub,
    private readonly sink: Sink,
    private readonly channel: UserChannel,
  ) {}

  close(): void {
    this.hub.unsubscribeUser(this.sink, this.channel);
  }
}

export class LocalHub {
  private readonly rooms = new Map<string, Set<RoomSubscription>>();
  private readonly users: Record<UserChannel, Map<string, Set<Sink>>> = { events: new Map(), errors: new Map() };
  private readonly order = new Map<string, RoomOrder>();
  private readonly gapWaitMs: number;

  constructor(private readonly deps: HubDeps) {
    this.gapWaitMs = deps.gapWaitMs ?? 150;
  }

  private toEvent(m: StoredMessage): MessageEvent {
    return this.deps.toEvent ? this.deps.toEvent(m) : messageEvent(m);
  }

  /**
   * Adds a room subscriber. With `sinceId`, every stored message after it is replayed first.
   * `roomLastSeq` is the room's seq as read when access was checked; it seeds the room's order
   * when this is the first local interest in the room (unknown while MySQL is down: the order
   * then starts at the first message that arrives, as nothing can be stored meanwhile).
   * A replay MySQL cannot serve keeps the subscription, holds live events back and is retried
   * until it succeeds, so a client resubscribing during an outage is not turned away.
   */
  async subscribeRoom(roomId: string, sink: Sink, opts: { sinceId?: number; roomLastSeq: number | undefined }): Promise<RoomSubscriptionHandle> {
    // register before the replay query so nothing committed meanwhile is missed: it lands in
    // the buffer and is deduplicated by id against the replay
    const sub: RoomSubscription = { sink, lastId: 0, buffer: opts.sinceId !== undefined ? [] : null, closed: false };
    let set = this.rooms.get(roomId);
    if (!set) this.rooms.set(roomId, (set = new Set()));
    set.add(sub);
    if (!this.order.has(roomId) && opts.roomLastSeq !== undefined) this.order.set(roomId, { lastSeq: opts.roomLastSeq, pending: new Map(), timer: null });
    const handle = new RoomHandle(this, roomId, sub);

    if (opts.sinceId !== undefined) {
      sub.lastId = opts.sinceId;
      try {
        await this.replay(roomId, sub);
      } catch (err) {
        if (!isUnavailable(err)) {
          this.unsubscribeRoom(roomId, sub);
          throw err;
        }
        this.retryReplay(roomId, sub);
      }
    }
    return handle;
  }

  /** stored messages after `sub.lastId`, then the live events held back meanwhile */
  private async replay(roomId: string, sub: RoomSubscription): Promise<void> {
    for (;;) {
      const page = await this.deps.fetchAfter(roomId, sub.lastId, REPLAY_PAGE);
      if (sub.closed) return;
      // straight to the sink: live events that arrived during the query wait in the buffer
      // and come after the replay, deduplicated by id
      for (const m of page) this.pass(sub, new Outgoing(this.toEvent(m)), m.id);
      if (page.length < REPLAY_PAGE) break;
    }
    const held = sub.buffer ?? [];
    sub.buffer = null;
    for (const out of held) this.pass(sub, out, messageId(out));
  }

  private retryReplay(roomId: string, sub: RoomSubscription): void {
    const timer = setTimeout(() => {
      if (sub.closed) return;
      this.replay(roomId, sub).catch(() => this.retryReplay(roomId, sub));
    }, REPLAY_RETRY_MS);
    timer.unref();
  }

  /** rooms with subscribers on this instance, with the seq delivered last (where known) */
  subscribedRooms(): Array<{ roomId: string; lastSeq: number }> {
    const out: Array<{ roomId: string; lastSeq: number }> = [];
    for (const roomId of this.rooms.keys()) {
      const order = this.order.get(roomId);
      if (order) out.push({ roomId, lastSeq: order.lastSeq });
    }
    return out;
  }

  /** @internal RoomHandle.close */
  unsubscribeRoom(roomId: string, sub: RoomSubscription): void {
    sub.closed = true;
    const set = this.rooms.get(roomId);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.rooms.delete(roomId);
    this.dropOrderIfUnused(roomId);
  }

  /** adds a sink to one of the user's own channels */
  subscribeUser(sink: Sink, channel: UserChannel = 'events'): RoomSubscriptionHandle {
    const byUser = this.users[channel];
    let set = byUser.get(sink.userId);
    if (!set) byUser.set(sink.userId, (set = new Set()));
    set.add(sink);
    return new UserHandle(this, sink, channel);
  }

  /** @internal UserHandle.close */
  unsubscribeUser(sink: Sink, channel: UserChannel): void {
    const byUser = this.users[channel];
    const s = byUser.get(sink.userId);
    s?.delete(sink);
    if (s && s.size === 0) byUser.delete(sink.userId);
  }

  /** an event for one user's channel on this instance (no room order applies) */
  toUser(userId: string, channel: UserChannel, event: SendErrorEvent): void {
    const sinks = this.users[channel].get(userId);
    if (!sinks) return;
    const out = new Outgoing(event);
    for (const sink of sinks) safeDeliver(sink, out, this.deps.logger);
  }

  /** an event for local delivery (committed here, or received from another instance) */
  ingest(env: ClientEnvelope): void {
    const { roomId } = env;
    if (!this.interested(env)) {
      // nobody here listens: forget the room's order so a later subscriber starts fresh
      const stale = this.order.get(roomId);
      if (stale) {
        if (stale.timer) clearTimeout(stale.timer);
        this.order.delete(roomId);
      }
      return;
    }
    const out = new Outgoing(env.event);
    if (env.event.type !== 'message' || env.seq === undefined) {
      this.emit(env, out);
      return;
    }
    let order = this.order.get(roomId);
    if (!order) {
      // interest only through /user/queue/events: start ordering from here
      order = { lastSeq: env.seq - 1, pending: new Map(), timer: null };
      this.order.set(roomId, order);
    }
    const seq = env.seq;
    if (seq <= order.lastSeq || order.pending.has(seq)) return; // already delivered or queued
    if (seq !== order.lastSeq + 1) {
      order.pending.set(seq, out);
      this.members.set(roomId, env.members);
      if (!order.timer) {
        order.timer = setTimeout(() => void this.fillGap(roomId), this.gapWaitMs);
        order.timer.unref();
      }
      return;
    }
    order.lastSeq = seq;
    this.emit(env, out);
    this.drainPending(roomId, order, env.members);
  }

  /** members per room, remembered for events delivered later from `pending` */
  private readonly members = new Map<string, string[]>();

  private drainPending(roomId: string, order: RoomOrder, members: string[]): void {
    for (;;) {
      const next = order.pending.get(order.lastSeq + 1);
      if (!next) break;
      order.pending.delete(order.lastSeq + 1);
      order.lastSeq++;
      this.emit({ roomId, members, event: next.event }, next);
    }
    if (order.pending.size === 0) {
      if (order.timer) clearTimeout(order.timer);
      order.timer = null;
      this.members.delete(roomId);
    }
  }

  private async fillGap(roomId: string): Promise<void> {
    const order = this.order.get(roomId);
    if (!order) return;
    order.timer = null;
    if (order.pending.size === 0) return;
    const firstPending = Math.min(...order.pending.keys());
    const members = this.members.get(roomId) ?? [];
    try {
      const missing = await this.deps.fetchSeqRange(roomId, order.lastSeq, firstPending);
      for (const m of missing) {
        if (m.seq === order.lastSeq + 1) {
          order.lastSeq = m.seq;
          const event = this.toEvent(m);
          this.emit({ roomId, members, event }, new Outgoing(event));
        }
      }
      if (order.lastSeq < firstPending - 1) {
        // the database does not have them (cannot happen unless rows were deleted): skip ahead
        this.deps.logger.warn({ roomId, from: order.lastSeq, to: firstPending }, 'room sequence gap skipped');
        order.lastSeq = firstPending - 1;
      }
    } catch (err) {
      // an outage is logged once by the availability tracker, not once per retry
      if (!isUnavailable(err)) this.deps.logger.warn({ err, roomId }, 'gap fill failed; retrying');
      order.timer = setTimeout(() => void this.fillGap(roomId), this.gapWaitMs);
      order.timer.unref();
      return;
    }
    this.drainPending(roomId, order, members);
  }

  private emit(env: { roomId: string; members: readonly string[]; event: RoomEvent }, out: Outgoing<RoomEvent>): void {
    const id = messageId(out);
    const subs = this.rooms.get(env.roomId);
    if (subs) for (const sub of subs) this.toSub(sub, out, id);
    // the user queues get messages, read marks and presence, not typing
    if (env.event.type === 'typing') return;
    for (const userId of env.members) {
      const sinks = this.users.events.get(userId);
      if (sinks) for (const sink of sinks) safeDeliver(sink, out, this.deps.logger);
    }
  }

  private toSub(sub: RoomSubscription, out: Outgoing<RoomEvent>, id: number): void {
    if (sub.closed) return;
    if (sub.buffer) {
      sub.buffer.push(out);
      return;
    }
    this.pass(sub, out, id);
  }

  /** delivers unless the sink already passed this message id */
  private pass(sub: RoomSubscription, out: Outgoing, id: number): void {
    if (sub.closed) return;
    if (id > 0) {
      if (id <= sub.lastId) return;
      sub.lastId = id;
    }
    safeDeliver(sub.sink, out, this.deps.logger);
  }

  private interested(env: RoomEnvelope): boolean {
    if (this.rooms.has(env.roomId)) return true;
    for (const m of env.members) if (this.users.events.has(m)) return true;
    return false;
  }

  private dropOrderIfUnused(roomId: string): void {
    const order = this.order.get(roomId);
    if (!order || this.rooms.has(roomId) || order.pending.size > 0) return;
    this.order.delete(roomId);
  }

  close(): void {
    for (const o of this.order.values()) if (o.timer) clearTimeout(o.timer);
    this.order.clear();
  }
}

function messageId(out: Outgoing): number {
  return out.event.type === 'message' ? Number((out.event as MessageEvent).id) : 0;
}

function safeDeliver(sink: Sink, out: Outgoing, logger: Logger): void {
  try {
    sink.deliver(out);
  } catch (err) {
    logger.error({ err }, 'subscriber delivery failed');
  }
}
