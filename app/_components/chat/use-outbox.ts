'use client';
/**
 * Sending: each message gets a clientMsgId and shows at once as "sending"; the rules of its
 * states are in app/_lib/outbox.ts. Messages still waiting for a receipt when the connection
 * drops go out again after the reconnect, oldest first (same clientMsgId: stored once). The
 * outbox of each room outlives the view while the page is open, so switching rooms loses
 * nothing that was written.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Attachment, ChatMessage } from '../../_lib/chat-types';
import { useChat } from '../../_lib/chat-context';
import {
  dueForResend,
  enqueue,
  newClientMsgId,
  receiptArrived,
  reconcile,
  rejected,
  retried,
  sendBody,
  timedOut,
  type PendingMessage,
} from '../../_lib/outbox';

const RECEIPT_TIMEOUT_MS = 15_000;

/** room id → its outbox, for the life of the page */
const outboxes = new Map<string, readonly PendingMessage[]>();

export function useOutbox(roomId: string) {
  const { me, connection, status, generation, onSendError, updateRoom } = useChat();
  const [pending, setPendingState] = useState<readonly PendingMessage[]>(() => outboxes.get(roomId) ?? []);
  const pendingRef = useRef(pending);
  useLayoutEffect(() => {
    pendingRef.current = pending;
    if (pending.length > 0) outboxes.set(roomId, pending);
    else outboxes.delete(roomId);
  }, [pending, roomId]);
  const apply = useCallback((change: (o: readonly PendingMessage[]) => readonly PendingMessage[]) => setPendingState(change), []);

  const transmit = useCallback(
    (p: PendingMessage) => {
      const receipt = `msg-${p.clientMsgId}-${p.attempt}`;
      const sent = connection.publishWithReceipt(`/pub/room/${roomId}/message`, sendBody(p), receipt, () =>
        apply((o) => receiptArrived(o, p.clientMsgId, p.attempt)),
      );
      if (!sent) return; // stays "sending"; goes out after the reconnect
      setTimeout(() => {
        if (connection.connected) apply((o) => timedOut(o, p.clientMsgId, p.attempt));
      }, RECEIPT_TIMEOUT_MS);
    },
    [connection, roomId, apply],
  );

  const send = useCallback(
    (content: string, attachments: Attachment[] = []) => {
      const clientMsgId = newClientMsgId();
      const next = enqueue(pendingRef.current, clientMsgId, content, new Date(), attachments);
      pendingRef.current = next;
      setPendingState(next);
      transmit(next[next.length - 1]!);
    },
    [transmit],
  );

  const retry = useCallback(
    (clientMsgId: string) => {
      const next = retried(pendingRef.current, clientMsgId);
      const p = next.find((x) => x.clientMsgId === clientMsgId);
      if (next === pendingRef.current || !p) return;
      pendingRef.current = next;
      setPendingState(next);
      transmit(p);
    },
    [transmit],
  );

  const onStored = useCallback((stored: ChatMessage[]) => apply((o) => reconcile(o, stored, me.id)), [apply, me.id]);

  useEffect(
    () =>
      onSendError((e) => {
        if (!e.clientMsgId) return;
        // the other side blocked this chat since it was opened: the composer says so from now on
        if (e.code === 'BLOCKED' && pendingRef.current.some((p) => p.clientMsgId === e.clientMsgId))
          updateRoom(roomId, (r) => (r.blocked === 'byMe' || r.blocked === 'byThem' ? null : { ...r, blocked: 'byThem' }));
        const reason = e.code === 'TOO_MANY_REQUESTS' ? 'Sending too fast' : e.code === 'BLOCKED' ? 'Not delivered: this chat is blocked' : e.message || 'Not delivered';
        apply((o) => rejected(o, e.clientMsgId!, reason));
      }),
    [onSendError, apply, updateRoom, roomId],
  );

  // after a reconnect: what never got its receipt goes out again, in the order it was written
  useEffect(() => {
    if (status !== 'connected') return;
    const { outbox, resend } = dueForResend(pendingRef.current);
    if (resend.length === 0) return;
    pendingRef.current = outbox;
    setPendingState(outbox);
    for (const p of resend) transmit(p);
  }, [generation, status, transmit]);

  return { pending, send, retry, onStored };
}
