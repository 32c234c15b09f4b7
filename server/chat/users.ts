/**
 * The users this instance has met: display names (and emails) from verified tokens are written
 * to `users` the first time, and remembered for push texts.
 */
import { sql } from 'drizzle-orm';
import type { AuthUser } from '../auth/tokens.js';
import type { Db } from '../db/client.js';
import { users } from '../db/schema.js';

const MAX_KNOWN = 100_000;

export class UserDirectory {
  private readonly known = new Map<string, { name: string; email: string | undefined }>();

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

  nameOf(userId: string): string {
    return this.known.get(userId)?.name ?? userId;
  }
}
