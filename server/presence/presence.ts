/**
 * Presence: which users have a live session, on which instance.
 * Redis holds user → session → instance with an expiry refreshed by activity, so a crashed
 * instance's sessions vanish on their own. Every implementation keeps this instance's own
 * sessions in process too, so local answers never depend on Redis being up.
 */
export type DependencyStatus = 'up' | 'down' | 'embedded';

export interface Presence {
  /** a connection of `userId` opened on this instance; resolves to true when the user just came online */
  register(userId: string, sessionId: string): Promise<boolean>;
  /** the connection closed; resolves to true when the user has no live session left anywhere */
  unregister(userId: string, sessionId: string): Promise<boolean>;
  /** live sessions of the user on every instance (this instance's only while Redis is away) */
  sessionCount(userId: string): Promise<number>;
  /** online flags; `null` where it cannot be known (Redis down and the user not local) */
  online(userIds: readonly string[]): Promise<Map<string, boolean | null>>;
  /** users whose last session expired elsewhere (a killed instance), announced once cluster-wide */
  onExpired(handler: (userId: string) => void): void;
  status(): DependencyStatus;
  close(): Promise<void>;
}

/** This instance's sessions: user → session ids. */
export class LocalSessions {
  private readonly byUser = new Map<string, Set<string>>();

  add(userId: string, sessionId: string): boolean {
    let set = this.byUser.get(userId);
    const first = !set;
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(sessionId);
    return first;
  }

  remove(userId: string, sessionId: string): boolean {
    const set = this.byUser.get(userId);
    if (!set) return false;
    set.delete(sessionId);
    if (set.size === 0) {
      this.byUser.delete(userId);
      return true;
    }
    return false;
  }

  sessionsOf(userId: string): ReadonlySet<string> | undefined {
    return this.byUser.get(userId);
  }

  count(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  has(userId: string): boolean {
    return this.byUser.has(userId);
  }

  entries(): IterableIterator<[string, Set<string>]> {
    return this.byUser.entries();
  }
}
