/**
 * The web page's sign-in: next-auth (v4, JWT sessions) keeps the session in an encrypted cookie.
 * This reads that cookie on plain Node requests (tRPC, and WebSocket upgrades of the page) with
 * the same secret, so the page needs no token of its own for HTTP.
 *
 * Upgrades that rely on the cookie must come from an allowed Origin: a browser attaches
 * cookies to cross-site WebSocket handshakes, and nothing else would stop another site
 * from opening a socket as the signed-in user.
 */
import type { IncomingMessage } from 'node:http';
import { decode } from 'next-auth/jwt';
import type { AuthUser } from './tokens.js';

const COOKIE_NAMES = ['__Secure-next-auth.session-token', 'next-auth.session-token'];

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      out.set(name, value);
    }
  }
  return out;
}

/** next-auth splits large cookies into `name.0`, `name.1`, … */
function sessionToken(cookies: Map<string, string>): string | undefined {
  for (const name of COOKIE_NAMES) {
    const whole = cookies.get(name);
    if (whole) return whole;
    let chunks = '';
    for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks += cookies.get(`${name}.${i}`);
    if (chunks) return chunks;
  }
  return undefined;
}

/** a signed-in web session: its user and when it ends (epoch seconds; null when the cookie does not say) */
export interface WebSession {
  user: AuthUser;
  expiresAt: number | null;
}

export interface CookieAuth {
  /** the signed-in user of this request's session cookie, or null */
  user(req: IncomingMessage): Promise<AuthUser | null>;
  /** the same with the session's expiry */
  session(req: IncomingMessage): Promise<WebSession | null>;
  /** the same, only when the request's Origin is allowed (WebSocket upgrades) */
  userForUpgrade(req: IncomingMessage): Promise<AuthUser | null>;
}

export function createCookieAuth(opts: { secret: string; allowedOrigins: ReadonlySet<string> }): CookieAuth {
  const session = async (req: IncomingMessage): Promise<WebSession | null> => {
    const token = sessionToken(parseCookies(req.headers.cookie));
    if (!token) return null;
    try {
      const jwt = await decode({ token, secret: opts.secret });
      if (!jwt || typeof jwt.sub !== 'string' || !jwt.sub) return null;
      if (typeof jwt.exp === 'number' && jwt.exp * 1000 < Date.now()) return null;
      const user: AuthUser = {
        id: jwt.sub,
        name: typeof jwt.name === 'string' && jwt.name ? jwt.name : jwt.sub,
        role: (jwt as { role?: unknown }).role === 'admin' ? 'admin' : 'user',
        ...(typeof jwt.email === 'string' ? { email: jwt.email } : {}),
      };
      return { user, expiresAt: typeof jwt.exp === 'number' ? jwt.exp : null };
    } catch {
      return null;
    }
  };
  const user = async (req: IncomingMessage) => (await session(req))?.user ?? null;
  return {
    user,
    session,
    async userForUpgrade(req) {
      const origin = req.headers.origin;
      if (!origin || !opts.allowedOrigins.has(origin)) return null;
      return user(req);
    },
  };
}

/** the page's own origin(s) plus ALLOWED_ORIGINS */
export function allowedOrigins(env: { PUBLIC_URL?: string | undefined; PORT: number; ALLOWED_ORIGINS: string }, port: number): Set<string> {
  const set = new Set<string>([`http://localhost:${port}`, `http://127.0.0.1:${port}`]);
  if (env.PUBLIC_URL) set.add(new URL(env.PUBLIC_URL).origin);
  for (const o of env.ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean)) set.add(new URL(o).origin);
  return set;
}
