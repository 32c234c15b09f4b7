'use client';
/** The conversation: day separators, the "Unread messages" divider, stored messages, then the outbox. */
import { Fragment } from 'react';
import type { ChatMessage } from '../../_lib/chat-types';
import type { PendingMessage } from '../../_lib/outbox';
import { dayKey, formatDay, formatTime } from '../format';
import { MessageText } from './message-text';

export function MessageList(props: {
  messages: ChatMessage[];
  pending: readonly PendingMessage[];
  meId: string;
  name: string;
  firstUnreadId: string | null;
  lastReadMine: string | null;
  connected: boolean;
  onRetry(clientMsgId: string): void;
}) {
  const { messages, pending, meId, name, firstUnreadId, lastReadMine, connected, onRetry } = props;
  return (
    <ol className="message-list" aria-label={`Messages with ${name}`}>
      {messages.map((m, i) => {
        const prev = messages[i - 1];
        const mine = m.senderId === meId;
        const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
        const grouped = !newDay && prev?.senderId === m.senderId && m.id !== firstUnreadId;
        return (
          <Fragment key={m.id}>
            {newDay && (
              <li className="day-separator" aria-hidden="true">
                <span>{formatDay(m.createdAt)}</span>
              </li>
            )}
            {m.id === firstUnreadId && (
              <li className="unread-divider" data-testid="unread-divider">
                <span>Unread messages</span>
              </li>
            )}
            <li className={`message ${mine ? 'is-mine' : 'is-theirs'} ${grouped ? 'is-grouped' : ''}`} data-message-id={m.id} data-testid="message">
              <span className="sr-only">{mine ? 'You' : name}: </span>
              <div className="bubble">
                <MessageText text={m.content} />
              </div>
              <div className="message-meta">
                <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
                {m.id === lastReadMine && (
                  <span className="read-mark" data-testid="read-mark">
                    Read
                  </span>
                )}
              </div>
            </li>
          </Fragment>
        );
      })}
      {pending.map((p) => (
        <li key={p.clientMsgId} className={`message is-mine is-pending is-${p.status}`} data-testid="pending-message" data-status={p.status}>
          <span className="sr-only">You: </span>
          <div className="bubble">
            <MessageText text={p.content} />
          </div>
          <div className="message-meta">
            {p.status === 'sending' && <span>{connected ? 'Sending…' : 'Waiting for connection…'}</span>}
            {p.status === 'sent' && <span>Sent</span>}
            {p.status === 'failed' && (
              <>
                <span className="failed-text" role="alert">
                  {p.error ?? 'Not delivered'}
                </span>
                <button type="button" className="link-button" onClick={() => onRetry(p.clientMsgId)}>
                  Retry
                </button>
              </>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
