/** rooms.open / rooms.list / rooms.get and the caller's own settings: block, unblock, leave, mute */
import { z } from 'zod';
import { roomId } from '../../chat/validation.js';
import { protectedProcedure, router } from '../trpc.js';

const id = (what: string) => z.string().trim().min(1, `${what} is required`).max(191, `${what} is too long`);

export const roomsRouter = router({
  /** the caller is the buyer; the same buyer, seller and product always get the same room */
  open: protectedProcedure
    .input(z.object({ productId: id('productId'), sellerId: id('sellerId') }))
    .mutation(({ ctx, input }) => ctx.chat.openRoom(ctx.user, input.sellerId, input.productId)),

  list: protectedProcedure
    .input(
      z
        .object({ cursor: z.string().max(200).nullish(), limit: z.number().int().min(1).max(100).default(20) })
        .default({ limit: 20 }),
    )
    .query(async ({ ctx, input }) => {
      await ctx.chat.rememberUser(ctx.user);
      return ctx.chat.listRooms(ctx.user.id, { limit: input.limit, ...(input.cursor ? { cursor: input.cursor } : {}) });
    }),

  get: protectedProcedure.input(z.object({ roomId })).query(({ ctx, input }) => ctx.chat.getRoom(ctx.user.id, input.roomId)),

  /** while either side blocks, no SEND in the room is stored (error event BLOCKED) */
  block: protectedProcedure
    .input(z.object({ roomId }))
    .mutation(({ ctx, input }) => ctx.chat.changeRoomSetting(ctx.user.id, input.roomId, { blocked: true })),

  unblock: protectedProcedure
    .input(z.object({ roomId }))
    .mutation(({ ctx, input }) => ctx.chat.changeRoomSetting(ctx.user.id, input.roomId, { blocked: false })),

  /** hides the room from the caller's list until a new message arrives */
  leave: protectedProcedure
    .input(z.object({ roomId }))
    .mutation(({ ctx, input }) => ctx.chat.changeRoomSetting(ctx.user.id, input.roomId, { hidden: true })),

  /** no push notifications (`chat.notifications`) for the caller in this room while muted */
  mute: protectedProcedure
    .input(z.object({ roomId, muted: z.boolean({ error: 'muted must be true or false' }) }))
    .mutation(({ ctx, input }) => ctx.chat.changeRoomSetting(ctx.user.id, input.roomId, { muted: input.muted })),
});
