'use client';
/**
 * Read marks both ways: ours go out for the newest message from the other side while the tab
 * is visible and connected (forward only); theirs decide which of our messages shows "Read".
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { idGreater, type ChatMessage, type Room } from '../../_lib/chat-types';
import type { ConnectionStatus, StompConnection } from '../../_lib/use-stomp';

export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    const onVisibility = () => setVisible(document.visibilityState === 'visible');
    onVisibility();
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);
  return visible;
}

export function useReadMarks(opts: {
  roomId: string;
  room: Room | undefined;
  messages: ChatMessage[];
  meId: string;
  connection: StompConnection;
  status: ConnectionStatus;
  generation: number;
}): { lastReadMine: string | null } {
  const { roomId, room, messages, meId, connection, status, generation } = opts;
  const visible = usePageVisible();
  const readSent = useRef('0');

  const newestFromThem = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m && m.senderId !== meId) return m.id;
    }
    return null;
  }, [messages, meId]);

  useEffect(() => {
    if (!newestFromThem || !visible || status !== 'connected') return;
    if (!idGreater(newestFromThem, readSent.current)) return;
    if (room && !idGreater(newestFromThem, room.lastReadMessageId)) {
      readSent.current = newestFromThem;
      return;
    }
    if (connection.publish(`/pub/room/${roomId}/read`, { messageId: newestFromThem })) readSent.current = newestFromThem;
  }, [newestFromThem, visible, status, generation, connection, roomId, room]);

  const readUpTo = room?.counterpart.lastReadMessageId ?? '0';
  const lastReadMine = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m && m.senderId === meId && !idGreater(m.id, readUpTo)) return m.id;
    }
    return null;
  }, [messages, meId, readUpTo]);

  return { lastReadMine };
}
