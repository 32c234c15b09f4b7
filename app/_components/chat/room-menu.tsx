'use client';
/**
 * The room header's "More" menu: mute or unmute, block or unblock, report the user, leave the
 * chat. A disclosure button with a menu of buttons: Esc or a click outside closes it and focus
 * goes back to the button.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { Room } from '../../_lib/chat-types';

export type RoomAction = 'mute' | 'unmute' | 'block' | 'unblock' | 'report' | 'leave';

export function RoomMenu({ room, onAction }: { room: Room; onAction(action: RoomAction): void }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLButtonElement>('button')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onDown = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onDown);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onDown);
    };
  }, [open]);

  const choose = (action: RoomAction) => {
    setOpen(false);
    onAction(action);
  };
  const blockedByMe = room.blocked === 'byMe';

  return (
    <div className="room-menu">
      <button
        ref={button}
        type="button"
        className="icon-button"
        aria-label="Chat options"
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((o) => !o)}
        data-testid="room-menu-button"
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <circle cx="12" cy="5" r="2" fill="currentColor" />
          <circle cx="12" cy="12" r="2" fill="currentColor" />
          <circle cx="12" cy="19" r="2" fill="currentColor" />
        </svg>
      </button>
      {open && (
        <div ref={menu} id={menuId} className="room-menu-list" data-testid="room-menu">
          <button type="button" onClick={() => choose(room.muted ? 'unmute' : 'mute')} data-testid="menu-mute">
            {room.muted ? 'Unmute notifications' : 'Mute notifications'}
          </button>
          <button type="button" onClick={() => choose(blockedByMe ? 'unblock' : 'block')} data-testid="menu-block">
            {blockedByMe ? 'Unblock' : 'Block'}
          </button>
          <button type="button" onClick={() => choose('report')} data-testid="menu-report">
            Report user
          </button>
          <button type="button" className="is-danger" onClick={() => choose('leave')} data-testid="menu-leave">
            Leave chat
          </button>
        </div>
      )}
    </div>
  );
}
