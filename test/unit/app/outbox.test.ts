/** The outbox's rules: what the user sees of a message until the server shows it back as stored. */
import { describe, expect, it } from 'vitest';
import { dueForResend, enqueue, receiptArrived, reconcile, rejected, retried, timedOut, type PendingMessage } from '../../../app/_lib/outbox';

const ME = 'alice';
const one = (): readonly PendingMessage[] => enqueue([], 'c1', 'Is it available?');
const statusOf = (o: readonly PendingMessage[], id = 'c1') => o.find((p) => p.clientMsgId === id)?.status;

describe('outbox', () => {
  it('shows a new message as sending, then sent when its receipt arrives', () => {
    const o = one();
    expect(statusOf(o)).toBe('sending');
    expect(statusOf(receiptArrived(o, 'c1', 1))).toBe('sent');
  });

  it('never turns a message the server rejected into sent, even when a stale receipt arrives', () => {
    let o = rejected(one(), 'c1', 'You are not a member of this room');
    expect(statusOf(o)).toBe('failed');
    o = receiptArrived(o, 'c1', 1);
    expect(statusOf(o)).toBe('failed');
    o = timedOut(o, 'c1', 1);
    expect(o.find((p) => p.clientMsgId === 'c1')?.error).toBe('You are not a member of this room');
  });

  it('ignores the receipt and timeout of an earlier attempt after a retry', () => {
    let o = timedOut(one(), 'c1', 1);
    expect(statusOf(o)).toBe('failed');
    o = retried(o, 'c1');
    expect(o[0]).toMatchObject({ status: 'sending', attempt: 2 });
    expect(o[0]).not.toHaveProperty('error');
    expect(statusOf(receiptArrived(o, 'c1', 1))).toBe('sending');
    expect(statusOf(timedOut(o, 'c1', 1))).toBe('sending');
    expect(statusOf(receiptArrived(o, 'c1', 2))).toBe('sent');
  });

  it('lets a failed message go only when the server has it stored under its clientMsgId', () => {
    const o = timedOut(one(), 'c1', 1);
    // someone else's message with the same clientMsgId, or one without, changes nothing
    expect(reconcile(o, [{ senderId: 'bob', clientMsgId: 'c1' }, { senderId: ME, clientMsgId: null }], ME)).toBe(o);
    expect(reconcile(o, [{ senderId: ME, clientMsgId: 'c1' }], ME)).toEqual([]);
  });

  it('sends what waited for a connection again in the order it was written', () => {
    let o: readonly PendingMessage[] = enqueue(enqueue(enqueue([], 'a', 'first'), 'b', 'second'), 'c', 'third');
    o = receiptArrived(o, 'b', 1);
    const { outbox, resend } = dueForResend(o);
    expect(resend.map((p) => p.content)).toEqual(['first', 'third']);
    expect(resend.every((p) => p.attempt === 2)).toBe(true);
    expect(statusOf(outbox, 'b')).toBe('sent');
  });

  it('does not retry a message that is not failed', () => {
    const o = one();
    expect(retried(o, 'c1')).toBe(o);
  });
});
