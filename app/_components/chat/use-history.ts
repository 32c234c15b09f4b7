'use client';
/**
 * The stored messages of one room: the first history page (reaching back to the first unread
 * message when there are unread ones), older pages on request, and live events from STOMP.
 *
 * Ordering and gaps: the room is subscribed only after the first page is in, with
 * `x-since: <newest id we have>` on every (re)connect, so the server fills whatever happened in
 * between; messages are kept by id, so a message that comes both ways shows once.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { asDeleted, asRoomEvent, idGreater, type ChatMessage, type Room, type RoomEvent } from '../../_lib/chat-types';
import { useTRPCClient } from '../../_lib/trpc';
import { useStompSubscription, type StompConnection } from '../../_lib/use-stomp';

export const PAGE_SIZE = 30;
/** the server's page limit */
const MAX_PAGE = 100;
/** how far back the first load goes to reach the first unread message */
const MAX_UNREAD_REACH = 1_000;

function byId(a: ChatMessage, b: ChatMessage): number {
  return a.id === b.id ? 0 : idGreater(a.id, b.id) ? 1 : -1;
}

export interface HistoryOptions {
  roomId: string;
  room: Room | undefined;
  meId: string;
  connection: StompConnection;
  /** every batch of stored messages (pages, live, resync): the outbox reconciles with it */
  onStored(messages: ChatMessage[]): void;
  /** other live events of this room (read marks, typing, presence) */
  onEvent(ev: Exclude<RoomEvent, ChatMessage | { type: 'deleted' }>): void;
  /** a live message from the other side */
  onIncoming(m: ChatMessage): void;
  /** a message of this room was deleted (live event) */
  onDeleted(messageId: string): void;
  /** called just before older messages are put above the ones shown */
  beforePrepend(): void;
}

export function useHistory({ roomId, room, meId, connection, onStored, onEvent, onIncoming, onDeleted, beforePrepend }: HistoryOptions) {
  const api = useTRPCClient();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  /** the first message that was unread when the room opened: where the divider goes */
  const [firstUnreadId, setFirstUnreadId] = useState<string | null>(null);
  /** newest stored message id we hold: the `x-since` of every (re)subscribe */
  const newestId = useRef<string | null>(null);
  const callbacks = useRef({ onStored, onEvent, onIncoming, onDeleted, beforePrepend });
  useEffect(() => {
    callbacks.current = { onStored, onEvent, onIncoming, onDeleted, beforePrepend };
  });

  const merge = useCallback((incoming: ChatMessage[]) => {
    if (incoming.length === 0) return;
    for (const m of incoming) if (!newestId.current || idGreater(m.id, newestId.current)) newestId.current = m.id;
    setMessages((prev) => {
      const map = new Map(prev.map((m) => [m.id, m]));
      let changed = false;
      for (const m of incoming) {
        const held = map.get(m.id);
        // a message is only ever replaced by its tombstone (deleted since we got it)
        if (!held || (m.deleted && !held.deleted)) {
          map.set(m.id, m);
          changed = true;
        }
      }
      return changed ? [...map.values()].sort(byId) : prev;
    });
    callbacks.current.onStored(incoming);
  }, []);

  /** the sender deleted a message: it stays in its place as "Message deleted" */
  const markDeleted = useCallback((messageId: string) => {
    setMessages((prev) => (prev.some((m) => m.id === messageId && !m.deleted) ? prev.map((m) => (m.id === messageId ? asDeleted(m) : m)) : prev));
  }, []);

  const started = useRef(false);
  const loadFirstPage = useCallback(
    async (opening: Pick<Room, 'lastReadMessageId' | 'unreadCount'>) => {
      setLoadError(null);
      try {
        const unread = opening.unreadCount;
        const lastRead = opening.lastReadMessageId;
        let res = await api.history.list.query({ roomId, limit: Math.min(MAX_PAGE, Math.max(PAGE_SIZE, unread + 10)) });
        const got = [...res.messages];
        // a busy room opens at its first unread message: reach back until we hold it
        const reachesBack = () => got.length === 0 || !idGreater(got[got.length - 1]!.id, lastRead);
        while (unread > 0 && res.nextCursor && !reachesBack() && got.length < MAX_UNREAD_REACH) {
          res = await api.history.list.query({ roomId, limit: MAX_PAGE, before: res.nextCursor });
          got.push(...res.messages);
        }
        if (unread > 0) {
          const first = [...got].reverse().find((m) => m.senderId !== meId && idGreater(m.id, lastRead));
          setFirstUnreadId(first?.id ?? null);
        }
        merge(got);
        setOlderCursor(res.nextCursor);
        setLoaded(true);
      } catch (err) {
        setLoadError(err instanceof Error ? err.message : 'Could not load the conversation.');
      }
    },
    [api, roomId, meId, merge],
  );

  useEffect(() => {
    if (!room || started.current) return;
    started.current = true;
    void loadFirstPage(room);
  }, [room, loadFirstPage]);

  const retryFirstPage = useCallback(() => {
    if (room) void loadFirstPage(room);
  }, [room, loadFirstPage]);

  const loadOlder = useCallback(async () => {
    if (!olderCursor || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const res = await api.history.list.query({ roomId, limit: PAGE_SIZE, before: olderCursor });
      callbacks.current.beforePrepend();
      merge(res.messages);
      setOlderCursor(res.nextCursor);
    } catch {
      /* the user can scroll up again */
    } finally {
      setLoadingOlder(false);
    }
  }, [api, roomId, olderCursor, loadingOlder, merge]);

  useStompSubscription(
    connection,
    loaded ? `/sub/chat/room/${roomId}` : null,
    (body) => {
      const ev = asRoomEvent(body);
      if (!ev || ev.roomId !== roomId) return;
      if (ev.type === 'message') {
        if (ev.senderId !== meId) callbacks.current.onIncoming(ev);
        merge([ev]);
      } else if (ev.type === 'deleted') {
        markDeleted(ev.messageId);
        callbacks.current.onDeleted(ev.messageId);
      } else {
        callbacks.current.onEvent(ev);
      }
    },
    () => ({ 'x-since': newestId.current ?? '0' }),
  );

  return { messages, loaded, loadError, olderCursor, loadingOlder, firstUnreadId, retryFirstPage, loadOlder, markDeleted };
}
