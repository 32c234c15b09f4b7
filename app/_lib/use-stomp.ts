'use client';
/**
 * One STOMP client per tab (@stomp/stompjs over /ws-stomp on the page's own host), shared by
 * every component through `useStomp()`.
 *
 * - Identity: a short-lived socket token from `auth.socketToken`, fetched before every
 *   (re)connect and refreshed in the background a minute before it expires, so a reconnect
 *   never waits on an expired token. If the token cannot be fetched (server restarting), the
 *   CONNECT goes out without it and the server falls back to the session cookie.
 * - Subscriptions are registered here, not on the stompjs client: stompjs forgets them when
 *   the socket drops, so each one is re-subscribed on every CONNECTED, and its headers are
 *   computed at that moment (a room subscription sends `x-since: <last id it has>`).
 * - Status: `connecting` until the first CONNECTED, then `connected` / `reconnecting`.
 */
import { Client, type IFrame, type IMessage, type StompSubscription } from '@stomp/stompjs';
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { useTRPCClient, type TrpcClient } from './trpc';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting';

export interface ConnectionSnapshot {
  status: ConnectionStatus;
  /** increases on every CONNECTED: a change means "resync what you show" */
  generation: number;
}

interface Registration {
  destination: string;
  headers: () => Record<string, string>;
  onMessage: (body: unknown, message: IMessage) => void;
  active: StompSubscription | null;
}

const RECONNECT_DELAY_MS = 1000;
const HEARTBEAT_MS = 10_000;
/** fetch a new socket token this long before the current one expires */
const TOKEN_REFRESH_MARGIN_MS = 60_000;
/** keep the socket open this long after the last user leaves (page transitions) */
const RELEASE_GRACE_MS = 5_000;

export class StompConnection {
  /** made on first use in the browser (components also render on the server) */
  private stomp: Client | null = null;
  private snapshot: ConnectionSnapshot = { status: 'connecting', generation: 0 };
  private readonly listeners = new Set<() => void>();
  private readonly registrations = new Set<Registration>();
  private token: { value: string; expiresAt: number } | null = null;
  private tokenLoad: Promise<string | null> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private releaseTimer: ReturnType<typeof setTimeout> | null = null;
  private users = 0;

  constructor(private readonly api: TrpcClient) {}

  private get client(): Client {
    this.stomp ??= this.createClient();
    return this.stomp;
  }

  private createClient(): Client {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    return new Client({
      brokerURL: `${scheme}://${window.location.host}/ws-stomp`,
      reconnectDelay: RECONNECT_DELAY_MS,
      heartbeatIncoming: HEARTBEAT_MS,
      heartbeatOutgoing: HEARTBEAT_MS,
      connectionTimeout: 8_000,
      // stompjs stops its reconnect loop if beforeConnect throws: it never does
      beforeConnect: async (client) => {
        const token = await this.currentToken();
        client.connectHeaders = token ? { Authorization: `Bearer ${token}` } : {};
      },
      onConnect: () => this.onConnected(),
      onWebSocketClose: () => this.onClosed(),
      onStompError: (frame: IFrame) => {
        // a refused CONNECT (expired or revoked token): the next attempt fetches a new one
        if (/token|auth/i.test(frame.headers.message ?? '')) this.token = null;
      },
    });
  }

  // ------------------------------------------------------------------ state for React

  getSnapshot = (): ConnectionSnapshot => this.snapshot;

  subscribeStatus = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private setStatus(status: ConnectionStatus, generation = this.snapshot.generation) {
    if (status === this.snapshot.status && generation === this.snapshot.generation) return;
    this.snapshot = { status, generation };
    for (const l of this.listeners) l();
  }

  get connected(): boolean {
    return this.stomp?.connected ?? false;
  }

  // ------------------------------------------------------------------ lifecycle

  acquire(): void {
    this.users++;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    if (!this.client.active) this.client.activate();
  }

  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0) return;
    this.releaseTimer = setTimeout(() => {
      if (this.users === 0) void this.client.deactivate();
    }, RELEASE_GRACE_MS);
  }

  private onConnected() {
    this.setStatus('connected', this.snapshot.generation + 1);
    for (const r of this.registrations) this.attach(r);
  }

  private onClosed() {
    for (const r of this.registrations) r.active = null;
    this.setStatus(this.snapshot.generation > 0 ? 'reconnecting' : 'connecting');
  }

  // ------------------------------------------------------------------ socket token

  private async currentToken(): Promise<string | null> {
    if (this.token && this.token.expiresAt - Date.now() > 10_000) return this.token.value;
    return this.fetchToken();
  }

  private fetchToken(): Promise<string | null> {
    this.tokenLoad ??= (async () => {
      try {
        const res = await withTimeout(this.api.auth.socketToken.mutate(), 5_000);
        const expiresAt = Date.parse(res.expiresAt);
        this.token = { value: res.token, expiresAt };
        this.scheduleRefresh(expiresAt);
        return res.token;
      } catch (err) {
        if (isUnauthorized(err)) {
          // the session itself is gone: sign in again and come back here
          const back = window.location.pathname + window.location.search;
          window.location.assign(`/signin?callbackUrl=${encodeURIComponent(back)}`);
        }
        return null;
      } finally {
        this.tokenLoad = null;
      }
    })();
    return this.tokenLoad;
  }

  private scheduleRefresh(expiresAt: number) {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const delay = Math.max(5_000, expiresAt - Date.now() - TOKEN_REFRESH_MARGIN_MS);
    this.refreshTimer = setTimeout(() => void this.fetchToken(), delay);
  }

  // ------------------------------------------------------------------ subscriptions

  /** subscribes now (when connected) and again on every reconnect; returns the unsubscribe */
  listen(destination: string, onMessage: Registration['onMessage'], headers: () => Record<string, string> = () => ({})): () => void {
    const reg: Registration = { destination, headers, onMessage, active: null };
    this.registrations.add(reg);
    if (this.connected) this.attach(reg);
    return () => {
      this.registrations.delete(reg);
      if (reg.active && this.connected) {
        try {
          reg.active.unsubscribe();
        } catch {
          /* the socket went away meanwhile */
        }
      }
      reg.active = null;
    };
  }

  private attach(reg: Registration) {
    reg.active = this.client.subscribe(
      reg.destination,
      (message) => {
        let body: unknown;
        try {
          body = JSON.parse(message.body);
        } catch {
          return;
        }
        reg.onMessage(body, message);
      },
      reg.headers(),
    );
  }

  // ------------------------------------------------------------------ sending

  /** false when there is no connection right now (nothing was sent) */
  publish(destination: string, body: unknown): boolean {
    if (!this.connected) return false;
    this.client.publish({ destination, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return true;
  }

  /** sends with a `receipt` header; `onReceipt` runs when the server has stored it */
  publishWithReceipt(destination: string, body: unknown, receipt: string, onReceipt: () => void): boolean {
    if (!this.connected) return false;
    this.client.watchForReceipt(receipt, () => onReceipt());
    this.client.publish({
      destination,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', receipt },
    });
    return true;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

function isUnauthorized(err: unknown): boolean {
  const data = (err as { data?: { code?: string } } | null)?.data;
  return data?.code === 'UNAUTHORIZED';
}

let shared: StompConnection | null = null;

/** the tab's STOMP connection, kept open while any component uses it */
export function useStomp(): { connection: StompConnection } & ConnectionSnapshot {
  const api = useTRPCClient();
  shared ??= new StompConnection(api);
  const connection = shared;
  useEffect(() => {
    connection.acquire();
    return () => connection.release();
  }, [connection]);
  const snap = useSyncExternalStore(connection.subscribeStatus, connection.getSnapshot, () => SERVER_SNAPSHOT);
  return { connection, ...snap };
}

const SERVER_SNAPSHOT: ConnectionSnapshot = { status: 'connecting', generation: 0 };

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
