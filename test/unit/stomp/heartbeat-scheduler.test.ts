import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeartbeatScheduler } from '../../../server/stomp/heartbeat-scheduler.js';

describe('HeartbeatScheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires a timer within one tick of its delay', () => {
    const wheel = new HeartbeatScheduler({ tickMs: 100 });
    const fired: number[] = [];
    const start = Date.now();
    wheel.timer((now) => fired.push(now - start)).schedule(1000);
    vi.advanceTimersByTime(900);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(900);
    expect(fired[0]).toBeLessThanOrEqual(1100);
  });

  it('fires delays longer than one rotation after whole rounds', () => {
    const wheel = new HeartbeatScheduler({ tickMs: 10, slots: 8 });
    let fired = 0;
    wheel.timer(() => fired++).schedule(250);
    vi.advanceTimersByTime(239);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(20);
    expect(fired).toBe(1);
  });

  it('runs 20,000 timers on a single interval and stops it when none are left', () => {
    const wheel = new HeartbeatScheduler({ tickMs: 100 });
    let fired = 0;
    const timers = Array.from({ length: 20_000 }, () => wheel.timer(() => fired++));
    timers.forEach((timer, i) => timer.schedule(1000 + (i % 50) * 100));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(7000);
    expect(fired).toBe(20_000);
    expect(wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not fire a cancelled timer', () => {
    const wheel = new HeartbeatScheduler({ tickMs: 100 });
    let fired = 0;
    const timer = wheel.timer(() => fired++);
    timer.schedule(300);
    timer.cancel();
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(0);
    expect(timer.scheduled).toBe(false);
  });

  it('lets a timer reschedule itself from its own callback', () => {
    const wheel = new HeartbeatScheduler({ tickMs: 100 });
    let fired = 0;
    const timer = wheel.timer(() => {
      fired++;
      timer.schedule(500);
    });
    timer.schedule(500);
    vi.advanceTimersByTime(5050);
    expect(fired).toBe(10);
    wheel.close();
  });

  it('keeps walking when one timer callback throws', () => {
    const wheel = new HeartbeatScheduler({ tickMs: 100 });
    let fired = 0;
    wheel
      .timer(() => {
        throw new Error('boom');
      })
      .schedule(100);
    wheel.timer(() => fired++).schedule(100);
    vi.advanceTimersByTime(200);
    expect(fired).toBe(1);
  });
});
