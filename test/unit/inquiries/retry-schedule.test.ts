import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../server/inquiries/mail-worker.js';

const noJitter = { random: () => 0 };

describe('the retry schedule of inquiry mail', () => {
  it('waits the base delay after the first failure and doubles after each further one', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, { baseMs: 2000, ...noJitter }));
    expect(delays).toEqual([2000, 4000, 8000, 16000, 32000]);
  });

  it('never waits longer than the cap (one hour by default), however many attempts failed', () => {
    expect(retryDelayMs(12, { baseMs: 2000, ...noJitter })).toBe(3_600_000);
    expect(retryDelayMs(10_000, { baseMs: 2000, ...noJitter })).toBe(3_600_000);
    expect(retryDelayMs(5, { baseMs: 50, capMs: 300, ...noJitter })).toBe(300);
  });

  it('adds up to 20% jitter so inquiries that failed together do not retry together', () => {
    expect(retryDelayMs(3, { baseMs: 100, random: () => 0.999999 })).toBeCloseTo(480, 3);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(2, { baseMs: 100 });
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThan(240);
    }
  });

  it('treats a zero attempt count like the first failure', () => {
    expect(retryDelayMs(0, { baseMs: 50, ...noJitter })).toBe(50);
  });
});
