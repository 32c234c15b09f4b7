'use client';
import Link from 'next/link';
import { counterpartName, useChat } from '../_lib/chat-context';
import { productById } from '../_lib/catalogue';
import { Avatar } from './avatar';
import { formatListTime } from './format';
import { UnreadBadge } from './unread-badge';

export function RoomList({ activeRoomId }: { activeRoomId: string | null }) {
  const { rooms, roomsError, me } = useChat();

  return (
    <div className="room-list">
      <h2 className="room-list-title">Chats</h2>
      {roomsError && !rooms && (
        <p className="form-error" role="alert">
          Could not load your chats: {roomsError}
        </p>
      )}
      {!rooms && !roomsError && (
        <ul className="rooms" aria-busy="true" aria-label="Loading chats">
          {[0, 1, 2].map((i) => (
            <li key={i} className="room-skeleton" />
          ))}
        </ul>
      )}
      {rooms && rooms.length === 0 && (
        <div className="room-list-empty">
          <p>No chats yet.</p>
          <p className="muted small">
            Find something in the <Link href="/">catalogue</Link> and ask the seller.
          </p>
        </div>
      )}
      {rooms && rooms.length > 0 && (
        <ul className="rooms" data-testid="room-list">
          {rooms.map((room) => {
            const name = counterpartName(room);
            const product = productById(room.productId);
            const last = room.lastMessage;
            const active = room.id === activeRoomId;
            const unread = active ? 0 : room.unreadCount;
            return (
              <li key={room.id}>
                <Link
                  href={`/chat/${room.id}`}
                  className={`room-item ${active ? 'is-active' : ''} ${unread > 0 ? 'has-unread' : ''}`}
                  aria-current={active ? 'page' : undefined}
                  data-room={room.id}
                  data-testid="room-item"
                >
                  <Avatar id={room.counterpart.id} name={name} online={room.counterpart.online === true} />
                  <span className="room-main">
                    <span className="room-top">
                      <span className="room-name">{name}</span>
                      {last && (
                        <time className="room-time" dateTime={last.createdAt}>
                          {formatListTime(last.createdAt)}
                        </time>
                      )}
                    </span>
                    <span className="room-product">{product?.title ?? room.productId}</span>
                    <span className="room-bottom">
                      <span className="room-preview">
                        {last ? `${last.senderId === me.id ? 'You: ' : ''}${last.content}` : <em>No messages yet</em>}
                      </span>
                      <UnreadBadge count={unread} testId="unread-badge" />
                    </span>
                    <span className="sr-only">{room.counterpart.online ? ', online' : ''}</span>
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
