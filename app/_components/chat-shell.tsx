'use client';
/**
 * Room list beside the conversation at desktop width; on phones they are separate screens
 * (the list on /chat, the conversation on /chat/<roomId>).
 */
import { useParams } from 'next/navigation';
import type { ReactNode } from 'react';
import { RoomList } from './room-list';

export function ChatShell({ children }: { children: ReactNode }) {
  const params = useParams<{ roomId?: string }>();
  const roomId = typeof params.roomId === 'string' ? params.roomId : null;
  return (
    <div className={`chat-shell ${roomId ? 'has-room' : 'no-room'}`}>
      <aside className="chat-sidebar" aria-label="Chats">
        <RoomList activeRoomId={roomId} />
      </aside>
      <section className="chat-pane">{children}</section>
    </div>
  );
}
