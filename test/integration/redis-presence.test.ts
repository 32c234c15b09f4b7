/**
 * Redis presence against the real Redis, two "instances" sharing one key prefix: who is online,
 * the last session of a user, and a killed instance whose users go offline on their own and are
 * announced once.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RedisPresence } from '../../server/presence/redis-presence.js';
import { REDIS_URL } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const keyPrefix = `test:${inject('runId')}:${randomBytes(3).toString('hex')}:`;
const logger = pino({ level: 'silent' });
const opened: RedisPresence[] = [];

function instance(instanceId: string, ttlSeconds = 60): RedisPresence {
  const p = new RedisPresence({ url: REDIS_URL, keyPrefix, instanceId, ttlSeconds }, logger);
  opened.push(p);
  return p;
}

async function up(p: RedisPresence): Promise<RedisPresence> {
  await waitFor(() => p.status() === 'up', 'redis to answer');
  return p;
}

afterAll(async () => {
  for (const p of opened) await p.close().catch(() => undefined);
});

describe('RedisPresence', () => {
  it('says a user is online everywhere while any instance holds a session, and offline after the last one', async () => {
    const a = await up(instance('a'));
    const b = await up(instance('b'));
    expect(await a.register('ana', 's1')).toBe(true);
    expect(await b.register('ana', 's2')).toBe(false); // already online through a
    expect((await b.online(['ana', 'nobody'])).get('ana')).toBe(true);
    expect((await b.online(['nobody'])).get('nobody')).toBe(false);

    expect(await a.unregister('ana', 's1')).toBe(false); // b still holds one
    expect((await a.online(['ana'])).get('ana')).toBe(true);
    expect(await b.unregister('ana', 's2')).toBe(true);
    expect((await a.online(['ana'])).get('ana')).toBe(false);
  });

  it('turns the users of an instance that stopped refreshing offline after the expiry, and announces each once', async () => {
    const doomed = await up(instance('doomed', 1));
    const survivor = await up(instance('survivor', 1));
    const otherSurvivor = await up(instance('other-survivor', 1));
    const announced: string[] = [];
    survivor.onExpired((u) => announced.push(u));
    otherSurvivor.onExpired((u) => announced.push(u));
    await doomed.register('bo', 'only-session');
    expect((await survivor.online(['bo'])).get('bo')).toBe(true);

    // the instance dies: no more refreshes, nothing removed
    clearInterval((doomed as unknown as { refreshTimer: NodeJS.Timeout }).refreshTimer);
    doomed.redis.disconnect();

    await waitFor(async () => (await survivor.online(['bo'])).get('bo') === false, 'bo offline', 10_000);
    await waitFor(() => announced.includes('bo'), 'bo announced offline', 10_000);
    // the announcing sweep removed the dead session, so no later sweep can announce bo again
    expect(await survivor.redis.zcard('presence:sessions')).toBe(0);
    expect(announced).toEqual(['bo']);
  });

  it('remembers when a user was last seen: the end of their last session, on every instance', async () => {
    const a = await up(instance('seen-a'));
    const b = await up(instance('seen-b'));
    expect((await b.lastSeen(['cai'])).get('cai')).toBeNull(); // never seen
    await a.register('cai', 'c1');
    await b.register('cai', 'c2');
    await a.unregister('cai', 'c1');
    expect((await b.lastSeen(['cai'])).get('cai')).toBeNull(); // still online through b
    const before = Date.now();
    await b.unregister('cai', 'c2');
    const seen = (await a.lastSeen(['cai', 'nobody-at-all'])).get('cai');
    expect(seen).not.toBeNull();
    expect(new Date(seen!).getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(new Date(seen!).getTime()).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('records a last-seen time for the users of an instance that died', async () => {
    const doomed = await up(instance('seen-doomed', 1));
    const survivor = await up(instance('seen-survivor', 1));
    await doomed.register('dot', 'only');
    clearInterval((doomed as unknown as { refreshTimer: NodeJS.Timeout }).refreshTimer);
    doomed.redis.disconnect();
    await waitFor(async () => (await survivor.lastSeen(['dot'])).get('dot') !== null, 'dot last seen recorded', 10_000);
  });

  it('answers from this instance alone, with unknown for others, while Redis is unreachable', async () => {
    const unreachable = new RedisPresence({ url: 'redis://127.0.0.1:1', keyPrefix, instanceId: 'nowhere', ttlSeconds: 60 }, logger);
    opened.push(unreachable);
    expect(unreachable.status()).toBe('down');
    expect(await unreachable.register('dee', 'd1')).toBe(true);
    const answer = await unreachable.online(['dee', 'eve']);
    expect(answer.get('dee')).toBe(true);
    expect(answer.get('eve')).toBeNull();
    expect(await unreachable.unregister('dee', 'd1')).toBe(true);
    expect((await unreachable.lastSeen(['dee'])).get('dee')).toBeNull();
  });
});
