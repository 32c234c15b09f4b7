/**
 * A session's bookkeeping, apart from its state machine: unacknowledged MESSAGEs (client and
 * client-individual subscriptions, spec §ACK), open transactions with their buffered frames
 * (spec §BEGIN/COMMIT/ABORT) and SENDs handed to the application and not yet settled.
 *
 * Most chat sessions never ack, never open a transaction and have no SEND in flight, so the
 * collections start as shared empty stand-ins (an empty Map is ~180 bytes) and each session gets
 * its own only when it adds the first entry. The stand-ins are never written to.
 */
import { StompError } from './errors.js';
import type { StompFrame } from './frame.js';
import type { AckMode } from './types.js';

export interface Subscription {
  readonly id: string;
  readonly destination: string;
  readonly ack: AckMode;
  readonly headers: ReadonlyMap<string, string>;
}

export interface LiveSubscription extends Subscription {
  /** Unacknowledged ack ids in delivery order; undefined for `auto`. */
  readonly pending: Set<string> | undefined;
}

/** a SEND handed to the application: settles (never rejects) when it is done */
export type SettledSend = Promise<void>;

const NO_PENDING_ACKS: Map<string, string> = new Map();
const NO_TRANSACTIONS: Map<string, StompFrame[]> = new Map();
const NO_SENDS: Set<SettledSend> = new Set();

export class SessionLedger {
  /** ack id → subscription id, in delivery order; bounded by `maxPendingAcks`. */
  private pendingAcks = NO_PENDING_ACKS;
  private transactions = NO_TRANSACTIONS;
  private sends: Set<SettledSend> = NO_SENDS;

  constructor(
    private readonly limits: {
      maxPendingAcks: number;
      maxTransactions: number;
      maxTransactionFrames: number;
      maxInflightSends: number;
    },
  ) {}

  // ── acks ───────────────────────────────────────────────────────────────────────────────────

  get unackedCount(): number {
    return this.pendingAcks.size;
  }

  /** a MESSAGE went out on an acking subscription */
  track(sub: LiveSubscription, ackId: string, subs: ReadonlyMap<string, LiveSubscription>): void {
    if (this.pendingAcks.size >= this.limits.maxPendingAcks) {
      // Bounded memory: the oldest unacknowledged message is forgotten (treated as acked).
      const oldest = this.pendingAcks.entries().next().value;
      if (oldest !== undefined) {
        this.pendingAcks.delete(oldest[0]);
        subs.get(oldest[1])?.pending?.delete(oldest[0]);
      }
    }
    sub.pending!.add(ackId);
    if (this.pendingAcks === NO_PENDING_ACKS) this.pendingAcks = new Map();
    this.pendingAcks.set(ackId, sub.id);
  }

  /**
   * ACK and NACK both settle the message: history is durable and a client that NACKs resyncs with
   * `x-since`, so there is nothing to redeliver. Unknown ids are ignored (the spec leaves it
   * open; a client acking twice after a reconnect should not be disconnected for it).
   */
  settle(ackId: string, subs: ReadonlyMap<string, LiveSubscription>): void {
    const subId = this.pendingAcks.get(ackId);
    if (subId === undefined) return;
    const sub = subs.get(subId);
    if (sub?.pending === undefined) {
      this.pendingAcks.delete(ackId);
      return;
    }
    if (sub.ack === 'client-individual') {
      sub.pending.delete(ackId);
      this.pendingAcks.delete(ackId);
      return;
    }
    // `client` mode is cumulative: everything delivered on this subscription up to ackId.
    for (const id of sub.pending) {
      sub.pending.delete(id);
      this.pendingAcks.delete(id);
      if (id === ackId) break;
    }
  }

  /** the subscription ended: its unacknowledged messages are forgotten */
  dropSubscription(sub: LiveSubscription): void {
    if (sub.pending === undefined) return;
    for (const ackId of sub.pending) this.pendingAcks.delete(ackId);
    sub.pending.clear();
  }

  // ── transactions ───────────────────────────────────────────────────────────────────────────

  /** Buffers a SEND/ACK/NACK that names a transaction; returns true when it did. */
  buffer(frame: StompFrame): boolean {
    const txId = frame.headers.get('transaction');
    if (txId === undefined) return false;
    const frames = this.transactions.get(txId);
    if (frames === undefined) throw new StompError('UNKNOWN_TRANSACTION', `no transaction ${JSON.stringify(txId)}`);
    if (frames.length >= this.limits.maxTransactionFrames) {
      throw new StompError('TRANSACTION_TOO_LARGE', `at most ${this.limits.maxTransactionFrames} frames per transaction`);
    }
    frames.push(frame);
    return true;
  }

  begin(txId: string): void {
    if (this.transactions.has(txId)) throw new StompError('DUPLICATE_TRANSACTION', `transaction ${JSON.stringify(txId)} is already open`);
    if (this.transactions.size >= this.limits.maxTransactions) {
      throw new StompError('TOO_MANY_TRANSACTIONS', `at most ${this.limits.maxTransactions} open transactions`);
    }
    if (this.transactions === NO_TRANSACTIONS) this.transactions = new Map();
    this.transactions.set(txId, []);
  }

  /** COMMIT: the transaction's frames, in order; it is closed */
  commit(txId: string): StompFrame[] {
    const frames = this.transactions.get(txId);
    if (frames === undefined) throw new StompError('UNKNOWN_TRANSACTION', `no transaction ${JSON.stringify(txId)}`);
    this.transactions.delete(txId);
    return frames;
  }

  abort(txId: string): void {
    if (!this.transactions.delete(txId)) throw new StompError('UNKNOWN_TRANSACTION', `no transaction ${JSON.stringify(txId)}`);
  }

  // ── SENDs in flight ────────────────────────────────────────────────────────────────────────

  get sendsInFlight(): number {
    return this.sends.size;
  }

  get sendSlotFree(): boolean {
    return this.sends.size < this.limits.maxInflightSends;
  }

  addSend(settled: SettledSend): void {
    if (this.sends === NO_SENDS) this.sends = new Set();
    this.sends.add(settled);
  }

  sendDone(settled: SettledSend): void {
    this.sends.delete(settled);
  }

  async waitForSendSlot(): Promise<void> {
    while (!this.sendSlotFree) await Promise.race(this.sends);
  }

  /** every SEND in flight settled */
  allSends(): Promise<unknown> {
    return Promise.all(this.sends);
  }

  // ── end ────────────────────────────────────────────────────────────────────────────────────

  /** Open transactions are aborted (spec §BEGIN: implicitly aborted on disconnect). */
  abortAll(): void {
    this.transactions.clear();
  }

  forgetAcks(): void {
    this.pendingAcks.clear();
  }
}
