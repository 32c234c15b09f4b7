/**
 * tRPC context: who is calling (a Bearer JWT, or the web page's session cookie) and the
 * services procedures may use. Procedures reach data only through these services.
 */
import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { CookieAuth } from '../auth/session-cookie.js';
import { bearerToken, TokenError, type AuthUser, type TokenService } from '../auth/tokens.js';
import { clientAddress } from '../http/client-address.js';
import type { ChatService } from '../chat/service.js';
import type { InquiryService } from '../inquiries/service.js';

export interface TrpcServices {
  chat: ChatService;
  inquiries: InquiryService;
  tokens: TokenService;
  cookieAuth: CookieAuth | null;
  socketTokenTtlSeconds: number;
  /** take the client address from X-Forwarded-For (behind a reverse proxy) */
  trustProxy: boolean;
}

export interface Context extends TrpcServices {
  user: AuthUser | null;
  /** how the caller proved who they are; `sessionExpiresAt` (epoch seconds) for a web session */
  auth: { via: 'bearer' } | { via: 'cookie'; sessionExpiresAt: number | null } | { via: 'none' };
  /** the caller's address, for per-client limits */
  clientAddress: string;
}

export async function createContext(services: TrpcServices, req: IncomingMessage): Promise<Context> {
  const header = req.headers.authorization;
  let user: AuthUser | null = null;
  let auth: Context['auth'] = { via: 'none' };
  if (header) {
    const token = bearerToken(header);
    try {
      user = await services.tokens.verify(token);
      auth = { via: 'bearer' };
    } catch (err) {
      // a caller that sends a bad token is told so, instead of being treated as anonymous
      throw new TRPCError({ code: 'UNAUTHORIZED', message: err instanceof TokenError ? err.message : 'token is not valid' });
    }
  } else if (services.cookieAuth) {
    const session = await services.cookieAuth.session(req);
    if (session) {
      user = session.user;
      auth = { via: 'cookie', sessionExpiresAt: session.expiresAt };
    }
  }
  return { ...services, user, auth, clientAddress: clientAddress(req, services.trustProxy) };
}
