'use client';
/**
 * The signed-in user's rooms, newest activity first: the first page of `rooms.list`, and older
 * pages appended by "Show older conversations" while the server says there are more.
 */
import Link from 'next/link';
import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { counterpartName, useChat } from '../_lib/chat-context';
import { productById } from '../_lib/catalogue';
import { previewOf } from '../_lib/chat-types';
import { useNotificationPermission } from '../_lib/notifications';
import { Avatar } from './avatar';
import { formatListTime } from './format';
import { UnreadBadge } from './unread-badge';

export function RoomList({ activeRoomId }: { activeRoomId: string | null }) {
  const { rooms, roomsError, me, status, hasOlderRooms, loadingOlderRooms, olderRoomsError, loadOlderRooms } = useChat();
  const [permission, askPermission] = useNotificationPermission();
  // presence is only known while this page is connected: no dot at all otherwise
  const presenceOf = (online: boolean | null) => (status === 'connected' && online !== null ? online : undefined);
  const listRef = useRef<HTMLUListElement>(null);
  const moreRef = useRef<HTMLButtonElement>(null);
  const [focusRoom, setFocusRoom] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');

  // focus follows the button to the first room it brought in (the button itself may be gone:
  // the last page removes it), unless the user went somewhere else in the meantime
  useEffect(() => {
    if (!focusRoom) return;
    const link = listRef.current?.querySelector<HTMLElement>(`[data-room="${CSS.escape(focusRoom)}"]`);
    if (!link) return;
    setFocusRoom(null);
    const active = document.activeElement;
    if (!active || active === document.body || active === moreRef.current) link.focus();
  }, [focusRoom, rooms]);

  async function showOlder(e: MouseEvent<HTMLButtonElement>) {
    // aria-disabled rather than disabled while loading: a disabled button would drop the focus
    if (loadingOlderRooms) return;
    const hadFocus = document.activeElement === e.currentTarget;
    setAnnouncement('');
    const added = await loadOlderRooms();
    if (added.length === 0) return;
    setAnnouncement(`${added.length} older ${added.length === 1 ? 'conversation' : 'conversations'} loaded`);
    if (hadFocus) setFocusRoom(added[0]!);
  }

  return (
    <div className="room-list">
      <div className="room-list-head">
        <h2 className="room-list-title">Chats</h2>
        {permission === 'default' && (
          <button type="button" className="btn btn-ghost btn-small" onClick={askPermission} data-testid="enable-notifications">
            Notify me
          </button>
        )}
      </div>
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
        <ul className="rooms" data-testid="room-list" ref={listRef}>
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
                  <Avatar id={room.counterpart.id} name={name} online={presenceOf(room.counterpart.online)} />
                  <span className="room-main">
                    <span className="room-top">
                      <span className="room-name">{name}</span>
                      {room.muted && (
                        <span className="room-muted" title="Muted" data-testid="room-muted">
                          <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
                            <path fill="currentColor" d="M3 9h4l5-4v14l-5-4H3zm13.6 0L15 10.6l1.4 1.4-1.4 1.4 1.6 1.6 1.4-1.4 1.4 1.4L21 13.4 19.4 12l1.4-1.4L19.4 9l-1.4 1.4z" />
                          </svg>
                          <span className="sr-only">, muted</span>
                        </span>
                      )}
                      {room.blocked && room.blocked !== 'none' && (
                        <span className="room-blocked" data-testid="room-blocked">
                          Blocked
                        </span>
                      )}
                      {last && (
                        <time className="room-time" dateTime={last.createdAt}>
                          {formatListTime(last.createdAt)}
                        </time>
                      )}
                    </span>
                    <span className="room-product">{product?.title ?? room.productId}</span>
                    <span className="room-bottom">
                      <span className="room-preview">
                        {last ? `${last.senderId === me.id ? 'You: ' : ''}${previewOf(last)}` : <em>No messages yet</em>}
                      </span>
                      <UnreadBadge count={unread} testId="unread-badge" />
                    </span>
                    <span className="sr-only">{presenceOf(room.counterpart.online) ? ', online' : ''}</span>
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      {rooms && rooms.length > 0 && hasOlderRooms && (
        <div className="room-list-more">
          <button
            type="button"
            ref={moreRef}
            className="btn btn-secondary btn-block"
            aria-disabled={loadingOlderRooms || undefined}
            onClick={(e) => void showOlder(e)}
            data-testid="older-rooms"
          >
            {loadingOlderRooms ? (
              <>
                <span className="spinner" aria-hidden="true" />
                Loading older conversations…
              </>
            ) : (
              'Show older conversations'
            )}
          </button>
          {olderRoomsError && (
            <p className="form-error" role="alert">
              Could not load older conversations: {olderRoomsError}
            </p>
          )}
        </div>
      )}
      <p className="sr-only" role="status" aria-atomic="true">
        {announcement}
      </p>
    </div>
  );
}
