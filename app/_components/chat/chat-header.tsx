'use client';
/**
 * The room's header: who the other side is (online, last seen, or unknown while this page is
 * not connected), and which product the chat is about, linked to its listing. On phones the
 * product keeps its title and price on a line of its own.
 */
import Link from 'next/link';
import { formatPrice, productById } from '../../_lib/catalogue';
import { counterpartName } from '../../_lib/chat-context';
import type { Room } from '../../_lib/chat-types';
import type { ConnectionStatus } from '../../_lib/use-stomp';
import { Avatar } from '../avatar';
import { formatLastSeen } from '../format';
import { ProductIcon } from '../product-icon';
import { RoomMenu, type RoomAction } from './room-menu';

export function presenceLabel(status: ConnectionStatus, online: boolean | null, lastSeen: string | null): { text: string; state: 'online' | 'offline' | 'unknown' } {
  // while this page is not connected it cannot know: short, so the header keeps its height
  if (status !== 'connected' || online === null) return { text: 'Status unknown', state: 'unknown' };
  if (online) return { text: 'Online', state: 'online' };
  return { text: lastSeen ? `Last seen ${formatLastSeen(lastSeen)}` : 'Offline', state: 'offline' };
}

export function ChatHeader({ room, status, lastSeen, onAction }: { room: Room | undefined; status: ConnectionStatus; lastSeen: string | null; onAction(action: RoomAction): void }) {
  const name = room ? counterpartName(room) : '';
  const product = room ? productById(room.productId) : undefined;
  const presence = room ? presenceLabel(status, room.counterpart.online, lastSeen) : null;
  return (
    <header className="chat-header" data-testid="chat-header">
      <Link href="/chat" className="back-link" aria-label="Back to chats">
        <span aria-hidden="true">‹</span>
      </Link>
      {room && presence ? (
        <>
          <Avatar id={room.counterpart.id} name={name} online={presence.state === 'unknown' ? undefined : presence.state === 'online'} />
          <div className="chat-header-main">
            <h1 className="chat-title">{name}</h1>
            <p className="chat-subtitle">
              <span className={`status-text is-${presence.state}`} data-testid="counterpart-status" data-state={presence.state}>
                {presence.text}
              </span>
              <span aria-hidden="true"> · </span>
              <span>{room.role === 'buyer' ? 'Seller' : 'Buyer'}</span>
              {room.blocked && room.blocked !== 'none' && (
                <>
                  <span aria-hidden="true"> · </span>
                  <span className="status-blocked" data-testid="header-blocked">
                    Blocked
                  </span>
                </>
              )}
            </p>
          </div>
          <Link
            href={`/?product=${encodeURIComponent(room.productId)}#product-${encodeURIComponent(room.productId)}`}
            className="chat-product"
            title={product?.title ?? room.productId}
            data-testid="chat-product"
          >
            {product && (
              <span className="chat-product-tile" style={{ background: product.colour }} aria-hidden="true">
                <ProductIcon name={product.icon} colour={product.ink} size={24} />
              </span>
            )}
            <span className="chat-product-text">
              <span className="chat-product-title">{product?.title ?? room.productId}</span>
              {product && <span className="chat-product-price">{formatPrice(product.price)}</span>}
            </span>
          </Link>
          <RoomMenu room={room} onAction={onAction} />
        </>
      ) : (
        <div className="chat-header-main">
          <span className="skeleton-line" />
        </div>
      )}
    </header>
  );
}
