/**
 * One shared timer wheel for every session's heart-beat and connect deadlines.
 *
 * Owns: a single `.unref()`ed interval per endpoint that advances a ring of buckets; each tick
 * visits only the timers due in that bucket. 20,000 idle connections thus cost one interval plus
 * the work of their own (rare) deadlines, instead of 20,000 Node timers. Timers fire up to one
 * tick late or early (a timer lands in the bucket its delay rounds up to, and the first tick of a
 * timer may come early); callers compare real elapsed times when they fire and reschedule.
 */

export interface WheelTimer {
  /** (Re)arms the timer to fire after about `delayMs`; replaces any earlier schedule. */
  schedule(delayMs: number): void;
  cancel(): void;
  readonly scheduled: boolean;
}

export interface HeartbeatSchedulerOptions {
  /** Resolution of the wheel. */
  tickMs?: number;
  /** Buckets in the ring; delays longer than `tickMs * slots` wait whole rounds. */
  slots?: number;
  now?: () => number;
}

class Timer implements WheelTimer {
  /** Bucket index, or -1 when not scheduled. */
  slot = -1;
  rounds = 0;

  constructor(
    private readonly wheel: HeartbeatScheduler,
    readonly fire: (now: number) => void,
  ) {}

  get scheduled(): boolean {
    return this.slot !== -1;
  }

  schedule(delayMs: number): void {
    this.wheel.add(this, delayMs);
  }

  cancel(): void {
    this.wheel.remove(this);
  }
}

export class HeartbeatScheduler {
  readonly tickMs: number;
  private readonly buckets: Set<Timer>[];
  private cursor = 0;
  private count = 0;
  private interval: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(options: HeartbeatSchedulerOptions = {}) {
    this.tickMs = options.tickMs ?? 1000;
    const slots = options.slots ?? 256;
    this.buckets = Array.from({ length: slots }, () => new Set<Timer>());
    this.now = options.now ?? Date.now;
  }

  /** Creates an unscheduled timer bound to this wheel. */
  timer(fire: (now: number) => void): WheelTimer {
    return new Timer(this, fire);
  }

  /** Number of scheduled timers. */
  get size(): number {
    return this.count;
  }

  /** @internal */
  add(timer: Timer, delayMs: number): void {
    this.remove(timer);
    const slots = this.buckets.length;
    const ticks = Math.max(1, Math.ceil(delayMs / this.tickMs));
    timer.slot = (this.cursor + ticks) % slots;
    timer.rounds = Math.floor((ticks - 1) / slots);
    this.buckets[timer.slot]!.add(timer);
    if (++this.count === 1) this.start();
  }

  /** @internal */
  remove(timer: Timer): void {
    if (timer.slot === -1) return;
    this.buckets[timer.slot]!.delete(timer);
    timer.slot = -1;
    if (--this.count === 0) this.stop();
  }

  /** Drops every timer and stops the interval. */
  close(): void {
    for (const bucket of this.buckets) {
      for (const timer of bucket) timer.slot = -1;
      bucket.clear();
    }
    this.count = 0;
    this.stop();
  }

  private start(): void {
    this.interval = setInterval(() => this.tick(), this.tickMs);
    this.interval.unref();
  }

  private stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }

  private tick(): void {
    this.cursor = (this.cursor + 1) % this.buckets.length;
    const bucket = this.buckets[this.cursor]!;
    if (bucket.size === 0) return;
    const due: Timer[] = [];
    for (const timer of bucket) {
      if (timer.rounds > 0) timer.rounds--;
      else due.push(timer);
    }
    // Fire after the walk: a firing timer usually reschedules itself, possibly into this bucket.
    for (const timer of due) this.remove(timer);
    const now = this.now();
    for (const timer of due) {
      try {
        timer.fire(now);
      } catch {
        // A session's timer handler reports its own errors; one bad session must not stop the wheel.
      }
    }
  }
}
