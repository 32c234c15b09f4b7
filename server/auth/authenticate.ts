/**
 * The one edge where a caller becomes a user, for every transport: a bearer token (HTTP
 * `Authorization`, STOMP `Authorization` or `passcode`, Socket.IO `auth.token`) or, without
 * one, the web page's session cookie. Sockets accept the cookie only from an allowed Origin.
 * A token that is present but not valid is refused, never treated as "no token".
 */
import type { IncomingMessage } from 'node:http';
import type { CookieAuth } from './session-cookie.js';
import { bearerToken, TokenError, type AuthUser, type TokenService } from './tokens.js';

export interface Credentials {
  /** an HTTP `Authorization` header as sent: when present it must hold a valid bearer token */
  authorization?: string | undefined;
  /** the JWT as sent, without `Bearer ` (empty or missing: none was sent) */
  token?: string | undefined;
  /** the HTTP request (or WebSocket upgrade) that carries the session cookie */
  request?: IncomingMessage | undefined;
  /** sockets: the cookie counts only when the request's Origin is allowed */
  cookieNeedsOrigin?: boolean;
}

/** the caller, and how they proved who they are (a web session says when it ends, epoch seconds) */
export type Authenticated = { user: AuthUser; via: 'token' } | { user: AuthUser; via: 'cookie'; sessionExpiresAt: number | null };

export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly cookieAuth: CookieAuth | null,
  ) {}

  /** the caller, or null when no credentials were sent; TokenError for a bad token */
  async authenticate(c: Credentials): Promise<Authenticated | null> {
    if (c.authorization) return { user: await this.tokens.verify(bearerToken(c.authorization)), via: 'token' };
    if (c.token) return { user: await this.tokens.verify(c.token), via: 'token' };
    if (!c.request || !this.cookieAuth) return null;
    if (c.cookieNeedsOrigin) {
      const user = await this.cookieAuth.userForUpgrade(c.request);
      return user ? { user, via: 'cookie', sessionExpiresAt: null } : null;
    }
    const session = await this.cookieAuth.session(c.request);
    return session ? { user: session.user, via: 'cookie', sessionExpiresAt: session.expiresAt } : null;
  }

  /** as `authenticate`, with "no credentials" refused too (`missingHint` tells how to send them) */
  async require(c: Credentials, missingHint: string): Promise<Authenticated> {
    const who = await this.authenticate(c);
    if (!who) throw new TokenError('missing', missingHint);
    return who;
  }
}
