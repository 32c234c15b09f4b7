/**
 * The users this instance has met: display names (and emails) from verified tokens are written
 * to `users` the first time, and remembered for push texts. Connecting does not wait for that
 * write (`rememberSoon`): a user can connect while MySQL is down, and is written when it is back.
 */
import { sql } from 'drizzle-orm';
import type { AuthUser } from '../auth/tokens.js';
import { isUnavailable } from '../db/availability.js';
import type { Db } from '../db/client.js';
import { users } from '../db/schema.js';

const MAX_KNOWN = 100_000;

export class UserDirectory {
  private readonly known = new Map<string, { name: string; email: string | undefined }>();
  /** users met while MySQL was down, written when it answers again */
  private readonly unwritten = new Map<string, AuthUser>();

  constructor(private readonly db: Db) {}

  async remember(user: AuthUser): Promise<void> {
    const known = this.known.get(user.id);
    if (known && known.name === user.name && known.email === user.email) return;
    await this.db
      .insert(users)
      .values({ id: user.id, name: user.name, email: user.email ?? null })
      // an email the token does not carry is kept, not cleared
      .onDuplicateKeyUpdate({ set: { name: user.name, ...(user.email ? { email: user.email } : {}), updatedAt: sql`CURRENT_TIMESTAMP(3)` } });
    if (this.known.size > MAX_KNOWN) this.known.clear();
    this.known.set(user.id, { name: user.name, email: user.email });
  }

  /** remembers the user without waiting; a write MySQL refused is retried by `retryUnwritten` */
  rememberSoon(user: AuthUser, onError: (err: unknown) => void): void {
    this.remember(user).catch((err) => {
      if (isUnavailable(err)) {
        if (this.unwritten.size < MAX_KNOWN) this.unwritten.set(user.id, user);
      } else onError(err);
    });
  }

  retryUnwritten(onError: (err: unknown) => void): void {
    const users = [...this.unwritten.values()];
    this.unwritten.clear();
    for (const u of users) this.rememberSoon(u, onError);
  }

  nameOf(userId: string): string {
    return this.known.get(userId)?.name ?? userId;
  }
}
