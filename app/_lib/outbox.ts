/**
 * The outbox of one room: messages the user wrote that the server has not yet shown back as
 * stored. Pure state transitions, so the rules are testable without a browser:
 *
 *   sending ──RECEIPT (same attempt)──▶ sent ──stored message with its clientMsgId──▶ (leaves the outbox)
 *      │  ▲                                                                                ▲
 *      │  └──────────── retry (new attempt, same clientMsgId) ───── failed ────────────────┘
 *      └── error event / no receipt in time ──────────────────────▶ failed   (only when the server
 *                                                                             has it after a resync)
 *
 * A failed message changes only by the user's retry, or by reconciliation: the server's own
 * history (live or after a resync) holds a message from us with its clientMsgId, so it was
 * stored after all and shows as what the server says. A receipt of an older attempt never
 * turns a failed message into "sent".
 */
import type { Attachment } from './chat-types';

export type OutboxStatus = 'sending' | 'sent' | 'failed';

export interface PendingMessage {
  clientMsgId: string;
  content: string;
  /** photos uploaded for it, sent by id */
  attachments?: Attachment[];
  createdAt: string;
  status: OutboxStatus;
  error?: string;
  /** increases with every transmission: receipts and timeouts of older attempts are stale */
  attempt: number;
}

export function enqueue(outbox: readonly PendingMessage[], clientMsgId: string, content: string, now = new Date(), attachments: Attachment[] = []): PendingMessage[] {
  const photos = attachments.length > 0 ? { attachments } : {};
  return [...outbox, { clientMsgId, content, ...photos, createdAt: now.toISOString(), status: 'sending', attempt: 1 }];
}

/** the SEND body of a pending message: photos go by id, and only when there are any */
export function sendBody(p: PendingMessage): { content: string; clientMsgId: string; attachments?: string[] } {
  const body = { content: p.content, clientMsgId: p.clientMsgId };
  return p.attachments?.length ? { ...body, attachments: p.attachments.map((a) => a.id) } : body;
}

/** the server's messages (history page, resync, live event): ours among them leave the outbox */
export function reconcile(outbox: readonly PendingMessage[], stored: ReadonlyArray<{ senderId: string; clientMsgId: string | null }>, meId: string): readonly PendingMessage[] {
  const confirmed = new Set<string>();
  for (const m of stored) if (m.clientMsgId && m.senderId === meId) confirmed.add(m.clientMsgId);
  if (confirmed.size === 0) return outbox;
  const next = outbox.filter((p) => !confirmed.has(p.clientMsgId));
  return next.length === outbox.length ? outbox : next;
}

function update(outbox: readonly PendingMessage[], clientMsgId: string, change: (p: PendingMessage) => PendingMessage | null): readonly PendingMessage[] {
  let changed = false;
  const next = outbox.map((p) => {
    if (p.clientMsgId !== clientMsgId) return p;
    const q = change(p);
    if (!q) return p;
    changed = true;
    return q;
  });
  return changed ? next : outbox;
}

/** the RECEIPT of `attempt`: stored on the server */
export function receiptArrived(outbox: readonly PendingMessage[], clientMsgId: string, attempt: number): readonly PendingMessage[] {
  return update(outbox, clientMsgId, (p) => (p.status === 'sending' && p.attempt === attempt ? { ...p, status: 'sent' } : null));
}

/** the server refused it (an error event naming its clientMsgId) */
export function rejected(outbox: readonly PendingMessage[], clientMsgId: string, reason: string): readonly PendingMessage[] {
  // a receipt already said "stored": a later refusal can only be of a repeat, which changes nothing
  return update(outbox, clientMsgId, (p) => (p.status === 'sending' ? { ...p, status: 'failed', error: reason } : null));
}

/** no receipt for `attempt` in time while connected */
export function timedOut(outbox: readonly PendingMessage[], clientMsgId: string, attempt: number): readonly PendingMessage[] {
  return update(outbox, clientMsgId, (p) => (p.status === 'sending' && p.attempt === attempt ? { ...p, status: 'failed', error: 'Not delivered' } : null));
}

/** the user pressed Retry: a new attempt with the same clientMsgId (the server stores it at most once) */
export function retried(outbox: readonly PendingMessage[], clientMsgId: string): readonly PendingMessage[] {
  return update(outbox, clientMsgId, (p) => {
    if (p.status !== 'failed') return null;
    const { error: _error, ...rest } = p;
    return { ...rest, status: 'sending', attempt: p.attempt + 1 };
  });
}

/** after a reconnect: every message still waiting for its receipt goes out again, oldest first */
export function dueForResend(outbox: readonly PendingMessage[]): { outbox: readonly PendingMessage[]; resend: PendingMessage[] } {
  const resend: PendingMessage[] = [];
  const next = outbox.map((p) => {
    if (p.status !== 'sending') return p;
    const q = { ...p, attempt: p.attempt + 1 };
    resend.push(q);
    return q;
  });
  return resend.length === 0 ? { outbox, resend } : { outbox: next, resend };
}

/** crypto.randomUUID exists only in secure contexts (https, localhost): plain-http LAN demos need the fallback */
export function newClientMsgId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
