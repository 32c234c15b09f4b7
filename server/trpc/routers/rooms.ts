/** rooms.open / rooms.list / rooms.get */
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
});
