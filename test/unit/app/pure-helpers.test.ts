/** The page's pure rules: reconnect backoff, links in messages, user names, "last seen". */
import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../../app/_lib/backoff';
import { safeHref, splitLinks } from '../../../app/_lib/links';
import { normaliseUserName } from '../../../app/_lib/user-name';
import { formatLastSeen } from '../../../app/_components/format';

describe('reconnect backoff', () => {
  const opts = { baseMs: 500, capMs: 15_000 };

  it('waits longer after every failed attempt, between half and all of the exponential step', () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const step = 500 * 2 ** attempt;
      expect(reconnectDelay(attempt, { ...opts, random: () => 0 })).toBe(step / 2);
      expect(reconnectDelay(attempt, { ...opts, random: () => 0.999999 })).toBeLessThanOrEqual(step);
      expect(reconnectDelay(attempt, { ...opts, random: () => 0.999999 })).toBeGreaterThan(step * 0.99);
    }
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    for (const attempt of [6, 10, 50, 1_000]) {
      expect(reconnectDelay(attempt, { ...opts, random: () => 0.999999 })).toBeLessThanOrEqual(15_000);
      expect(reconnectDelay(attempt, { ...opts, random: () => 0 })).toBe(7_500);
    }
  });

  it('spreads the reconnects of many tabs instead of sending them all at once', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(3, opts)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('links in messages', () => {
  it('turns http and https addresses into links and keeps the text around them', () => {
    expect(splitLinks('See https://reuse.example/p/42 and http://a.example/x?y=1.')).toEqual([
      { kind: 'text', text: 'See ' },
      { kind: 'link', text: 'https://reuse.example/p/42', href: 'https://reuse.example/p/42' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://a.example/x?y=1', href: 'http://a.example/x?y=1' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('links a bare www. address over https', () => {
    expect(splitLinks('www.reuse.example')).toEqual([{ kind: 'link', text: 'www.reuse.example', href: 'https://www.reuse.example/' }]);
  });

  it('never links javascript:, data: or file: addresses, and leaves markup as text', () => {
    for (const text of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', '<a href="https://x.example">x</a>'.replace('https://x.example', 'javascript:alert(1)')]) {
      expect(splitLinks(text).every((p) => p.kind === 'text')).toBe(true);
    }
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://user:pw@evil.example')).toBeNull();
  });

  it('keeps a closing parenthesis that belongs to the address but not one that ends the sentence', () => {
    expect(splitLinks('(see https://en.wikipedia.org/wiki/Bike_(disambiguation))')[1]).toEqual({
      kind: 'link',
      text: 'https://en.wikipedia.org/wiki/Bike_(disambiguation)',
      href: 'https://en.wikipedia.org/wiki/Bike_(disambiguation)',
    });
    expect(splitLinks('(https://a.example)')[1]).toMatchObject({ kind: 'link', text: 'https://a.example' });
  });

  it('gives back the whole text when there is no link', () => {
    expect(splitLinks('Is it still available?')).toEqual([{ kind: 'text', text: 'Is it still available?' }]);
  });
});

describe('user names of the demo sign-in', () => {
  it('accepts Korean and other scripts as well as Latin names', () => {
    expect(normaliseUserName('민수')).toBe('민수');
    expect(normaliseUserName(' Erin ')).toBe('erin');
    expect(normaliseUserName('José.m')).toBe('josé.m');
    expect(normaliseUserName('지영_2')).toBe('지영_2');
  });

  it('refuses names that are too short, too long, or start with punctuation', () => {
    for (const bad of ['민', 'a', '-bob', 'a b', 'x'.repeat(33), '<script>']) expect(normaliseUserName(bad)).toBeNull();
  });
});

describe('last seen', () => {
  const now = new Date('2026-03-10T15:00:00+09:00');
  it('reads as a person would say it', () => {
    expect(formatLastSeen('2026-03-10T14:59:40+09:00', now)).toBe('just now');
    expect(formatLastSeen('2026-03-10T14:45:00+09:00', now)).toBe('15 min ago');
    expect(formatLastSeen('2026-03-10T09:05:00+09:00', now)).toMatch(/^today at \d\d:\d\d$/);
  });
});
