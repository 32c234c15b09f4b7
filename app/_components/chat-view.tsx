'use client';
/**
 * One conversation: history over tRPC, live events over STOMP, sending with receipts.
 *
 * Ordering and gaps: the room is subscribed only after the first history page is in, with
 * `x-since: <newest id we have>` — on every (re)connect — so the server fills whatever
 * happened in between; messages are kept by id, so a message that comes both ways shows once.
 *
 * Sending: each message gets a clientMsgId and shows at once as "sending". Its RECEIPT means
 * it is stored ("sent"); the live MESSAGE with the same clientMsgId replaces it. A rejection
 * on /user/queue/errors marks it failed with Retry (same clientMsgId, so the server stores it
 * at most once). Messages still waiting for a receipt when the connection drops are sent
 * again after the reconnect, for the same reason safely.
 *
 * Scrolling: the view sticks to the bottom only when it already was there; older pages are
 * prepended with the scroll position kept (browser scroll anchoring is off, we do it here).
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { Fragment, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { formatPrice, productById } from '../_lib/catalogue';
import { counterpartName, useChat } from '../_lib/chat-context';
import { asRoomEvent, idGreater, type ChatMessage, type Room } from '../_lib/chat-types';
import { useTRPC, useTRPCClient } from '../_lib/trpc';
import { useStompSubscription } from '../_lib/use-stomp';
import { Avatar } from './avatar';
import { ProductIcon } from './product-icon';
import { dayKey, formatDay, formatTime } from './format';

const PAGE_SIZE = 30;
const MAX_CHARS = 2000;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_MS = 3000;
const RECEIPT_TIMEOUT_MS = 15_000;
const NEAR_BOTTOM_PX = 48;
const NEAR_TOP_PX = 120;

interface PendingMessage {
  clientMsgId: string;
  content: string;
  createdAt: string;
  status: 'sending' | 'sent' | 'failed';
  error?: string;
  attempt: number;
}

/** crypto.randomUUID exists only in secure contexts (https, localhost): plain-http LAN demos need the fallback */
function newClientMsgId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function byId(a: ChatMessage, b: ChatMessage): number {
  return a.id === b.id ? 0 : idGreater(a.id, b.id) ? 1 : -1;
}

export function ChatView({ roomId }: { roomId: string }) {
  const { me, connection, status, generation, setOpenRoom, onSendError } = useChat();
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const roomQuery = useQuery(trpc.rooms.get.queryOptions({ roomId }));
  const room = roomQuery.data;

  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [pending, setPending] = useState<PendingMessage[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [typingUntil, setTypingUntil] = useState(0);
  const [draft, setDraft] = useState('');
  const [visible, setVisible] = useState(true);
  const [showJump, setShowJump] = useState(false);
  const [announcement, setAnnouncement] = useState('');

  /** newest stored message id we hold: the `x-since` of every (re)subscribe */
  const newestId = useRef<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const atBottom = useRef(true);
  const forceBottom = useRef(true);
  const prepend = useRef<{ height: number; top: number } | null>(null);
  const lastTypingSent = useRef(0);
  const readSent = useRef<string>('0');
  const pendingRef = useRef(pending);
  useLayoutEffect(() => {
    pendingRef.current = pending;
  }, [pending]);
  const composerId = useId();
  const hintId = useId();

  const merge = useCallback((incoming: ChatMessage[]) => {
    if (incoming.length === 0) return;
    for (const m of incoming) if (!newestId.current || idGreater(m.id, newestId.current)) newestId.current = m.id;
    setMessages((prev) => {
      const map = new Map(prev.map((m) => [m.id, m]));
      let changed = false;
      for (const m of incoming) {
        if (!map.has(m.id)) {
          map.set(m.id, m);
          changed = true;
        }
      }
      return changed ? [...map.values()].sort(byId) : prev;
    });
    const confirmed = new Set(incoming.filter((m) => m.clientMsgId && m.senderId === me.id).map((m) => m.clientMsgId));
    if (confirmed.size > 0) setPending((prev) => prev.filter((p) => !confirmed.has(p.clientMsgId)));
  }, [me.id]);

  // ------------------------------------------------------------------ the room is open

  useEffect(() => {
    setOpenRoom(roomId);
    return () => setOpenRoom(null);
  }, [roomId, setOpenRoom]);

  useEffect(() => {
    const onVisibility = () => setVisible(document.visibilityState === 'visible');
    onVisibility();
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);

  useEffect(() => {
    // keyboard users land in the composer; phones do not get their keyboard popped up
    if (window.matchMedia('(min-width: 768px)').matches) composer.current?.focus();
  }, [roomId]);

  // ------------------------------------------------------------------ history

  const loadFirstPage = useCallback(async () => {
    setLoadError(null);
    try {
      const res = await api.history.list.query({ roomId, limit: PAGE_SIZE });
      forceBottom.current = true;
      merge(res.messages);
      setOlderCursor(res.nextCursor);
      setLoaded(true);
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : 'Could not load the conversation.');
    }
  }, [api, roomId, merge]);

  useEffect(() => {
    void loadFirstPage();
  }, [loadFirstPage]);

  const loadOlder = useCallback(async () => {
    const el = scroller.current;
    if (!olderCursor || loadingOlder || !el) return;
    setLoadingOlder(true);
    try {
      const res = await api.history.list.query({ roomId, limit: PAGE_SIZE, before: olderCursor });
      prepend.current = { height: el.scrollHeight, top: el.scrollTop };
      merge(res.messages);
      setOlderCursor(res.nextCursor);
    } catch {
      /* the user can scroll up again */
    } finally {
      setLoadingOlder(false);
    }
  }, [api, roomId, olderCursor, loadingOlder, merge]);

  // ------------------------------------------------------------------ live events

  const updateRoomCache = useCallback(
    (update: (r: Room) => Room | null) => {
      queryClient.setQueryData<Room>(trpc.rooms.get.queryKey({ roomId }), (old) => (old ? (update(old) ?? old) : old));
    },
    [queryClient, trpc, roomId],
  );

  useStompSubscription(
    connection,
    loaded ? `/sub/chat/room/${roomId}` : null,
    (body) => {
      const ev = asRoomEvent(body);
      if (!ev || ev.roomId !== roomId) return;
      switch (ev.type) {
        case 'message':
          if (ev.senderId !== me.id) {
            setTypingUntil(0);
            setAnnouncement(`${room ? counterpartName(room) : 'New message'}: ${ev.content}`);
          }
          merge([ev]);
          break;
        case 'read':
          if (ev.userId !== me.id)
            updateRoomCache((r) =>
              idGreater(ev.messageId, r.counterpart.lastReadMessageId) ? { ...r, counterpart: { ...r.counterpart, lastReadMessageId: ev.messageId } } : null,
            );
          break;
        case 'typing':
          if (ev.userId !== me.id) setTypingUntil(Date.now() + TYPING_SHOW_MS);
          break;
        case 'presence':
          updateRoomCache((r) => (r.counterpart.id === ev.userId ? { ...r, counterpart: { ...r.counterpart, online: ev.online } } : null));
          break;
      }
    },
    () => ({ 'x-since': newestId.current ?? '0' }),
  );

  useEffect(() => {
    if (typingUntil === 0) return;
    const t = setTimeout(() => setTypingUntil(0), Math.max(0, typingUntil - Date.now()));
    return () => clearTimeout(t);
  }, [typingUntil]);

  // ------------------------------------------------------------------ sending

  const markPending = useCallback((clientMsgId: string, patch: Partial<PendingMessage>) => {
    setPending((prev) => prev.map((p) => (p.clientMsgId === clientMsgId ? { ...p, ...patch } : p)));
  }, []);

  const transmit = useCallback(
    (p: Pick<PendingMessage, 'clientMsgId' | 'content' | 'attempt'>) => {
      const receipt = `msg-${p.clientMsgId}-${p.attempt}`;
      const sent = connection.publishWithReceipt(`/pub/room/${roomId}/message`, { content: p.content, clientMsgId: p.clientMsgId }, receipt, () =>
        setPending((prev) => prev.map((x) => (x.clientMsgId === p.clientMsgId && x.status === 'sending' ? { ...x, status: 'sent' } : x))),
      );
      if (!sent) return; // stays "sending"; goes out after the reconnect
      setTimeout(() => {
        const now = pendingRef.current.find((x) => x.clientMsgId === p.clientMsgId);
        if (now && now.status === 'sending' && now.attempt === p.attempt && connection.connected) {
          markPending(p.clientMsgId, { status: 'failed', error: 'Not delivered' });
        }
      }, RECEIPT_TIMEOUT_MS);
    },
    [connection, roomId, markPending],
  );

  const send = useCallback(() => {
    const content = draft.trim();
    if (!content || [...content].length > MAX_CHARS) return;
    const p: PendingMessage = { clientMsgId: newClientMsgId(), content, createdAt: new Date().toISOString(), status: 'sending', attempt: 1 };
    forceBottom.current = true;
    setPending((prev) => [...prev, p]);
    setDraft('');
    lastTypingSent.current = 0;
    transmit(p);
    composer.current?.focus();
  }, [draft, transmit]);

  const retry = useCallback(
    (clientMsgId: string) => {
      const p = pendingRef.current.find((x) => x.clientMsgId === clientMsgId);
      if (!p) return;
      const next = { ...p, status: 'sending' as const, attempt: p.attempt + 1 };
      delete next.error;
      setPending((prev) => prev.map((x) => (x.clientMsgId === clientMsgId ? next : x)));
      transmit(next);
    },
    [transmit],
  );

  useEffect(
    () =>
      onSendError((e) => {
        if (!e.clientMsgId) return;
        const reason = e.code === 'TOO_MANY_REQUESTS' ? 'Sending too fast' : e.message || 'Not delivered';
        setPending((prev) => prev.map((p) => (p.clientMsgId === e.clientMsgId ? { ...p, status: 'failed', error: reason } : p)));
      }),
    [onSendError],
  );

  // after a reconnect: what never got its receipt goes out again (same clientMsgId: stored once)
  useEffect(() => {
    if (status !== 'connected') return;
    const resend = pendingRef.current.filter((p) => p.status === 'sending').map((p) => ({ ...p, attempt: p.attempt + 1 }));
    if (resend.length === 0) return;
    const attempts = new Map(resend.map((p) => [p.clientMsgId, p.attempt]));
    setPending((prev) => prev.map((p) => (attempts.has(p.clientMsgId) ? { ...p, attempt: attempts.get(p.clientMsgId) ?? p.attempt } : p)));
    for (const p of resend) transmit(p);
  }, [generation, status, transmit]);

  function onDraftChange(value: string) {
    setDraft(value);
    const now = Date.now();
    if (value.trim() && now - lastTypingSent.current >= TYPING_SEND_EVERY_MS) {
      lastTypingSent.current = now;
      connection.publish(`/pub/room/${roomId}/typing`, {});
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter is a new line; never while an IME (Korean, Japanese…) composes
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  }

  // ------------------------------------------------------------------ read marks

  const newestFromThem = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m && m.senderId !== me.id) return m.id;
    }
    return null;
  }, [messages, me.id]);

  useEffect(() => {
    if (!newestFromThem || !visible || status !== 'connected') return;
    if (!idGreater(newestFromThem, readSent.current)) return;
    if (room && !idGreater(newestFromThem, room.lastReadMessageId)) {
      readSent.current = newestFromThem;
      return;
    }
    if (connection.publish(`/pub/room/${roomId}/read`, { messageId: newestFromThem })) readSent.current = newestFromThem;
  }, [newestFromThem, visible, status, generation, connection, roomId, room]);

  /** the last of my messages the other side has read */
  const readUpTo = room?.counterpart.lastReadMessageId ?? '0';
  const lastReadMine = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m && m.senderId === me.id && !idGreater(m.id, readUpTo)) return m.id;
    }
    return null;
  }, [messages, me.id, readUpTo]);

  // ------------------------------------------------------------------ scrolling

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) setShowJump(false);
    if (el.scrollTop < NEAR_TOP_PX) void loadOlder();
  }, [loadOlder]);

  const lastSeenCount = useRef(0);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (prepend.current) {
      const { height, top } = prepend.current;
      prepend.current = null;
      el.scrollTop = el.scrollHeight - height + top;
    } else if (forceBottom.current || atBottom.current) {
      forceBottom.current = false;
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (messages.length > lastSeenCount.current) {
      setShowJump(true);
    }
    lastSeenCount.current = messages.length;
  }, [messages, pending, typingUntil]);

  // the first page may not fill a tall screen: keep loading until it scrolls
  useEffect(() => {
    const el = scroller.current;
    if (el && loaded && olderCursor && !loadingOlder && el.scrollHeight <= el.clientHeight + NEAR_TOP_PX) void loadOlder();
  }, [loaded, olderCursor, loadingOlder, loadOlder, messages.length]);

  // keep the bottom in view when the composer grows or the phone keyboard resizes the view
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  function jumpToBottom() {
    const el = scroller.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    setShowJump(false);
  }

  // ------------------------------------------------------------------ render

  const name = room ? counterpartName(room) : '';
  const product = room ? productById(room.productId) : undefined;
  const typing = typingUntil > Date.now();
  const tooLong = [...draft].length > MAX_CHARS;

  if (roomQuery.error) {
    const code = (roomQuery.error as { data?: { code?: string } }).data?.code;
    return (
      <div className="chat-empty" role="alert">
        <h1>{code === 'FORBIDDEN' || code === 'NOT_FOUND' ? 'This chat is not available' : 'Could not open this chat'}</h1>
        <p className="muted">{code === 'FORBIDDEN' || code === 'NOT_FOUND' ? 'It may have been removed, or it belongs to someone else.' : roomQuery.error.message}</p>
        <Link href="/chat" className="btn btn-secondary">
          Back to chats
        </Link>
      </div>
    );
  }

  return (
    <div className="chat-view" data-testid="chat-view">
      <header className="chat-header">
        <Link href="/chat" className="back-link" aria-label="Back to chats">
          <span aria-hidden="true">‹</span>
        </Link>
        {room ? (
          <>
            <Avatar id={room.counterpart.id} name={name} online={room.counterpart.online === true} />
            <div className="chat-header-main">
              <h1 className="chat-title">{name}</h1>
              <p className="chat-subtitle">
                <span className={`status-text ${room.counterpart.online ? 'is-online' : ''}`} data-testid="counterpart-status">
                  {room.counterpart.online ? 'Online' : 'Offline'}
                </span>
                <span aria-hidden="true"> · </span>
                <span>{room.role === 'buyer' ? 'Seller' : 'Buyer'}</span>
              </p>
            </div>
            <div className="chat-product" title={product?.title ?? room.productId}>
              {product && (
                <span className="chat-product-tile" style={{ background: product.colour }} aria-hidden="true">
                  <ProductIcon name={product.icon} colour={product.ink} size={24} />
                </span>
              )}
              <span className="chat-product-text">
                <span className="chat-product-title">{product?.title ?? room.productId}</span>
                {product && <span className="chat-product-price">{formatPrice(product.price)}</span>}
              </span>
            </div>
          </>
        ) : (
          <div className="chat-header-main">
            <span className="skeleton-line" />
          </div>
        )}
      </header>

      <div className="messages-wrap">
        <div className="messages" ref={scroller} onScroll={onScroll} data-testid="messages">
          {loadError && (
            <div className="load-error" role="alert">
              <p>Could not load the conversation.</p>
              <button type="button" className="btn btn-secondary btn-small" onClick={() => void loadFirstPage()}>
                Try again
              </button>
            </div>
          )}
          {loaded && !olderCursor && (
            <p className="conversation-start muted small">
              {messages.length === 0 && pending.length === 0
                ? `Say hello to ${name || 'them'}${product ? ` about the ${product.title.toLowerCase()}` : ''}.`
                : 'This is the start of your conversation.'}
            </p>
          )}
          {!loaded && !loadError && <p className="loading-older muted small">Loading messages…</p>}
          <ol className="message-list" aria-label={`Messages with ${name}`}>
            {messages.map((m, i) => {
              const prev = messages[i - 1];
              const mine = m.senderId === me.id;
              const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
              const grouped = !newDay && prev?.senderId === m.senderId;
              return (
                <Fragment key={m.id}>
                  {newDay && (
                    <li className="day-separator" aria-hidden="true">
                      <span>{formatDay(m.createdAt)}</span>
                    </li>
                  )}
                  <li className={`message ${mine ? 'is-mine' : 'is-theirs'} ${grouped ? 'is-grouped' : ''}`} data-message-id={m.id} data-testid="message">
                    <span className="sr-only">{mine ? 'You' : name}: </span>
                    <div className="bubble">{m.content}</div>
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
                <div className="bubble">{p.content}</div>
                <div className="message-meta">
                  {p.status === 'sending' && <span>{status === 'connected' ? 'Sending…' : 'Waiting for connection…'}</span>}
                  {p.status === 'sent' && <span>Sent</span>}
                  {p.status === 'failed' && (
                    <>
                      <span className="failed-text" role="alert">
                        {p.error ?? 'Not delivered'}
                      </span>
                      <button type="button" className="link-button" onClick={() => retry(p.clientMsgId)}>
                        Retry
                      </button>
                    </>
                  )}
                </div>
              </li>
            ))}
          </ol>
        </div>
        {loadingOlder && (
          <p className="loading-float" role="status">
            Loading earlier messages…
          </p>
        )}
        {showJump && (
          <button type="button" className="jump-button" onClick={jumpToBottom}>
            New messages ↓
          </button>
        )}
      </div>

      <div className="typing-line" aria-live="polite" data-testid="typing">
        {typing ? `${name} is typing…` : ''}
      </div>
      <div className="sr-only" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>

      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <label htmlFor={composerId} className="sr-only">
          Message to {name}
        </label>
        <textarea
          id={composerId}
          ref={composer}
          className="composer-input"
          rows={1}
          placeholder={name ? `Message ${name}` : 'Write a message'}
          value={draft}
          onChange={(e) => onDraftChange(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={hintId}
          aria-invalid={tooLong || undefined}
          maxLength={MAX_CHARS * 2}
          data-testid="composer"
        />
        <button type="submit" className="btn btn-primary send-button" disabled={!draft.trim() || tooLong}>
          Send
        </button>
        <p id={hintId} className={`composer-hint ${tooLong ? 'is-error' : ''}`}>
          {tooLong ? `${[...draft].length} / ${MAX_CHARS} characters — too long` : 'Enter to send · Shift+Enter for a new line'}
        </p>
      </form>
    </div>
  );
}
