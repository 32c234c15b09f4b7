/**
 * The users this instance has met: display names (and emails) from verified tokens are written
 * to `users` the first time, and remembered for push texts.
 */
import type { Pool } from 'mysql2/promise';
import type { AuthUser } from '../auth/tokens.js';

const MAX_KNOWN = 100_000;

export class UserDirectory {
  private readonly known = new Map<string, { name: string; email: string | undefined }>();

  constructor(private readonly pool: Pool) {}

  async remember(user: AuthUser): Promise<void> {
    const known = this.known.get(user.id);
    if (known && known.name === user.name && known.email === user.email) return;
    await this.pool.query(
      'INSERT INTO users (id, name, email) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), email = COALESCE(VALUES(email), email), updated_at = CURRENT_TIMESTAMP(3)',
      [user.id, user.name, user.email ?? null],
    );
    if (this.known.size > MAX_KNOWN) this.known.clear();
    this.known.set(user.id, { name: user.name, email: user.email });
  }

  nameOf(userId: string): string {
    return this.known.get(userId)?.name ?? userId;
  }
}
