'use client';
/**
 * The conversation: day separators, the "Unread messages" divider, stored messages (text,
 * photos, or "Message deleted"), then the outbox. Each message offers what its reader may do
 * with it: delete one's own within the window, report the other side's.
 */
import { Fragment } from 'react';
import type { Attachment, ChatMessage } from '../../_lib/chat-types';
import { canDelete } from '../../_lib/social-api';
import type { PendingMessage } from '../../_lib/outbox';
import { dayKey, formatDay, formatTime } from '../format';
import { MessageText } from './message-text';
import { PhotoGrid } from './photos';

export function MessageList(props: {
  messages: ChatMessage[];
  pending: readonly PendingMessage[];
  meId: string;
  name: string;
  firstUnreadId: string | null;
  lastReadMine: string | null;
  connected: boolean;
  onRetry(clientMsgId: string): void;
  onOpenPhoto(photo: Attachment): void;
  onDelete(message: ChatMessage): void;
  onReport(message: ChatMessage): void;
}) {
  const { messages, pending, meId, name, firstUnreadId, lastReadMine, connected, onRetry, onOpenPhoto, onDelete, onReport } = props;
  const now = Date.now();
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
            <li
              className={`message ${mine ? 'is-mine' : 'is-theirs'} ${grouped ? 'is-grouped' : ''} ${m.deleted ? 'is-deleted' : ''}`}
              data-message-id={m.id}
              data-testid="message"
              data-deleted={m.deleted ? 'true' : undefined}
            >
              <span className="sr-only">{mine ? 'You' : name}: </span>
              {m.deleted ? (
                <div className="bubble bubble-deleted" data-testid="deleted-message">
                  Message deleted
                </div>
              ) : (
                <>
                  {m.attachments && m.attachments.length > 0 && <PhotoGrid photos={m.attachments} onOpen={onOpenPhoto} />}
                  {m.content && (
                    <div className="bubble">
                      <MessageText text={m.content} />
                    </div>
                  )}
                </>
              )}
              <div className="message-meta">
                <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
                {canDelete(m, meId, now) && (
                  <button type="button" className="message-action" onClick={() => onDelete(m)} aria-label={`Delete your message from ${formatTime(m.createdAt)}`} data-testid="delete-message">
                    Delete
                  </button>
                )}
                {!mine && !m.deleted && (
                  <button type="button" className="message-action" onClick={() => onReport(m)} aria-label={`Report this message from ${name}`} data-testid="report-message">
                    Report
                  </button>
                )}
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
          {p.attachments && p.attachments.length > 0 && <PhotoGrid photos={p.attachments} onOpen={onOpenPhoto} />}
          {p.content && (
            <div className="bubble">
              <MessageText text={p.content} />
            </div>
          )}
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
