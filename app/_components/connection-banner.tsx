'use client';
/**
 * Says so while the live connection is down. Floats over the page (no layout jump); the
 * first connect gets a grace period so a normal page load shows nothing.
 */
import { useEffect, useState } from 'react';
import { useChat } from '../_lib/chat-context';

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
  const show = status === 'reconnecting' || (status === 'connecting' && slowStart);
  return (
    <div className="connection-banner-slot" role="status" aria-live="polite">
      {show && (
        <div className="connection-banner" data-testid="connection-banner">
          <span className="spinner" aria-hidden="true" />
          {status === 'reconnecting' ? 'Connection lost. Reconnecting…' : 'Connecting…'}
        </div>
      )}
    </div>
  );
}
