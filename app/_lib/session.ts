/**
 * Server-side session checks for pages: signed-out visitors go to /signin and come back to the
 * page they asked for. Pages check for themselves (layouts do not re-run on navigation).
 */
import { getServerSession } from 'next-auth';
import { redirect } from 'next/navigation';
import { connection } from 'next/server';
import { authOptions } from './auth-options';

export interface SessionUser {
  id: string;
  name: string;
}

export async function currentUser(): Promise<SessionUser | null> {
  // per request, never prerendered: the auth configuration exists only in the running server
  await connection();
  const session = await getServerSession(authOptions);
  const user = session?.user as { id?: string; name?: string | null } | undefined;
  if (!user?.id) return null;
  return { id: user.id, name: user.name || user.id };
}

export async function requireUser(callbackPath: string): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(`/signin?callbackUrl=${encodeURIComponent(callbackPath)}`);
  return user;
}
