/**
 * tRPC context: who is calling (a Bearer JWT, or the web page's session cookie) and the
 * services procedures may use. Procedures reach data only through these services.
 */
import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { CookieAuth } from '../auth/session-cookie.js';
import { bearerToken, TokenError, type AuthUser, type TokenService } from '../auth/tokens.js';
import type { ChatService } from '../chat/service.js';
import type { InquiryService } from '../inquiries/service.js';

export interface TrpcServices {
  chat: ChatService;
  inquiries: InquiryService;
  tokens: TokenService;
  cookieAuth: CookieAuth | null;
  socketTokenTtlSeconds: number;
}

export interface Context extends TrpcServices {
  user: AuthUser | null;
}

export async function createContext(services: TrpcServices, req: IncomingMessage): Promise<Context> {
  const header = req.headers.authorization;
  let user: AuthUser | null = null;
  if (header) {
    const token = bearerToken(header);
    try {
      user = await services.tokens.verify(token);
    } catch (err) {
      // a caller that sends a bad token is told so, instead of being treated as anonymous
      throw new TRPCError({ code: 'UNAUTHORIZED', message: err instanceof TokenError ? err.message : 'token is not valid' });
    }
  } else if (services.cookieAuth) {
    user = await services.cookieAuth.user(req);
  }
  return { ...services, user };
}
