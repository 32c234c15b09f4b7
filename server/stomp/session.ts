/**
 * One STOMP connection's state machine, on top of a minimal transport so it runs without sockets.
 *
 * Owns: CONNECT and version / heart-beat negotiation, frame ordering, subscriptions, receipts,
 * the slow-consumer bound and the single ERROR-then-close path. The bookkeeping of acks,
 * transactions and SENDs in flight lives in ledger.ts. Spec:
 * https://stomp.github.io/stomp-specification-1.2.html
 *
 * Longer than our other files on purpose: it is one state machine (every command's handler and
 * the heart-beat clock share its state), and splitting the handlers would scatter that state.
 *
 * Ordering: frames are handled in arrival order. CONNECT, SUBSCRIBE, COMMIT and DISCONNECT are
 * awaited before the next frame (a client pipelines SUBSCRIBE then SEND and expects the
 * subscription to be live); SEND is handed to the application in order but not awaited, so a
 * connection can pipeline SENDs, up to `maxInflightSends`. Its RECEIPT goes out when the
 * application's promise resolves, i.e. after the message is stored.
 *
 * Failure: every fatal problem — parser error, protocol violation, StompError from the
 * application, any unexpected exception (→ INTERNAL) — ends in `shutdown`: one ERROR frame, then
 * the transport is closed with the error's close code. Nothing escapes to the caller.
 */
import type { IncomingMessage } from 'node:http';
import { encodeFrame, HEARTBEAT, renderMessage, type PreparedMessage } from './encoder.js';
import { CloseCode, isNonFatal, StompError } from './errors.js';
import { SUPPORTED_VERSIONS, type StompFrame, type StompVersion } from './frame.js';
import { negotiateHeartbeat } from './heartbeat-negotiation.js';
import type { HeartbeatScheduler, WheelTimer } from './heartbeat-scheduler.js';
import { SessionLedger, type LiveSubscription, type SettledSend, type Subscription } from './ledger.js';
import { resolveLimits, type StompLimits } from './limits.js';
import { StompParser } from './parser.js';
import { silentLogger, type AckMode, type StompApplication, type StompLogger, type StompSessionView } from './types.js';

/** What the session needs from a WebSocket. */
export interface StompTransport {
  /** Sends one WebSocket message; `binary` only for frames whose body is not UTF-8. */
  send(data: Buffer, binary: boolean): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the socket. */
  readonly bufferedAmount: number;
  /** WebSocket ping, used to detect dead peers that negotiated no heart-beats. */
  ping?(): void;
  /** Drops the connection at once, without a closing handshake (a peer that stopped reading). */
  terminate?(): void;
}

export type { Subscription };

export type SessionState = 'connecting' | 'connected' | 'disconnecting' | 'closed';

export interface StompSessionOptions<P> {
  id: string;
  app: StompApplication<P>;
  transport: StompTransport;
  scheduler: HeartbeatScheduler;
  /** The HTTP upgrade request, handed to `app.connect`. */
  request: IncomingMessage;
  /** The negotiated WebSocket subprotocol (`v12.stomp`...), or '' / undefined for none. */
  subprotocol?: string;
  limits?: Partial<StompLimits>;
  logger?: StompLogger;
  /** `server` header of CONNECTED. */
  serverName?: string;
  now?: () => number;
}

const SUBPROTOCOL_VERSIONS: Readonly<Record<string, StompVersion>> = {
  'v12.stomp': '1.2',
  'v11.stomp': '1.1',
  'v10.stomp': '1.0',
};
const ACK_MODES: ReadonlySet<string> = new Set<AckMode>(['auto', 'client', 'client-individual']);
const HEART_BEAT = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/;
const MAX_CLOSE_REASON_BYTES = 123;

type CloseListener = (error: StompError | undefined) => void;

export class StompSession<P = unknown> implements StompSessionView<P> {
  readonly id: string;
  private readonly app: StompApplication<P>;
  private readonly transport: StompTransport;
  /** Only needed by CONNECT; dropped then, so a live session does not keep the upgrade request. */
  private request: IncomingMessage | undefined;
  private readonly limits: StompLimits;
  private readonly logger: StompLogger;
  private readonly serverName: string;
  private readonly now: () => number;
  private readonly parser: StompParser;
  private readonly timer: WheelTimer;
  private readonly tickMs: number;
  /** Set when a subprotocol was chosen: it pins the STOMP version. */
  private readonly pinnedVersion: StompVersion | undefined;

  private _state: SessionState = 'connecting';
  private _version: StompVersion | undefined;
  private _principal: P | undefined;
  private _userName = '';
  /** True once `app.connect` succeeded: from then on the app must hear `disconnected`. */
  private appKnows = false;
  /** `disconnected` has been called (exactly once per accepted session). */
  private farewellSaid = false;

  private readonly subs = new Map<string, LiveSubscription>();
  /** acks, transactions and SENDs in flight */
  private readonly ledger: SessionLedger;
  private queue: StompFrame[] = [];
  private busy = false;
  private messageSeq = 0;

  private readonly createdAt: number;
  private lastReceivedAt: number;
  private lastSentAt: number;
  private lastPingAt = 0;
  private lastActivityAt = 0;
  /** Negotiated: we send a heart-beat every `sendEveryMs` (0 = never). */
  private sendEveryMs = 0;
  /** Negotiated: the client sends at least every `expectEveryMs` (0 = no promise). */
  private expectEveryMs = 0;
  /** Replaced, not pushed to: a pushed-to array reserves room for 17 listeners. */
  private closeListeners: readonly CloseListener[] = [];

  constructor(options: StompSessionOptions<P>) {
    this.id = options.id;
    this.app = options.app;
    this.transport = options.transport;
    this.request = options.request;
    this.limits = resolveLimits(options.limits);
    this.ledger = new SessionLedger(this.limits);
    this.logger = options.logger ?? silentLogger;
    this.serverName = options.serverName ?? 'ReUseChat/0.1';
    this.now = options.now ?? Date.now;
    this.pinnedVersion = options.subprotocol ? SUBPROTOCOL_VERSIONS[options.subprotocol] : undefined;
    this.createdAt = this.lastReceivedAt = this.lastSentAt = this.now();
    this.tickMs = options.scheduler.tickMs;
    this.parser = new StompParser(this.limits, {
      onFrame: (frame) => this.enqueue(frame),
      onHeartbeat: () => {},
      onError: (error) => this.shutdown(error),
    });
    this.timer = options.scheduler.timer((now) => this.onTimer(now));
    this.timer.schedule(this.limits.connectTimeoutMs);
  }

  // ── Public API for the application ─────────────────────────────────────────────────────────

  get state(): SessionState {
    return this._state;
  }

  /** False once closed; deliveries and receipts are dropped from then on. */
  get isOpen(): boolean {
    return this._state !== 'closed';
  }

  /** The negotiated STOMP version, once connected. */
  get version(): StompVersion | undefined {
    return this._version;
  }

  /** What `app.connect` returned. Throws before CONNECT succeeded (a bug in the caller). */
  get principal(): P {
    if (!this.appKnows) throw new Error(`STOMP session ${this.id} has no principal before CONNECT succeeded`);
    return this._principal as P;
  }

  get userName(): string {
    return this._userName;
  }

  get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.subs;
  }

  /** MESSAGEs delivered on client / client-individual subscriptions and not yet ACKed or NACKed. */
  get unackedCount(): number {
    return this.ledger.unackedCount;
  }

  /**
   * Sends a prepared MESSAGE on one of this session's subscriptions, allocating its message-id
   * (and ack id). Returns false when the subscription is gone or the session is closed/closing
   * for a slow consumer — the message was not sent.
   */
  deliver(subscriptionId: string, prepared: PreparedMessage): boolean {
    if (this._state !== 'connected' && this._state !== 'disconnecting') return false;
    const sub = this.subs.get(subscriptionId);
    if (sub === undefined) return false;
    const messageId = String(++this.messageSeq);
    let ack: string | undefined;
    if (sub.pending !== undefined) {
      ack = messageId;
      this.ledger.track(sub, messageId, this.subs);
    }
    return this.sendFrame(renderMessage(prepared, sub.id, messageId, ack), prepared.binary);
  }

  /** Ends the session: with an error, one ERROR frame and that error's close code; else a normal close. */
  close(error?: StompError): void {
    this.shutdown(error);
  }

  /** Registers a listener for the end of the session; returns a function that removes it. */
  onClose(listener: CloseListener): () => void {
    this.closeListeners = this.closeListeners.concat(listener);
    return () => {
      const at = this.closeListeners.indexOf(listener);
      if (at !== -1) this.closeListeners = this.closeListeners.filter((_, i) => i !== at);
    };
  }

  // ── Transport side ─────────────────────────────────────────────────────────────────────────

  /** Feeds one received WebSocket message (text or binary). Never throws. */
  receive(chunk: Buffer | string): void {
    if (this._state === 'closed') return;
    const now = this.now();
    // Any received byte proves the client alive, not only EOL heart-beats (spec §Heart-beating).
    this.lastReceivedAt = now;
    this.reportActivity(now);
    try {
      this.parser.push(chunk);
    } catch (error) {
      this.fail(error);
    }
  }

  /** The peer answered a WebSocket ping (or otherwise showed life below STOMP). */
  touch(): void {
    this.lastReceivedAt = this.now();
  }

  /** The socket is gone (peer closed, network error): clean up without sending anything. */
  transportClosed(): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this.release();
    this.cleanup(undefined);
  }

  // ── Frame dispatch ─────────────────────────────────────────────────────────────────────────

  private enqueue(frame: StompFrame): void {
    // After DISCONNECT the spec says the client sends nothing more; ignore anything it does.
    if (this._state === 'disconnecting' || this._state === 'closed') return;
    if (this.queue.length >= this.limits.maxQueuedFrames) {
      this.fail(new StompError('TOO_MANY_PENDING_FRAMES', `more than ${this.limits.maxQueuedFrames} frames waiting`));
      return;
    }
    this.queue.push(frame);
    if (!this.busy) this.drain();
  }

  /** Handles queued frames synchronously until one needs awaiting. */
  private drain(): void {
    while (!this.busy && this.queue.length > 0 && this._state !== 'closed') {
      const frame = this.queue.shift()!;
      // a drained queue keeps its grown backing store; a fresh array holds none
      if (this.queue.length === 0) this.queue = [];
      let pending: Promise<void> | void;
      try {
        pending = this.handle(frame);
      } catch (error) {
        this.fail(error, frame);
        return;
      }
      if (pending !== undefined) {
        this.busy = true;
        pending.then(
          () => {
            this.busy = false;
            this.drain();
          },
          (error: unknown) => {
            this.busy = false;
            this.fail(error, frame);
          },
        );
      }
    }
  }

  private handle(frame: StompFrame): Promise<void> | void {
    if (this._state === 'connecting') {
      if (frame.command === 'CONNECT' || frame.command === 'STOMP') return this.onConnect(frame);
      throw new StompError('NOT_CONNECTED', `got ${frame.command} before CONNECT`);
    }
    switch (frame.command) {
      case 'CONNECT':
      case 'STOMP':
        throw new StompError('ALREADY_CONNECTED');
      case 'SEND':
        return this.onSend(frame);
      case 'SUBSCRIBE':
        return this.onSubscribe(frame);
      case 'UNSUBSCRIBE':
        return this.onUnsubscribe(frame);
      case 'ACK':
      case 'NACK':
        return this.onAck(frame);
      case 'BEGIN':
        return this.onBegin(frame);
      case 'COMMIT':
        return this.onCommit(frame);
      case 'ABORT':
        return this.onAbort(frame);
      case 'DISCONNECT':
        return this.onDisconnect(frame);
    }
  }

  // ── CONNECT ────────────────────────────────────────────────────────────────────────────────

  private async onConnect(frame: StompFrame): Promise<void> {
    const headers = frame.headers;
    const version = this.negotiateVersion(headers.get('accept-version'));
    const [cx, cy] = parseHeartBeat(headers.get('heart-beat'));
    const heartbeat = negotiateHeartbeat(cx, cy, {
      preferredSendMs: this.limits.heartbeatSendMs,
      preferredReceiveMs: this.limits.heartbeatReceiveMs,
      minMs: this.limits.heartbeatMinMs,
    });

    const request = this.request!;
    this.request = undefined;
    const { principal, userName } = await this.app.connect({ headers, request, sessionId: this.id });
    this._principal = principal;
    this._userName = userName;
    this.appKnows = true;
    if (this._state === 'closed') {
      // The socket went away while the application was authenticating: it still gets its goodbye.
      this.cleanup(undefined);
      return;
    }

    this._version = version;
    this.parser.decodeEscapes = version !== '1.0';
    this.sendEveryMs = heartbeat.sendEveryMs;
    this.expectEveryMs = heartbeat.expectEveryMs;
    this._state = 'connected';
    this.sendFrame(
      encodeFrame('CONNECTED', [
        ['version', version],
        ['heart-beat', heartbeat.header],
        ['server', this.serverName],
        ['session', this.id],
        ['user-name', userName],
      ]),
      false,
    );
    this.lastReceivedAt = this.now();
    this.reschedule(this.now());
  }

  private negotiateVersion(acceptVersion: string | undefined): StompVersion {
    // spec §Protocol Negotiation: no accept-version means a 1.0 client.
    const offered = acceptVersion === undefined ? ['1.0'] : acceptVersion.split(',').map((v) => v.trim());
    const allowed = this.pinnedVersion === undefined ? SUPPORTED_VERSIONS : [this.pinnedVersion];
    const version = allowed.find((v) => offered.includes(v));
    if (version === undefined) {
      const supported = allowed.join(',');
      throw new StompError('UNSUPPORTED_VERSION', `client accepts ${offered.join(',') || 'nothing'}; server supports ${supported}`, {
        headers: { version: supported },
      });
    }
    return version;
  }

  // ── SEND ───────────────────────────────────────────────────────────────────────────────────

  private onSend(frame: StompFrame): Promise<void> | void {
    const destination = frame.headers.get('destination');
    if (destination === undefined) throw new StompError('MISSING_HEADER', 'SEND requires destination');
    if (this.ledger.buffer(frame)) return;
    if (!this.ledger.sendSlotFree) {
      // Pause the frame pipeline (not the socket) until the application catches up.
      return this.ledger.waitForSendSlot().then(() => {
        this.dispatchSend(frame, destination);
      });
    }
    this.dispatchSend(frame, destination);
  }

  /** Hands a SEND to the application; returns a promise that settles (never rejects) with it. */
  private dispatchSend(frame: StompFrame, destination: string): SettledSend {
    const receipt = frame.headers.get('receipt');
    let result: Promise<void>;
    try {
      result = this.app.send(this, { destination, headers: frame.headers, body: frame.body });
    } catch (error) {
      result = Promise.reject(error);
    }
    const settled: SettledSend = result
      .then(
        () => {
          if (receipt !== undefined && this._state !== 'closed') this.sendReceipt(receipt);
        },
        (error: unknown) => {
          // A non-fatal rejection is the application's to report; the client simply gets no RECEIPT.
          if (!isNonFatal(error)) this.fail(error, undefined, receipt);
        },
      )
      .finally(() => {
        this.ledger.sendDone(settled);
      });
    this.ledger.addSend(settled);
    return settled;
  }

  // ── SUBSCRIBE / UNSUBSCRIBE / ACK ──────────────────────────────────────────────────────────

  private async onSubscribe(frame: StompFrame): Promise<void> {
    const headers = frame.headers;
    const destination = headers.get('destination');
    if (destination === undefined) throw new StompError('MISSING_HEADER', 'SUBSCRIBE requires destination');
    // STOMP 1.0 made the id optional; the destination then names the subscription.
    const id = headers.get('id') ?? (this._version === '1.0' ? destination : undefined);
    if (id === undefined) throw new StompError('MISSING_HEADER', 'SUBSCRIBE requires id');
    if (this.subs.has(id)) throw new StompError('DUPLICATE_SUBSCRIPTION', `subscription id ${JSON.stringify(id)} is already in use`);
    if (this.subs.size >= this.limits.maxSubscriptions) {
      throw new StompError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.limits.maxSubscriptions} subscriptions per connection`);
    }
    const ack = headers.get('ack') ?? 'auto';
    if (!ACK_MODES.has(ack)) throw new StompError('BAD_HEADER', `unknown ack mode ${JSON.stringify(ack)}`);
    const mode = ack as AckMode;

    // Registered before the application runs so that replayed messages can be delivered on it.
    const sub: LiveSubscription = { id, destination, ack: mode, headers, pending: mode === 'auto' ? undefined : new Set() };
    this.subs.set(id, sub);
    try {
      await this.app.subscribe(this, { id, destination, ack: mode, headers });
    } catch (error) {
      this.dropSubscription(sub);
      throw error;
    }
    this.receiptFor(frame);
  }

  private onUnsubscribe(frame: StompFrame): void {
    const headers = frame.headers;
    let id = headers.get('id');
    if (id === undefined && this._version === '1.0') id = headers.get('destination');
    if (id === undefined) throw new StompError('MISSING_HEADER', 'UNSUBSCRIBE requires id');
    const sub = this.subs.get(id);
    if (sub === undefined) throw new StompError('UNKNOWN_SUBSCRIPTION', `no subscription ${JSON.stringify(id)}`);
    this.dropSubscription(sub);
    this.app.unsubscribe(this, id);
    this.receiptFor(frame);
  }

  private onAck(frame: StompFrame): void {
    // 1.2 acks by the MESSAGE's `ack` header, sent back as `id`; 1.0/1.1 by `message-id`.
    // Our ack id equals the message-id, so either header identifies the message.
    const ackId = this._version === '1.2' ? frame.headers.get('id') ?? frame.headers.get('message-id') : frame.headers.get('message-id') ?? frame.headers.get('id');
    if (ackId === undefined) throw new StompError('MISSING_HEADER', `${frame.command} requires ${this._version === '1.2' ? 'id' : 'message-id'}`);
    if (this.ledger.buffer(frame)) return;
    this.ledger.settle(ackId, this.subs);
    this.receiptFor(frame);
  }

  private dropSubscription(sub: LiveSubscription): void {
    this.subs.delete(sub.id);
    this.ledger.dropSubscription(sub);
  }

  // ── Transactions ───────────────────────────────────────────────────────────────────────────

  private transactionId(frame: StompFrame): string {
    const txId = frame.headers.get('transaction');
    if (txId === undefined) throw new StompError('MISSING_HEADER', `${frame.command} requires transaction`);
    return txId;
  }

  private onBegin(frame: StompFrame): void {
    this.ledger.begin(this.transactionId(frame));
    this.receiptFor(frame);
  }

  /** Applies the buffered frames in order; its RECEIPT waits until every SEND in it settled. */
  private async onCommit(frame: StompFrame): Promise<void> {
    const frames = this.ledger.commit(this.transactionId(frame));
    const sends: SettledSend[] = [];
    for (const buffered of frames) {
      if (this._state === 'closed') return;
      if (buffered.command === 'SEND') {
        if (!this.ledger.sendSlotFree) await this.ledger.waitForSendSlot();
        sends.push(this.dispatchSend(buffered, buffered.headers.get('destination')!));
      } else {
        this.ledger.settle(buffered.headers.get('id') ?? buffered.headers.get('message-id')!, this.subs);
      }
    }
    await Promise.all(sends);
    this.receiptFor(frame);
  }

  private onAbort(frame: StompFrame): void {
    this.ledger.abort(this.transactionId(frame));
    this.receiptFor(frame);
  }

  // ── DISCONNECT ─────────────────────────────────────────────────────────────────────────────

  /** spec §DISCONNECT: RECEIPT after everything before it was handled, then a graceful close. */
  private async onDisconnect(frame: StompFrame): Promise<void> {
    this._state = 'disconnecting';
    this.queue = [];
    this.ledger.abortAll();
    if (this.ledger.sendsInFlight > 0) {
      let timeout: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, this.limits.disconnectGraceMs);
        timeout.unref();
      });
      await Promise.race([this.ledger.allSends(), grace]);
      clearTimeout(timeout);
    }
    if (!this.isOpen) return;
    this.receiptFor(frame);
    this.shutdown(undefined);
  }

  // ── Sending ────────────────────────────────────────────────────────────────────────────────

  private receiptFor(frame: StompFrame): void {
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.sendReceipt(receipt);
  }

  private sendReceipt(receiptId: string): void {
    this.sendFrame(encodeFrame('RECEIPT', [['receipt-id', receiptId]]), false);
  }

  /** Sends one frame as one WebSocket message, unless the client cannot keep up. */
  private sendFrame(data: Buffer, binary: boolean): boolean {
    if (this._state === 'closed') return false;
    const buffered = this.transport.bufferedAmount;
    if (buffered > this.limits.slowConsumerBytes) {
      this.shutdown(new StompError('SLOW_CONSUMER', `${buffered} bytes waiting to be sent`));
      return false;
    }
    try {
      this.transport.send(data, binary);
    } catch (error) {
      this.fail(error);
      return false;
    }
    this.lastSentAt = this.now();
    return true;
  }

  // ── Timers ─────────────────────────────────────────────────────────────────────────────────

  private onTimer(now: number): void {
    if (this._state === 'closed') return;
    if (this._state === 'connecting') {
      const deadline = this.createdAt + this.limits.connectTimeoutMs;
      if (now >= deadline) this.shutdown(new StompError('CONNECT_TIMEOUT', `no CONNECT within ${this.limits.connectTimeoutMs} ms`));
      else this.timer.schedule(deadline - now);
      return;
    }
    this.reschedule(now);
  }

  /** Sends a due heart-beat, enforces the client's, and arms the timer for the next deadline. */
  private reschedule(now: number): void {
    let next = Infinity;
    if (this.sendEveryMs > 0) {
      // Send up to two ticks early: the wheel may fire a tick late and the client may be strict.
      const early = Math.min(2 * this.tickMs, this.sendEveryMs / 2);
      const dueAt = this.lastSentAt + this.sendEveryMs - early;
      if (now >= dueAt) {
        this.sendFrame(HEARTBEAT, false);
        if (this._state === 'closed') return;
        next = this.sendEveryMs - early;
      } else {
        next = dueAt - now;
      }
    }
    const silence = now - this.lastReceivedAt;
    if (this.expectEveryMs > 0) {
      // spec §Heart-beating allows tolerance; we wait twice the promised interval.
      const allowed = 2 * this.expectEveryMs;
      if (silence >= allowed) {
        this.shutdown(new StompError('HEARTBEAT_TIMEOUT', `nothing received for ${silence} ms (heart-beat ${this.expectEveryMs} ms)`));
        return;
      }
      next = Math.min(next, allowed - silence);
    } else if (this.limits.idlePingMs > 0 && this.transport.ping !== undefined) {
      const idle = this.limits.idlePingMs;
      if (silence >= 2 * idle) {
        this.shutdown(new StompError('HEARTBEAT_TIMEOUT', `no answer to WebSocket ping for ${silence} ms`));
        return;
      }
      if (silence >= idle && now - this.lastPingAt >= idle) {
        this.lastPingAt = now;
        this.transport.ping();
      }
      next = Math.min(next, silence >= idle ? 2 * idle - silence : idle - silence);
    }
    if (next !== Infinity) this.timer.schedule(next);
    else this.timer.cancel();
  }

  private reportActivity(now: number): void {
    if (this.app.activity === undefined || !this.appKnows || now - this.lastActivityAt < this.limits.activityIntervalMs) return;
    this.lastActivityAt = now;
    try {
      this.app.activity(this);
    } catch (error) {
      this.logger.warn({ err: error, sessionId: this.id }, 'stomp activity hook failed');
    }
  }

  // ── Ending ─────────────────────────────────────────────────────────────────────────────────

  /** Turns anything thrown into the one ERROR-then-close path. */
  private fail(error: unknown, frame?: StompFrame, receiptId?: string): void {
    if (this._state === 'closed') return;
    let stompError: StompError;
    if (error instanceof StompError) {
      this.logger.debug({ sessionId: this.id, code: error.code, details: error.details }, 'stomp session error');
      stompError = error;
    } else {
      this.logger.error({ err: error, sessionId: this.id }, 'unexpected error in stomp session');
      stompError = new StompError('INTERNAL', undefined, { cause: error });
    }
    this.shutdown(stompError, receiptId ?? frame?.headers.get('receipt'));
  }

  private shutdown(error: StompError | undefined, receiptId?: string): void {
    if (this._state === 'closed') return;
    this._state = 'closed';
    this.release();
    try {
      if (error === undefined) {
        this.transport.close(CloseCode.NORMAL, 'bye');
      } else if (error.code === 'SLOW_CONSUMER' && this.transport.terminate) {
        // A peer that stopped reading would never read an ERROR or answer a close frame: the
        // handshake would hold the socket and its kernel buffers for the close timeout (~30 s).
        this.transport.terminate();
      } else {
        // The ERROR frame skips the slow-consumer check: it is small and the socket closes anyway.
        this.transport.send(encodeError(error, receiptId ?? error.receiptId), false);
        this.transport.close(error.closeCode, closeReason(error.shortMessage));
      }
    } catch (closeError) {
      this.logger.warn({ err: closeError, sessionId: this.id }, 'stomp transport failed while closing');
    }
    this.cleanup(error);
  }

  /** Stops timers and parsing and drops per-connection buffers. */
  private release(): void {
    this.timer.cancel();
    this.parser.destroy();
    this.request = undefined;
    this.queue = [];
    // Open transactions are aborted (spec §BEGIN: implicitly aborted on disconnect).
    this.ledger.abortAll();
  }

  private cleanup(error: StompError | undefined): void {
    const ids = [...this.subs.keys()];
    this.subs.clear();
    this.ledger.forgetAcks();
    if (this.appKnows && !this.farewellSaid) {
      this.farewellSaid = true;
      for (const id of ids) {
        try {
          this.app.unsubscribe(this, id);
        } catch (hookError) {
          this.logger.error({ err: hookError, sessionId: this.id }, 'stomp unsubscribe hook failed');
        }
      }
      try {
        this.app.disconnected(this);
      } catch (hookError) {
        this.logger.error({ err: hookError, sessionId: this.id }, 'stomp disconnected hook failed');
      }
    }
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) {
      try {
        listener(error);
      } catch (hookError) {
        this.logger.error({ err: hookError, sessionId: this.id }, 'stomp close listener failed');
      }
    }
  }
}

function parseHeartBeat(value: string | undefined): [number, number] {
  if (value === undefined) return [0, 0];
  const match = HEART_BEAT.exec(value);
  if (match === null) throw new StompError('BAD_HEADER', `heart-beat must be "cx,cy", got ${JSON.stringify(value.slice(0, 32))}`);
  return [Number(match[1]), Number(match[2])];
}

/** The ERROR frame: short `message`, stable `x-error-code`, details in a text body. */
export function encodeError(error: StompError, receiptId?: string): Buffer {
  const headers: [string, string][] = [
    ['message', error.shortMessage],
    ['x-error-code', error.code],
  ];
  if (receiptId !== undefined) headers.push(['receipt-id', receiptId]);
  if (error.headers !== undefined) {
    for (const [name, value] of Object.entries(error.headers)) headers.push([name, value]);
  }
  headers.push(['content-type', 'text/plain']);
  return encodeFrame('ERROR', headers, error.details ?? error.shortMessage);
}

/** ws refuses close reasons over 123 bytes; cut on a character boundary. */
function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_CLOSE_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}
