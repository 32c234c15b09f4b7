/**
 * LocalHub ordering with an in-memory "database": replay after `x-since` interleaved with live
 * events, and gap filling when a room's events arrive out of order.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { LocalHub, type Outgoing, type Sink } from '../../../server/chat/hub.js';
import { messageEvent, type StoredMessage } from '../../../server/shared/events.js';
import { waitFor } from '../../helpers/wait.js';

const ROOM = '00000000-0000-4000-8000-000000000001';

function stored(n: number): StoredMessage {
  return { id: 100 + n, roomId: ROOM, seq: n, senderId: 'seller', content: `m${n}`, clientMsgId: null, createdAt: new Date(0) };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

class ListSink implements Sink {
  readonly userId = 'buyer';
  readonly got: string[] = [];
  deliver(out: Outgoing) {
    const e = out.event;
    if (e.type === 'message') this.got.push(e.content);
  }
}

function live(hub: LocalHub, n: number) {
  hub.ingest({ roomId: ROOM, members: ['buyer', 'seller'], seq: n, origin: 'here', event: messageEvent(stored(n)) });
}

describe('LocalHub', () => {
  it('replays after x-since first and then the live events that arrived during the replay query, each once', async () => {
    const db = Array.from({ length: 8 }, (_, i) => stored(i + 1));
    const query = deferred<StoredMessage[]>();
    const hub = new LocalHub({
      logger: pino({ level: 'silent' }),
      fetchAfter: () => query.promise,
      fetchSeqRange: async (_room, after, before) => db.filter((m) => m.seq > after && m.seq < before),
    });
    const sink = new ListSink();
    // the client saw m1..m3; the room is at seq 6 when it resubscribes
    const subscribing = hub.subscribeRoom(ROOM, sink, { sinceId: 103, roomLastSeq: 6 });
    // m7 and m8 commit and arrive live while the replay query runs; the query still sees m4..m7
    live(hub, 7);
    live(hub, 8);
    query.resolve(db.filter((m) => m.id > 103 && m.seq <= 7));
    await subscribing;
    live(hub, 9);
    expect(sink.got).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    hub.close();
  });

  it('holds a later event back until the missing one is filled from the database', async () => {
    const db = Array.from({ length: 5 }, (_, i) => stored(i + 1));
    const hub = new LocalHub({
      logger: pino({ level: 'silent' }),
      fetchAfter: async () => [],
      fetchSeqRange: async (_room, after, before) => db.filter((m) => m.seq > after && m.seq < before),
      gapWaitMs: 20,
    });
    const sink = new ListSink();
    await hub.subscribeRoom(ROOM, sink, { roomLastSeq: 2 });
    live(hub, 3);
    live(hub, 5); // 4 was lost on the way
    expect(sink.got).toEqual(['m3']);
    await waitFor(() => sink.got.length >= 3, 'the gap filled');
    expect(sink.got).toEqual(['m3', 'm4', 'm5']);
    live(hub, 4); // arrives late: already delivered, not repeated
    expect(sink.got).toEqual(['m3', 'm4', 'm5']);
    hub.close();
  });

  it('gives each user channel only its own kind: room events on `events` (no typing), rejections on `errors`', async () => {
    const hub = new LocalHub({ logger: pino({ level: 'silent' }), fetchAfter: async () => [], fetchSeqRange: async () => [] });
    const seen: Record<string, string[]> = { events: [], errors: [], other: [] };
    const sinkFor = (userId: string, into: string[]): Sink => ({ userId, deliver: (out) => void into.push(out.event.type) });
    const events = hub.subscribeUser(sinkFor('buyer', seen.events!), 'events');
    hub.subscribeUser(sinkFor('buyer', seen.errors!), 'errors');
    hub.subscribeUser(sinkFor('someone-else', seen.other!), 'errors');

    live(hub, 1);
    hub.ingest({ roomId: ROOM, members: ['buyer', 'seller'], origin: 'here', event: { type: 'typing', roomId: ROOM, userId: 'seller' } });
    hub.toUser('buyer', 'errors', { type: 'error', code: 'FORBIDDEN', message: 'not a member of this room', receipt: 'r-1' });
    expect(seen).toEqual({ events: ['message'], errors: ['error'], other: [] });

    events.close();
    live(hub, 2);
    expect(seen.events).toEqual(['message']);
    hub.close();
  });
});
