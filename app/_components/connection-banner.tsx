'use client';
/**
 * Says so while the live connection is down, and why: the device is offline, or the server
 * cannot be reached. Floats over the page (no layout jump); the first connect gets a grace
 * period so a normal page load shows nothing.
 */
import { useEffect, useState } from 'react';
import { useChat } from '../_lib/chat-context';

const TEXT = {
  offline: 'You are offline. Messages will be sent when you are back online.',
  reconnecting: 'Connection lost. Reconnecting…',
  connecting: 'Connecting…',
} as const;

export function ConnectionBanner() {
  const { status } = useChat();
  const [slowStart, setSlowStart] = useState(false);
  useEffect(() => {
    if (status !== 'connecting') return;
    const t = setTimeout(() => setSlowStart(true), 2500);
    return () => {
      clearTimeout(t);
      setSlowStart(false);
    };
  }, [status]);
  const text = status === 'connected' || (status === 'connecting' && !slowStart) ? null : TEXT[status];
  return (
    <div className="connection-banner-slot" role="status" aria-live="polite">
      {text && (
        <div className={`connection-banner is-${status}`} data-testid="connection-banner" data-status={status}>
          {status !== 'offline' && <span className="spinner" aria-hidden="true" />}
          {text}
        </div>
      )}
    </div>
  );
}
