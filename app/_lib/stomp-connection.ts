/**
 * One STOMP client per tab (@stomp/stompjs over /ws-stomp), independent of React so that its
 * rules can be tested against a real socket.
 *
 * - Identity: a short-lived socket token, fetched before every (re)connect and refreshed in the
 *   background a minute before it expires. If it cannot be fetched (server restarting), the
 *   CONNECT goes out without it and the server falls back to the session cookie.
 * - Subscriptions are registered here, not on the stompjs client: stompjs forgets them when
 *   the socket drops, so each one is re-subscribed on every CONNECTED, with headers computed at
 *   that moment (a room subscription sends `x-since: <last id it has>`).
 * - A dead network is noticed two ways: the browser's `offline` event (at once: the socket is
 *   dropped instead of waiting on it) and short heart-beats (a socket that stays silent past
 *   the negotiated window is discarded). Both end in `reconnecting` / `offline`, never in a
 *   page that still claims to be live.
 * - Reconnects are ours, not stompjs's: exponential with jitter and a cap (backoff.ts), none
 *   while the browser says it is offline, and one at once when it comes back online or the
 *   tab becomes visible again.
 * - Status: `connecting` until the first CONNECTED, then `connected` / `reconnecting` /
 *   `offline`; `generation` grows on every CONNECTED ("resync what you show").
 */
import { Client, type IFrame, type IMessage, type StompSubscription } from '@stomp/stompjs';
import { RECONNECT_BACKOFF, reconnectDelay, type BackoffOptions } from './backoff';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionSnapshot {
  status: ConnectionStatus;
  /** increases on every CONNECTED: a change means "resync what you show" */
  generation: number;
}

/** the browser's view of the network; a fake in tests */
export interface NetworkSignals {
  online(): boolean;
  /** calls back on `online` / `offline` / the tab becoming visible; returns the unsubscribe */
  watch(handlers: { online(): void; offline(): void; visible(): void }): () => void;
}

export interface SocketToken {
  token: string;
  /** ISO-8601 */
  expiresAt: string;
}

export interface StompConnectionOptions {
  brokerURL: string;
  /** a fresh socket token; rejects when it cannot be had (the CONNECT then relies on the cookie) */
  fetchToken(): Promise<SocketToken>;
  network: NetworkSignals;
  webSocketFactory?: () => WebSocket;
  /** heart-beat asked of the server both ways (the server may answer with a longer one) */
  heartbeatMs?: number;
  backoff?: BackoffOptions;
  connectionTimeoutMs?: number;
  /** keep the socket open this long after the last user leaves (page transitions) */
  releaseGraceMs?: number;
}

interface Registration {
  destination: string;
  headers: () => Record<string, string>;
  onMessage: (body: unknown, message: IMessage) => void;
  active: StompSubscription | null;
}

export const HEARTBEAT_MS = 4_000;
/** fetch a new socket token this long before the current one expires */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

export class StompConnection {
  private stomp: Client | null = null;
  private snapshot: ConnectionSnapshot = { status: 'connecting', generation: 0 };
  private readonly listeners = new Set<() => void>();
  private readonly registrations = new Set<Registration>();
  private token: { value: string; expiresAt: number } | null = null;
  private tokenLoad: Promise<string | null> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private releaseTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private unwatch: (() => void) | null = null;
  /** failed attempts since the last CONNECTED: the backoff exponent */
  private attempt = 0;
  private users = 0;
  private wanted = false;
  private live = false;

  constructor(private readonly opts: StompConnectionOptions) {}

  private get client(): Client {
    this.stomp ??= this.createClient();
    return this.stomp;
  }

  private createClient(): Client {
    const heartbeat = this.opts.heartbeatMs ?? HEARTBEAT_MS;
    return new Client({
      brokerURL: this.opts.brokerURL,
      ...(this.opts.webSocketFactory ? { webSocketFactory: this.opts.webSocketFactory } : {}),
      // 0: stompjs does not reconnect on its own; scheduleReconnect() does, with backoff
      reconnectDelay: 0,
      heartbeatIncoming: heartbeat,
      heartbeatOutgoing: heartbeat,
      heartbeatToleranceMultiplier: 1.5,
      // a silent socket on a dead network may take minutes to close politely: drop it
      discardWebsocketOnCommFailure: true,
      connectionTimeout: this.opts.connectionTimeoutMs ?? 8_000,
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

  /** a CONNECTED socket that has not been dropped since (stompjs learns of a drop a moment later) */
  get connected(): boolean {
    return this.live && (this.stomp?.connected ?? false);
  }

  // ------------------------------------------------------------------ lifecycle

  acquire(): void {
    this.users++;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    if (this.wanted) return;
    this.wanted = true;
    this.unwatch = this.opts.network.watch({
      online: () => this.reconnectNow(),
      offline: () => this.wentOffline(),
      visible: () => {
        if (!this.connected) this.reconnectNow();
      },
    });
    if (this.opts.network.online()) this.client.activate();
    else this.setStatus('offline');
  }

  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0) return;
    this.releaseTimer = setTimeout(() => {
      if (this.users === 0) void this.stop();
    }, this.opts.releaseGraceMs ?? 5_000);
  }

  /** closes the socket and stops reconnecting (until the next acquire) */
  async stop(): Promise<void> {
    this.wanted = false;
    this.unwatch?.();
    this.unwatch = null;
    for (const t of [this.retryTimer, this.refreshTimer, this.releaseTimer]) if (t) clearTimeout(t);
    this.retryTimer = this.refreshTimer = this.releaseTimer = null;
    await this.stomp?.deactivate();
  }

  private onConnected() {
    this.live = true;
    this.attempt = 0;
    this.setStatus('connected', this.snapshot.generation + 1);
    for (const r of this.registrations) this.attach(r);
  }

  private onClosed() {
    this.live = false;
    for (const r of this.registrations) r.active = null;
    if (!this.wanted) return;
    this.scheduleReconnect();
  }

  private lostStatus(): ConnectionStatus {
    if (!this.opts.network.online()) return 'offline';
    return this.snapshot.generation > 0 ? 'reconnecting' : 'connecting';
  }

  private scheduleReconnect() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setStatus(this.lostStatus());
    // offline: no attempt can succeed; the `online` event starts the next one
    if (!this.opts.network.online()) return;
    const delay = reconnectDelay(this.attempt++, this.opts.backoff ?? RECONNECT_BACKOFF);
    this.retryTimer = setTimeout(() => this.reconnect(false), delay);
  }

  /** a new attempt now (the network is back, the tab is visible again), unless a socket is open or opening */
  reconnectNow(): void {
    this.reconnect(true);
  }

  private reconnect(fresh: boolean): void {
    if (!this.wanted) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.client.webSocket) return;
    if (fresh) this.attempt = 0;
    this.setStatus(this.lostStatus());
    // stompjs stays "active" after a close when it does not reconnect itself: reset it first
    void this.client.deactivate().then(() => {
      if (this.wanted && !this.client.webSocket) this.client.activate();
    });
  }

  private wentOffline() {
    this.live = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setStatus('offline');
    // the socket would only notice after its heart-beat window: drop it now (onClosed follows)
    this.stomp?.forceDisconnect();
  }

  // ------------------------------------------------------------------ socket token

  private async currentToken(): Promise<string | null> {
    if (this.token && this.token.expiresAt - Date.now() > 10_000) return this.token.value;
    return this.fetchToken();
  }

  private fetchToken(): Promise<string | null> {
    this.tokenLoad ??= (async () => {
      try {
        const res = await withTimeout(this.opts.fetchToken(), 5_000);
        const expiresAt = Date.parse(res.expiresAt);
        this.token = { value: res.token, expiresAt };
        this.scheduleRefresh(expiresAt);
        return res.token;
      } catch {
        return null;
      } finally {
        this.tokenLoad = null;
      }
    })();
    return this.tokenLoad;
  }

  private scheduleRefresh(expiresAt: number) {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (!this.wanted) return;
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
    this.client.publish({ destination, body: JSON.stringify(body), headers: { 'content-type': 'application/json', receipt } });
    return true;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

/** the browser's online/offline and visibility events */
export const browserNetwork: NetworkSignals = {
  online: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
  watch({ online, offline, visible }) {
    const onVisibility = () => {
      if (document.visibilityState === 'visible') visible();
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  },
};
