'use client';
/**
 * The signed-in user's chat state shared by the header, the room list and the chat view:
 * the room list (tRPC `rooms.list`, kept in the query cache) kept live from
 * `/user/queue/events`, the total unread count, which room is open, and the rejections of
 * this tab's SENDs from `/user/queue/errors` (one subscription per connection: the server
 * keeps one per session).
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { asRoomEvent, asSendError, idGreater, type Room, type RoomEvent, type RoomList, type SendErrorEvent } from './chat-types';
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
  rooms: Room[] | undefined;
  roomsError: string | null;
  totalUnread: number;
  /** the room shown in the chat view: its new messages are read, not unread */
  setOpenRoom(roomId: string | null): void;
  onSendError(listener: (e: SendErrorEvent) => void): () => void;
}

const ChatContext = createContext<ChatContextValue | null>(null);

export const ROOM_LIST_INPUT = { limit: 50 } as const;

export function ChatProvider({ me, children }: { me: Me; children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { connection, status, generation } = useStomp();
  const openRoom = useRef<string | null>(null);
  const errorListeners = useRef(new Set<(e: SendErrorEvent) => void>());

  const listKey = trpc.rooms.list.queryKey(ROOM_LIST_INPUT);
  const list = useQuery(trpc.rooms.list.queryOptions(ROOM_LIST_INPUT));

  // a reconnect may have missed events: ask again (the first CONNECTED needs nothing)
  const seenGeneration = useRef(0);
  useEffect(() => {
    if (generation > 1 && generation !== seenGeneration.current) {
      void queryClient.invalidateQueries({ queryKey: trpc.rooms.list.queryKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.rooms.get.queryKey() });
    }
    seenGeneration.current = generation;
  }, [generation, queryClient, trpc]);

  const updateRoom = useCallback(
    (roomId: string, update: (room: Room) => Room | null) => {
      let found = false;
      queryClient.setQueryData<RoomList>(listKey, (old) => {
        if (!old) return old;
        const rooms = old.rooms.map((r) => {
          if (r.id !== roomId) return r;
          found = true;
          return update(r) ?? r;
        });
        rooms.sort((a, b) => (a.lastActivityAt < b.lastActivityAt ? 1 : a.lastActivityAt > b.lastActivityAt ? -1 : 0));
        return { ...old, rooms };
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
            const unread = ev.senderId !== me.id && openRoom.current !== ev.roomId;
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
        case 'presence':
          known = updateRoom(ev.roomId, (r) =>
            r.counterpart.id === ev.userId ? { ...r, counterpart: { ...r.counterpart, online: ev.online } } : null,
          );
          break;
        default:
          return;
      }
      // a room we have not listed yet (someone opened a chat with us): fetch the list again
      if (!known && ev.type === 'message') void queryClient.invalidateQueries({ queryKey: trpc.rooms.list.queryKey() });
    },
    [updateRoom, me.id, queryClient, trpc],
  );

  useStompSubscription(connection, '/user/queue/events', (body) => {
    const ev = asRoomEvent(body);
    if (ev) applyEvent(ev);
  });
  useStompSubscription(connection, '/user/queue/errors', (body) => {
    const ev = asSendError(body);
    if (ev) for (const l of errorListeners.current) l(ev);
  });

  const rooms = list.data?.rooms;
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
      totalUnread,
      setOpenRoom,
      onSendError,
    }),
    [me, connection, status, generation, rooms, list.error, totalUnread, setOpenRoom, onSendError],
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
