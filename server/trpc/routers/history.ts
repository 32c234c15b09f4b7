/** history.list / history.since / history.markRead / history.delete */
import { z } from 'zod';
import { messageId, roomId } from '../../chat/validation.js';
import { protectedProcedure, router } from '../trpc.js';

export const historyRouter = router({
  /** newest first, keyset-paginated on the message id (pass `nextCursor` as `before`) */
  list: protectedProcedure
    .input(z.object({ roomId, before: messageId.nullish(), limit: z.number().int().min(1).max(100).default(50) }))
    .query(({ ctx, input }) =>
      ctx.chat.history(ctx.user.id, input.roomId, { limit: input.limit, ...(input.before != null ? { before: input.before } : {}) }),
    ),

  /** everything after a message id, oldest first (resync); `hasMore` means call again from the last id */
  since: protectedProcedure
    .input(z.object({ roomId, after: messageId, limit: z.number().int().min(1).max(1000).default(1000) }))
    .query(({ ctx, input }) => ctx.chat.since(ctx.user.id, input.roomId, { after: input.after, limit: input.limit })),

  /** the caller's own message, within MESSAGE_DELETE_WINDOW_SECONDS of sending it, becomes a tombstone */
  delete: protectedProcedure
    .input(z.object({ roomId, messageId }))
    .mutation(({ ctx, input }) => ctx.chat.deleteMessage(ctx.user.id, input.roomId, input.messageId)),

  /** moves the caller's read mark forward only */
  markRead: protectedProcedure
    .input(z.object({ roomId, messageId }))
    .mutation(({ ctx, input }) => ctx.chat.markRead(ctx.user.id, input.roomId, input.messageId)),
});
