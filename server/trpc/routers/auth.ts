/** auth.me / auth.socketToken: a signed-in web user's short-lived token for STOMP and Socket.IO */
import { protectedProcedure, publicProcedure, router } from '../trpc.js';

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) => ctx.user),

  socketToken: protectedProcedure.mutation(async ({ ctx }) => {
    const token = await ctx.tokens.issue(ctx.user, ctx.socketTokenTtlSeconds);
    return { token, expiresAt: new Date(Date.now() + ctx.socketTokenTtlSeconds * 1000).toISOString() };
  }),
});
