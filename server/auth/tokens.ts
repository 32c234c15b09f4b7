/**
 * HS256 JWTs signed with AUTH_SECRET: claims `sub`, `name`, optional `role: "admin"`, `exp`.
 * Only HS256 is accepted, so `alg: none` and any other algorithm are refused by jose itself.
 */
import { SignJWT, errors, jwtVerify } from 'jose';
import { z } from 'zod';

export interface AuthUser {
  id: string;
  name: string;
  role: 'user' | 'admin';
  email?: string;
}

export type TokenProblem = 'missing' | 'expired' | 'invalid';

export class TokenError extends Error {
  constructor(readonly problem: TokenProblem, message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

const claims = z.object({
  sub: z.string().min(1).max(191),
  name: z.string().max(191).optional(),
  role: z.string().optional(),
  email: z.string().max(191).optional(),
});

/** verified tokens kept, so a client calling many times with one token pays HMAC once */
const CACHE_SIZE = 10_000;

export class TokenService {
  private readonly key: Uint8Array;
  private readonly verified = new Map<string, { user: AuthUser; expiresAt: number }>();

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: string | undefined | null): Promise<AuthUser> {
    if (!token) throw new TokenError('missing', 'no token: send Authorization: Bearer <jwt>');
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.expiresAt > Date.now()) return hit.user;
      this.verified.delete(token);
      throw new TokenError('expired', 'token expired');
    }
    const user = await this.verifyNow(token);
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    const exp = (decodeExp(token) ?? 0) * 1000;
    if (exp > Date.now()) this.verified.set(token, { user, expiresAt: exp });
    return user;
  }

  private async verifyNow(token: string): Promise<AuthUser> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
      const parsed = claims.safeParse(payload);
      if (!parsed.success) throw new TokenError('invalid', 'token claims are malformed');
      const { sub, name, role, email } = parsed.data;
      return { id: sub, name: name?.trim() || sub, role: role === 'admin' ? 'admin' : 'user', ...(email ? { email } : {}) };
    } catch (err) {
      if (err instanceof TokenError) throw err;
      if (err instanceof errors.JWTExpired) throw new TokenError('expired', 'token expired');
      throw new TokenError('invalid', 'token is not valid');
    }
  }

  /** a token valid for ttlSeconds, and never past `notAfter` (epoch seconds) when given */
  async issue(
    user: { id: string; name: string; role?: 'user' | 'admin'; email?: string },
    ttlSeconds: number,
    notAfter?: number,
  ): Promise<string> {
    const exp = Math.min(Math.floor(Date.now() / 1000) + ttlSeconds, notAfter ?? Number.POSITIVE_INFINITY);
    return new SignJWT({ name: user.name, ...(user.role === 'admin' ? { role: 'admin' } : {}), ...(user.email ? { email: user.email } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.key);
  }
}

/** the `exp` claim of a token that has just been verified */
function decodeExp(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/** `Bearer <jwt>` → jwt; anything else → undefined. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
