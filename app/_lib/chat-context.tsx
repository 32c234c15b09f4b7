'use client';
/**
 * The signed-in user's chat state shared by the header, the room list and the chat view:
 * the room list (tRPC `rooms.list`, one infinite query in the cache: the newest page first,
 * older pages appended on request) kept live from `/user/queue/events`, the total unread
 * count (also the tab title's badge), a browser notification for a message that arrives
 * while the tab is hidden, which room is open, and the rejections of this tab's SENDs from `/user/queue/errors`
 * (one subscription per connection: the server keeps one per session).
 */
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { asDeleted, asRoomEvent, asSendError, idGreater, type Room, type RoomEvent, type SendErrorEvent } from './chat-types';
import { notifyIfHidden } from './notifications';
import { useTRPC } from './trpc';
import { useStomp, useStompSubscription, type ConnectionStatus, type StompConnection } from './use-stomp';

export interface Me {
  id: string;
  name: string;
}

interface ChatContextValue {
  me: Me;
  connection: StompConnection;
  status: ConnectionStatus;
  generation: number;
  /** the loaded pages as one list, most recent activity first */
  rooms: Room[] | undefined;
  roomsError: string | null;
  /** the server has rooms older than the last loaded page */
  hasOlderRooms: boolean;
  loadingOlderRooms: boolean;
  olderRoomsError: string | null;
  /** fetches the next page; resolves to the ids of the rooms it added (none when it failed) */
  loadOlderRooms(): Promise<string[]>;
  totalUnread: number;
  /** the room shown in the chat view: its new messages are read, not unread */
  setOpenRoom(roomId: string | null): void;
  onSendError(listener: (e: SendErrorEvent) => void): () => void;
  /** changes one room wherever it is cached (list and view); the update returns null for "no change" */
  updateRoom(roomId: string, update: (room: Room) => Room | null): boolean;
  /** takes a room off the list (left): it comes back with its next message */
  dropRoom(roomId: string): void;
}

const ChatContext = createContext<ChatContextValue | null>(null);

/** one page of the room list; the cursor of the next page is added by the infinite query */
export const ROOM_LIST_INPUT = { limit: 50 } as const;

/** the server's order: last activity, then id, both descending */
function byActivity(a: Room, b: Room): number {
  if (a.lastActivityAt !== b.lastActivityAt) return a.lastActivityAt < b.lastActivityAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function ChatProvider({ me, children }: { me: Me; children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { connection, status, generation } = useStomp();
  const openRoom = useRef<string | null>(null);
  const errorListeners = useRef(new Set<(e: SendErrorEvent) => void>());

  const listKey = useMemo(() => trpc.rooms.list.infiniteQueryKey(ROOM_LIST_INPUT), [trpc]);
  const list = useInfiniteQuery(trpc.rooms.list.infiniteQueryOptions(ROOM_LIST_INPUT, { getNextPageParam: (last) => last.nextCursor }));

  // a reconnect may have missed events: ask again (the first CONNECTED needs nothing)
  const seenGeneration = useRef(0);
  useEffect(() => {
    if (generation > 1 && generation !== seenGeneration.current) {
      void queryClient.invalidateQueries(trpc.rooms.list.pathFilter());
      void queryClient.invalidateQueries({ queryKey: trpc.rooms.get.queryKey() });
    }
    seenGeneration.current = generation;
  }, [generation, queryClient, trpc]);

  const updateRoom = useCallback(
    (roomId: string, update: (room: Room) => Room | null) => {
      let found = false;
      // the room is updated in whichever page holds it; the order across pages is made where
      // the pages are joined. Each page keeps the cursor it was fetched with: a room that moves
      // up only gets newer, so the next page (rooms older than that cursor) cannot repeat it.
      queryClient.setQueryData(listKey, (old) => {
        if (!old) return old;
        const pages = old.pages.map((page) => {
          if (!page.rooms.some((r) => r.id === roomId)) return page;
          found = true;
          return { ...page, rooms: page.rooms.map((r) => (r.id === roomId ? (update(r) ?? r) : r)) };
        });
        return { ...old, pages };
      });
      queryClient.setQueryData<Room>(trpc.rooms.get.queryKey({ roomId }), (old) => (old ? (update(old) ?? old) : old));
      return found;
    },
    [queryClient, listKey, trpc],
  );

  const applyEvent = useCallback(
    (ev: RoomEvent) => {
      let known = true;
      switch (ev.type) {
        case 'message':
          known = updateRoom(ev.roomId, (r) => {
            if (r.lastMessage && !idGreater(ev.id, r.lastMessage.id)) return null; // seen already
            // the open room counts too while the tab is hidden: nobody is reading it (title badge)
            const unread = ev.senderId !== me.id && (openRoom.current !== ev.roomId || document.visibilityState === 'hidden');
            return {
              ...r,
              lastMessage: ev,
              lastActivityAt: ev.createdAt > r.lastActivityAt ? ev.createdAt : r.lastActivityAt,
              unreadCount: unread ? r.unreadCount + 1 : r.unreadCount,
            };
          });
          break;
        case 'read':
          known = updateRoom(ev.roomId, (r) => {
            if (ev.userId === me.id) {
              const all = !r.lastMessage || !idGreater(r.lastMessage.id, ev.messageId);
              return { ...r, lastReadMessageId: ev.messageId, unreadCount: all ? 0 : r.unreadCount };
            }
            if (!idGreater(ev.messageId, r.counterpart.lastReadMessageId)) return null;
            return { ...r, counterpart: { ...r.counterpart, lastReadMessageId: ev.messageId } };
          });
          break;
        case 'deleted':
          known = updateRoom(ev.roomId, (r) => (r.lastMessage && r.lastMessage.id === ev.messageId ? { ...r, lastMessage: asDeleted(r.lastMessage) } : null));
          break;
        case 'presence':
          known = updateRoom(ev.roomId, (r) =>
            r.counterpart.id === ev.userId ? { ...r, counterpart: { ...r.counterpart, online: ev.online } } : null,
          );
          break;
        default:
          return;
      }
      // a room we have not listed yet (someone opened a chat with us): fetch the list again
      // (or one on a page not loaded yet: it comes back on the first page, now the newest)
      if (!known && ev.type === 'message') void queryClient.invalidateQueries(trpc.rooms.list.pathFilter());
    },
    [updateRoom, me.id, queryClient, trpc],
  );

  useStompSubscription(connection, '/user/queue/events', (body) => {
    const ev = asRoomEvent(body);
    if (!ev) return;
    applyEvent(ev);
    if (ev.type === 'message' && ev.senderId !== me.id) notifyIfHidden(ev, roomsRef.current?.find((r) => r.id === ev.roomId));
  });
  useStompSubscription(connection, '/user/queue/errors', (body) => {
    const ev = asSendError(body);
    if (ev) for (const l of errorListeners.current) l(ev);
  });

  const pages = list.data?.pages;
  const rooms = useMemo(() => {
    if (!pages) return undefined;
    // a refetch in the middle of paging could list a room twice: the newest copy wins
    const seen = new Set<string>();
    return pages
      .flatMap((p) => p.rooms)
      .sort(byActivity)
      .filter((r) => !seen.has(r.id) && seen.add(r.id));
  }, [pages]);
  const roomsRef = useRef(rooms);
  useEffect(() => {
    roomsRef.current = rooms;
  }, [rooms]);
  const totalUnread = useMemo(() => (rooms ?? []).reduce((n, r) => n + r.unreadCount, 0), [rooms]);

  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) Re:Use Chat` : 'Re:Use Chat';
  }, [totalUnread]);

  const setOpenRoom = useCallback(
    (roomId: string | null) => {
      openRoom.current = roomId;
    },
    [],
  );
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadOlderRooms = useCallback(async () => {
    if (!hasNextPage || isFetchingNextPage) return [];
    const listed = new Set(queryClient.getQueryData(listKey)?.pages.flatMap((p) => p.rooms.map((r) => r.id)));
    const res = await fetchNextPage();
    if (res.isFetchNextPageError) return [];
    return (res.data?.pages ?? []).flatMap((p) => p.rooms.map((r) => r.id)).filter((id) => !listed.has(id));
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, queryClient, listKey]);

  const dropRoom = useCallback(
    (roomId: string) => {
      queryClient.setQueryData(listKey, (old) =>
        old ? { ...old, pages: old.pages.map((page) => ({ ...page, rooms: page.rooms.filter((r) => r.id !== roomId) })) } : old,
      );
    },
    [queryClient, listKey],
  );

  const onSendError = useCallback((listener: (e: SendErrorEvent) => void) => {
    errorListeners.current.add(listener);
    return () => void errorListeners.current.delete(listener);
  }, []);

  const value: ChatContextValue = useMemo(
    () => ({
      me,
      connection,
      status,
      generation,
      rooms,
      roomsError: list.error ? list.error.message : null,
      hasOlderRooms: hasNextPage,
      loadingOlderRooms: isFetchingNextPage,
      olderRoomsError: list.isFetchNextPageError ? list.error.message : null,
      loadOlderRooms,
      totalUnread,
      setOpenRoom,
      onSendError,
      updateRoom,
      dropRoom,
    }),
    [me, connection, status, generation, rooms, list.error, list.isFetchNextPageError, hasNextPage, isFetchingNextPage, loadOlderRooms, totalUnread, setOpenRoom, onSendError, updateRoom, dropRoom],
  );
  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

export function useChat(): ChatContextValue {
  const ctx = useContext(ChatContext);
  if (!ctx) throw new Error('useChat must be used inside <ChatProvider>');
  return ctx;
}

/** the other side's readable name */
export function counterpartName(room: Pick<Room, 'counterpart'>): string {
  const { id, name } = room.counterpart;
  const n = name && name !== id ? name : id;
  return n.charAt(0).toUpperCase() + n.slice(1);
}
