/**
 * tRPC context: who is calling (through the one `authenticate` edge: a Bearer JWT, or the web
 * page's session cookie) and the services procedures may use. Procedures reach data only
 * through these services.
 */
import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { Authenticator } from '../auth/authenticate.js';
import { TokenError, type AuthUser, type TokenService } from '../auth/tokens.js';
import { clientAddress } from '../http/client-address.js';
import type { ChatService } from '../chat/service.js';
import type { InquiryService } from '../inquiries/service.js';
import type { ReportService } from '../reports/service.js';

export interface TrpcServices {
  chat: ChatService;
  inquiries: InquiryService;
  reports: ReportService;
  tokens: TokenService;
  authenticator: Authenticator;
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
  try {
    const who = await services.authenticator.authenticate({ authorization: req.headers.authorization, request: req });
    const auth: Context['auth'] = !who ? { via: 'none' } : who.via === 'token' ? { via: 'bearer' } : { via: 'cookie', sessionExpiresAt: who.sessionExpiresAt };
    return { ...services, user: who?.user ?? null, auth, clientAddress: clientAddress(req, services.trustProxy) };
  } catch (err) {
    // a caller that sends a bad token is told so, instead of being treated as anonymous
    throw new TRPCError({ code: 'UNAUTHORIZED', message: err instanceof TokenError ? err.message : 'token is not valid' });
  }
}
