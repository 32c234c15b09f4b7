'use client';
/**
 * Browser notifications (the Notification API) for messages that arrive while the tab is
 * hidden. Only after the user allowed them (asked from a button, never on page load); one
 * notification per room at a time (`tag`), clicking it brings the tab to that room.
 */
import { useCallback, useEffect, useState } from 'react';
import { previewOf, type ChatMessage, type Room } from './chat-types';

export type NotificationPermissionState = NotificationPermission | 'unsupported';

function supported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function notifyIfHidden(m: ChatMessage, room: Room | undefined): void {
  // a muted room stays quiet here as it does for the push service
  if (!supported() || Notification.permission !== 'granted' || document.visibilityState !== 'hidden' || room?.muted) return;
  const from = room ? room.counterpart.name || room.counterpart.id : 'New message';
  const title = from.charAt(0).toUpperCase() + from.slice(1);
  const text = previewOf(m);
  const body = text.length > 140 ? `${text.slice(0, 139)}…` : text;
  try {
    const n = new Notification(title, { body, tag: `room-${m.roomId}` });
    n.onclick = () => {
      window.focus();
      window.location.assign(`/chat/${m.roomId}`);
      n.close();
    };
  } catch {
    /* some mobile browsers allow notifications only from a service worker */
  }
}

/** the permission, and a function that asks for it (call it from a click) */
export function useNotificationPermission(): [NotificationPermissionState, () => void] {
  const [state, setState] = useState<NotificationPermissionState>('unsupported');
  useEffect(() => {
    if (supported()) setState(Notification.permission);
  }, []);
  const ask = useCallback(() => {
    if (!supported()) return;
    void Notification.requestPermission().then(setState, () => undefined);
  }, []);
  return [state, ask];
}
