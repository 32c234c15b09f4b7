/**
 * tRPC context: who is calling (through the one `authenticate` edge: a Bearer JWT, or the web
 * page's session cookie) and the services procedures may use. Procedures reach data only
 * through these services.
 */
import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { Authenticator } from '../auth/authenticate.js';
import { TokenError, type AuthUser, type TokenService } from '../auth/tokens.js';
import type { ChatService } from '../chat/service.js';
import type { InquiryService } from '../inquiries/service.js';

export interface TrpcServices {
  chat: ChatService;
  inquiries: InquiryService;
  tokens: TokenService;
  auth: Authenticator;
  socketTokenTtlSeconds: number;
}

export interface Context extends TrpcServices {
  user: AuthUser | null;
  /** how the caller signed in: a bearer token, or the web page's session cookie */
  authVia: 'token' | 'cookie' | null;
}

export async function createContext(services: TrpcServices, req: IncomingMessage): Promise<Context> {
  try {
    const who = await services.auth.authenticate({ authorization: req.headers.authorization, request: req });
    return { ...services, user: who?.user ?? null, authVia: who?.via ?? null };
  } catch (err) {
    // a caller that sends a bad token is told so, instead of being treated as anonymous
    throw new TRPCError({ code: 'UNAUTHORIZED', message: err instanceof TokenError ? err.message : 'token is not valid' });
  }
}
