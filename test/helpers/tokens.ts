/** JWTs for tests: good ones from the service's own TokenService, and the bad kinds clients send. */
import { SignJWT } from 'jose';
import { TEST_AUTH_SECRET } from './services.js';

const key = new TextEncoder().encode(TEST_AUTH_SECRET);

export async function tokenFor(
  sub: string,
  opts: { name?: string; role?: 'admin'; email?: string; ttlSeconds?: number; secret?: string } = {},
): Promise<string> {
  return new SignJWT({ name: opts.name ?? sub, ...(opts.role ? { role: opts.role } : {}), ...(opts.email ? { email: opts.email } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 600))
    .sign(opts.secret ? new TextEncoder().encode(opts.secret) : key);
}

export async function expiredToken(sub: string): Promise<string> {
  return new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(key);
}

/** `alg: none`: an unsigned token that claims to be `sub` */
export function unsignedToken(sub: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, name: sub, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
}
