/** inquiries.create / inquiries.mine / inquiries.list (admin) */
import { z } from 'zod';
import { inquiryInput } from '../../inquiries/validation.js';
import { adminProcedure, protectedProcedure, publicProcedure, router } from '../trpc.js';

export const inquiriesRouter = router({
  /** stored first, then mailed to support; anyone may write, signed-in or not (limited per client and per user) */
  create: publicProcedure.input(inquiryInput).mutation(({ ctx, input }) => ctx.inquiries.create(input, ctx.user, ctx.clientAddress)),

  mine: protectedProcedure.query(({ ctx }) => ctx.inquiries.mine(ctx.user.id)),

  list: adminProcedure
    .input(
      z
        .object({
          cursor: z.string().regex(/^\d+$/).nullish(),
          limit: z.number().int().min(1).max(100).default(50),
          status: z.enum(['pending', 'sent', 'failed']).nullish(),
        })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }) =>
      ctx.inquiries.list({
        limit: input.limit,
        ...(input.cursor ? { cursor: input.cursor } : {}),
        ...(input.status ? { status: input.status } : {}),
      }),
    ),
});
