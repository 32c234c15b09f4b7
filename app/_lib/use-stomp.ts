'use client';
/**
 * The tab's STOMP connection for React: one `StompConnection` (stomp-connection.ts) shared by
 * every component through `useStomp()`, and `useStompSubscription` for a destination that is
 * subscribed while a component is mounted.
 */
import type { IMessage } from '@stomp/stompjs';
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { browserNetwork, StompConnection, type ConnectionSnapshot } from './stomp-connection';
import { useTRPCClient, type TrpcClient } from './trpc';

export { StompConnection, type ConnectionSnapshot, type ConnectionStatus } from './stomp-connection';

function isUnauthorized(err: unknown): boolean {
  const data = (err as { data?: { code?: string } } | null)?.data;
  return data?.code === 'UNAUTHORIZED';
}

function browserConnection(api: TrpcClient): StompConnection {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return new StompConnection({
    brokerURL: `${scheme}://${window.location.host}/ws-stomp`,
    network: browserNetwork,
    fetchToken: async () => {
      try {
        return await api.auth.socketToken.mutate();
      } catch (err) {
        if (isUnauthorized(err)) {
          // the session itself is gone: sign in again and come back here
          const back = window.location.pathname + window.location.search;
          window.location.assign(`/signin?callbackUrl=${encodeURIComponent(back)}`);
        }
        throw err;
      }
    },
  });
}

let shared: StompConnection | null = null;

/** the tab's STOMP connection, kept open while any component uses it */
export function useStomp(): { connection: StompConnection } & ConnectionSnapshot {
  const api = useTRPCClient();
  // made on first use in the browser only (components also render on the server)
  if (typeof window !== 'undefined') shared ??= browserConnection(api);
  const connection = shared;
  useEffect(() => {
    connection?.acquire();
    return () => connection?.release();
  }, [connection]);
  const snap = useSyncExternalStore(
    connection ? connection.subscribeStatus : noSubscribe,
    connection ? connection.getSnapshot : serverSnapshot,
    serverSnapshot,
  );
  return { connection: connection ?? SERVER_PLACEHOLDER, ...snap };
}

const SERVER_SNAPSHOT: ConnectionSnapshot = { status: 'connecting', generation: 0 };
const serverSnapshot = () => SERVER_SNAPSHOT;
const noSubscribe = () => () => undefined;
/** server rendering never connects: a connection that is never acquired */
const SERVER_PLACEHOLDER = new StompConnection({
  brokerURL: 'ws://localhost/ws-stomp',
  network: { online: () => false, watch: () => () => undefined },
  fetchToken: () => Promise.reject(new Error('no socket on the server')),
});

/**
 * Subscribes `destination` while the component is mounted (and `destination` is not null).
 * The handler and headers are read through refs, so re-renders do not re-subscribe.
 */
export function useStompSubscription(
  connection: StompConnection,
  destination: string | null,
  onMessage: (body: unknown, message: IMessage) => void,
  headers?: () => Record<string, string>,
): void {
  const handler = useRef(onMessage);
  const headersRef = useRef(headers);
  useEffect(() => {
    handler.current = onMessage;
    headersRef.current = headers;
  });
  useEffect(() => {
    if (!destination) return;
    return connection.listen(
      destination,
      (body, msg) => handler.current(body, msg),
      () => headersRef.current?.() ?? {},
    );
  }, [connection, destination]);
}
