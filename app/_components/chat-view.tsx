'use client';
/**
 * One conversation, put together from its parts: the room (tRPC `rooms.get`), the stored
 * messages (chat/use-history), the outbox (chat/use-outbox), read marks, the draft and where
 * the list is scrolled; photos open in a viewer, and the room's menu and message actions
 * (chat/use-room-actions) block, report, leave, mute and delete. Only the message list
 * scrolls; header and composer stay put.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import { productById } from '../_lib/catalogue';
import { counterpartName, useChat } from '../_lib/chat-context';
import { asDeleted, idGreater, previewOf, type Attachment, type ChatMessage, type Room, type RoomEvent } from '../_lib/chat-types';
import { useTRPC } from '../_lib/trpc';
import { ChatHeader } from './chat/chat-header';
import { Composer } from './chat/composer';
import { MessageList } from './chat/message-list';
import { PhotoViewer } from './chat/photos';
import { useDraft } from './chat/use-draft';
import { useHistory } from './chat/use-history';
import { useOutbox } from './chat/use-outbox';
import { useReadMarks } from './chat/use-read-marks';
import { useRoomActions } from './chat/use-room-actions';
import { useStickToBottom } from './chat/use-stick-to-bottom';

const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOW_MS = 3000;

export function ChatView({ roomId }: { roomId: string }) {
  const { me, connection, status, generation, setOpenRoom, updateRoom: updateListedRoom } = useChat();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const roomQuery = useQuery(trpc.rooms.get.queryOptions({ roomId }));
  const room = roomQuery.data;
  const name = room ? counterpartName(room) : '';

  const [typingUntil, setTypingUntil] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  /** the answer to the user's last action (report sent, blocked…), shown for a while */
  const [notice, setNotice] = useState('');
  const [viewing, setViewing] = useState<Attachment | null>(null);
  /** when the other side was last seen by this page (went offline, or wrote) */
  const [lastSeen, setLastSeen] = useState<string | null>(null);
  const [draft, setDraft] = useDraft(roomId);
  const scroller = useRef<HTMLDivElement>(null);
  const lastTypingSent = useRef(0);

  useEffect(() => {
    setOpenRoom(roomId);
    return () => setOpenRoom(null);
  }, [roomId, setOpenRoom]);

  const updateRoom = useCallback(
    (update: (r: Room) => Room | null) => queryClient.setQueryData<Room>(trpc.rooms.get.queryKey({ roomId }), (old) => (old ? (update(old) ?? old) : old)),
    [queryClient, trpc, roomId],
  );

  // the room list shows the deleted message as deleted too, when it was the last one
  // (and what was announced of it to screen readers goes too)
  const deletedInList = useCallback(
    (messageId: string) => {
      setAnnouncement('');
      updateListedRoom(roomId, (r) => (r.lastMessage && r.lastMessage.id === messageId ? { ...r, lastMessage: asDeleted(r.lastMessage) } : null));
    },
    [updateListedRoom, roomId],
  );

  const outbox = useOutbox(roomId);
  const stick = useRef<{ beforePrepend(): void }>({ beforePrepend: () => undefined });
  const history = useHistory({
    roomId,
    room,
    meId: me.id,
    connection,
    onStored: outbox.onStored,
    onDeleted: deletedInList,
    beforePrepend: () => stick.current.beforePrepend(),
    onIncoming: (m: ChatMessage) => {
      setTypingUntil(0);
      setAnnouncement(`${name || 'New message'}: ${previewOf(m)}`);
    },
    onEvent: (ev: Exclude<RoomEvent, ChatMessage | { type: 'deleted' }>) => {
      if (ev.type === 'typing' && ev.userId !== me.id) setTypingUntil(Date.now() + TYPING_SHOW_MS);
      if (ev.type === 'read' && ev.userId !== me.id)
        updateRoom((r) => (idGreater(ev.messageId, r.counterpart.lastReadMessageId) ? { ...r, counterpart: { ...r.counterpart, lastReadMessageId: ev.messageId } } : null));
      if (ev.type === 'presence') {
        if (!ev.online && ev.userId !== me.id) setLastSeen(new Date().toISOString());
        updateRoom((r) => (r.counterpart.id === ev.userId ? { ...r, counterpart: { ...r.counterpart, online: ev.online } } : null));
      }
    },
  });
  const { messages, pending } = { messages: history.messages, pending: outbox.pending };
  const actions = useRoomActions({
    roomId,
    room,
    name,
    onDeleted: (id) => {
      history.markDeleted(id);
      deletedInList(id);
    },
    announce: (text) => {
      setNotice(text);
      setAnnouncement(text);
    },
  });
  const { lastReadMine } = useReadMarks({ roomId, room, messages, meId: me.id, connection, status, generation });

  const scroll = useStickToBottom({
    scroller,
    content: [messages, pending, typingUntil],
    count: messages.length,
    loaded: history.loaded,
    hasOlder: history.olderCursor !== null,
    loadingOlder: history.loadingOlder,
    loadOlder: history.loadOlder,
    openAt: () => scroller.current?.querySelector<HTMLElement>('[data-testid="unread-divider"]') ?? null,
  });
  stick.current = scroll;

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(''), 5000);
    return () => clearTimeout(t);
  }, [notice]);

  useEffect(() => {
    if (typingUntil === 0) return;
    const t = setTimeout(() => setTypingUntil(0), Math.max(0, typingUntil - Date.now()));
    return () => clearTimeout(t);
  }, [typingUntil]);

  // the server's "last seen" (end of their last session), unless this page saw them go since
  const serverSeen = room?.counterpart.lastSeenAt ?? null;
  const seen = lastSeen && (!serverSeen || lastSeen > serverSeen) ? lastSeen : serverSeen;

  if (roomQuery.error) {
    const code = (roomQuery.error as { data?: { code?: string } }).data?.code;
    const gone = code === 'FORBIDDEN' || code === 'NOT_FOUND';
    return (
      <div className="chat-empty" role="alert">
        <h1>{gone ? 'This chat is not available' : 'Could not open this chat'}</h1>
        <p className="muted">{gone ? 'It may have been removed, or it belongs to someone else.' : roomQuery.error.message}</p>
        <Link href="/chat" className="btn btn-secondary">
          Back to chats
        </Link>
      </div>
    );
  }

  const product = room ? productById(room.productId) : undefined;
  return (
    <div className="chat-view" data-testid="chat-view">
      <ChatHeader room={room} status={status} lastSeen={seen} onAction={(a) => void actions.onAction(a)} />
      <div className="messages-wrap">
        <div className="messages" ref={scroller} onScroll={scroll.onScroll} data-testid="messages">
          {history.loadError && (
            <div className="load-error" role="alert">
              <p>Could not load the conversation.</p>
              <button type="button" className="btn btn-secondary btn-small" onClick={history.retryFirstPage}>
                Try again
              </button>
            </div>
          )}
          {history.loaded && !history.olderCursor && (
            <p className="conversation-start muted small">
              {messages.length === 0 && pending.length === 0
                ? `Say hello to ${name || 'them'}${product ? ` about the ${product.title.toLowerCase()}` : ''}.`
                : 'This is the start of your conversation.'}
            </p>
          )}
          {!history.loaded && !history.loadError && <p className="loading-older muted small">Loading messages…</p>}
          <MessageList
            messages={messages}
            pending={pending}
            meId={me.id}
            name={name}
            firstUnreadId={history.firstUnreadId}
            lastReadMine={lastReadMine}
            connected={status === 'connected'}
            onRetry={outbox.retry}
            onOpenPhoto={setViewing}
            onDelete={actions.onDeleteMessage}
            onReport={actions.onReportMessage}
          />
        </div>
        {history.loadingOlder && (
          <p className="loading-float" role="status">
            Loading earlier messages…
          </p>
        )}
        {notice && (
          <p className="chat-notice" data-testid="chat-notice" aria-hidden="true">
            {notice}
          </p>
        )}
        {scroll.showJump && (
          <button type="button" className="jump-button" onClick={scroll.jumpToBottom}>
            New messages ↓
          </button>
        )}
      </div>
      <div className="typing-line" aria-live="polite" data-testid="typing">
        {typingUntil > Date.now() ? `${name} is typing…` : ''}
      </div>
      <div className="sr-only" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
      <Composer
        roomId={roomId}
        name={name}
        draft={draft}
        onDraft={setDraft}
        blockedNote={
          actions.blocked === 'byMe' ? (
            <>
              <span>You blocked {name}. Neither of you can send messages.</span>
              <button type="button" className="btn btn-secondary btn-small" onClick={actions.unblock} data-testid="unblock-button">
                Unblock
              </button>
            </>
          ) : actions.blocked === 'byThem' ? (
            <span>You can no longer send messages in this chat.</span>
          ) : undefined
        }
        onSend={(content, attachments) => {
          scroll.toBottom();
          outbox.send(content, attachments);
          setDraft('');
          lastTypingSent.current = 0;
        }}
        onTyping={() => {
          const now = Date.now();
          if (now - lastTypingSent.current < TYPING_SEND_EVERY_MS) return;
          lastTypingSent.current = now;
          connection.publish(`/pub/room/${roomId}/typing`, {});
        }}
      />
      <PhotoViewer photo={viewing} onClose={() => setViewing(null)} />
      {actions.dialogs}
    </div>
  );
}
