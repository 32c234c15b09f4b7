/** auth.me / auth.socketToken: a signed-in web user's short-lived token for STOMP and Socket.IO */
import { TRPCError } from '@trpc/server';
import { protectedProcedure, publicProcedure, router } from '../trpc.js';

export const authRouter = router({
  me: publicProcedure.query(({ ctx }) => ctx.user),

  /**
   * Only for the web page's session cookie. Exchanging a bearer token for a fresh one would
   * let any leaked token renew itself forever; and the new token never outlives the session
   * that asked for it, so signing out (or the session ending) ends the sockets' access too.
   */
  socketToken: protectedProcedure.mutation(async ({ ctx }) => {
    if (ctx.auth.via !== 'cookie') {
      throw new TRPCError({
        code: 'FORBIDDEN',
        message: 'socket tokens are issued to a signed-in web session only; a bearer token is used on the sockets as it is',
      });
    }
    const now = Math.floor(Date.now() / 1000);
    const sessionEnd = ctx.auth.sessionExpiresAt ?? undefined;
    if (sessionEnd !== undefined && sessionEnd <= now) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'the session has expired: sign in again' });
    const token = await ctx.tokens.issue(ctx.user, ctx.socketTokenTtlSeconds, sessionEnd);
    const exp = Math.min(now + ctx.socketTokenTtlSeconds, sessionEnd ?? Number.POSITIVE_INFINITY);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }),
});
