/**
 * Repeated load steps: each offered rate runs several times in a row and the report shows the
 * median repeat (by delivery p99, an incomplete repeat counting as the worst), so one stalled
 * step neither fails nor passes a rate on its own. The median repeat is reported whole (its
 * CPU, probe and latency figures belong together); the other repeats' p99s are listed beside it.
 */
import type { StepResult } from '../gen.js';
import type { StepProbe } from './probe.js';

type Raw = StepResult & { cpuSec?: Record<string, number>; probe?: Record<string, StepProbe> };
export type RepeatedStep = Raw & { repeats: Array<{ p99: number; complete: boolean; sustained: boolean }> };

export function groupRepeats(raw: Raw[], reps: number): RepeatedStep[] {
  const out: RepeatedStep[] = [];
  for (let i = 0; i < raw.length; i += reps) {
    const group = raw.slice(i, i + reps).filter((s) => s.offered === raw[i]!.offered);
    const key = (s: Raw) => (s.complete ? s.latency.p99 : Number.POSITIVE_INFINITY);
    const sorted = [...group].sort((a, b) => key(a) - key(b));
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    out.push({ ...median, repeats: group.map((s) => ({ p99: s.latency.p99, complete: s.complete, sustained: s.sustained })) });
  }
  return out;
}

/** service CPU seconds per 10,000 messages sent in a step, summed over the service instances */
export function serviceCpuPer10k(s: Raw): number | null {
  const probes = Object.values(s.probe ?? {});
  const cpu = probes.length ? probes.reduce((a, p) => a + p.cpuSec, 0) : Object.entries(s.cpuSec ?? {}).filter(([k]) => k.startsWith('service')).reduce((a, [, v]) => a + v, 0);
  return s.sent > 0 ? Math.round((cpu / s.sent) * 10_000 * 100) / 100 : null;
}
