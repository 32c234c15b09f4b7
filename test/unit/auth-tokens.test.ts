import { describe, expect, it, vi } from 'vitest';
import { TokenError, TokenService } from '../../server/auth/tokens.js';

describe('token verification', () => {
  const tokens = new TokenService('k'.repeat(40));

  it('accepts its own token, again from the cache, and refuses it once it has expired', async () => {
    const token = await tokens.issue({ id: 'alice', name: 'Alice' }, 2);
    expect(await tokens.verify(token)).toMatchObject({ id: 'alice', name: 'Alice', role: 'user' });
    expect(await tokens.verify(token)).toMatchObject({ id: 'alice' });
    vi.useFakeTimers({ now: Date.now() + 3_000, toFake: ['Date'] });
    try {
      await expect(tokens.verify(token)).rejects.toMatchObject({ problem: 'expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a token signed with another secret, even after a good one was cached', async () => {
    const good = await tokens.issue({ id: 'bob', name: 'Bob' }, 600);
    await tokens.verify(good);
    const forged = await new TokenService('m'.repeat(40)).issue({ id: 'bob', name: 'Bob', role: 'admin' }, 600);
    await expect(tokens.verify(forged)).rejects.toBeInstanceOf(TokenError);
  });
});
