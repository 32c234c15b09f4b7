'use client';
/**
 * What a member can do to a room and its messages besides writing: mute, block, report, leave,
 * delete. Each asks the server first and shows the result only once it answered (a block the
 * server did not store is not shown as a block); the confirmations and the report form are
 * rendered by `dialogs`.
 */
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useChat } from '../../_lib/chat-context';
import type { ChatMessage, Room } from '../../_lib/chat-types';
import type { ReportReason } from '../../_lib/social-api';
import { useTRPCClient } from '../../_lib/trpc';
import { ConfirmDialog, ReportDialog } from './dialogs';
import type { RoomAction } from './room-menu';

type Pending = { kind: 'block' } | { kind: 'leave' } | { kind: 'delete'; message: ChatMessage } | { kind: 'report'; message: ChatMessage | null } | null;

export function useRoomActions({ roomId, room, name, onDeleted, announce }: { roomId: string; room: Room | undefined; name: string; onDeleted(messageId: string): void; announce(text: string): void }) {
  const { updateRoom, dropRoom } = useChat();
  const api = useTRPCClient();
  const router = useRouter();
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(work: () => Promise<void>, done: string) {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await work();
      setPending(null);
      announce(done);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Something went wrong: try again.');
    } finally {
      setBusy(false);
    }
  }

  function close() {
    setPending(null);
    setError(null);
  }

  async function onAction(action: RoomAction) {
    setError(null);
    switch (action) {
      case 'mute':
      case 'unmute': {
        const muted = action === 'mute';
        try {
          await api.rooms.mute.mutate({ roomId, muted });
          updateRoom(roomId, (r) => ({ ...r, muted }));
          announce(muted ? 'Notifications muted for this chat' : 'Notifications on for this chat');
        } catch (err) {
          announce(`Could not change notifications: ${(err as Error).message}`);
        }
        return;
      }
      case 'unblock':
        try {
          await api.rooms.unblock.mutate({ roomId });
          updateRoom(roomId, (r) => ({ ...r, blocked: 'none' }));
          announce(`${name} is unblocked`);
        } catch (err) {
          announce(`Could not unblock: ${(err as Error).message}`);
        }
        return;
      case 'block':
        return setPending({ kind: 'block' });
      case 'leave':
        return setPending({ kind: 'leave' });
      case 'report':
        return setPending({ kind: 'report', message: null });
    }
  }

  const dialogs = (
    <>
      <ConfirmDialog
        open={pending?.kind === 'block'}
        title={`Block ${name}?`}
        confirmLabel="Block"
        danger
        busy={busy}
        error={pending?.kind === 'block' ? error : null}
        onCancel={close}
        onConfirm={() =>
          void run(async () => {
            await api.rooms.block.mutate({ roomId });
            updateRoom(roomId, (r) => ({ ...r, blocked: 'byMe' }));
          }, `${name} is blocked`)
        }
      >
        <p>Neither of you will be able to send messages in this chat. You can unblock at any time.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === 'leave'}
        title="Leave this chat?"
        confirmLabel="Leave"
        danger
        busy={busy}
        error={pending?.kind === 'leave' ? error : null}
        onCancel={close}
        onConfirm={() =>
          void run(async () => {
            await api.rooms.leave.mutate({ roomId });
            dropRoom(roomId);
            router.push('/chat');
          }, 'You left the chat')
        }
      >
        <p>It disappears from your chats until {name || 'they'} write again.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending?.kind === 'delete'}
        title="Delete this message?"
        confirmLabel="Delete"
        danger
        busy={busy}
        error={pending?.kind === 'delete' ? error : null}
        onCancel={close}
        onConfirm={() => {
          if (pending?.kind !== 'delete') return;
          const id = pending.message.id;
          void run(async () => {
            await api.history.delete.mutate({ roomId, messageId: id });
            onDeleted(id);
          }, 'Message deleted');
        }}
      >
        <p>It shows as &ldquo;Message deleted&rdquo; for both of you.</p>
      </ConfirmDialog>
      <ReportDialog
        open={pending?.kind === 'report'}
        subject={pending?.kind === 'report' && pending.message ? `this message from ${name}` : name}
        busy={busy}
        error={pending?.kind === 'report' ? error : null}
        onCancel={close}
        onSubmit={(reason: ReportReason, note: string) => {
          const messageId = pending?.kind === 'report' ? pending.message?.id : undefined;
          void run(
            () => api.reports.create.mutate({ roomId, reason, ...(messageId ? { messageId } : {}), ...(note ? { note } : {}) }).then(() => undefined),
            'Thank you: your report was sent to our team',
          );
        }}
      />
    </>
  );

  return {
    onAction,
    onDeleteMessage: (message: ChatMessage) => setPending({ kind: 'delete', message }),
    onReportMessage: (message: ChatMessage) => setPending({ kind: 'report', message }),
    dialogs,
    blocked: room?.blocked && room.blocked !== 'none' ? room.blocked : null,
    unblock: () => void onAction('unblock'),
  };
}
