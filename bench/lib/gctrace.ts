/** Summarises a service's `node --trace-gc` output: pauses by collector, the longest, and the young-generation bytes reclaimed. */
import { readFileSync } from 'node:fs';

export function summariseGcTrace(file: string) {
  const by: Record<string, { count: number; ms: number; maxMs: number; reclaimedMB: number }> = {};
  const longest: Array<{ atMs: number; kind: string; ms: number; line: string }> = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  // e.g. "[123:0x5f..]     4711 ms: Scavenge 38.1 (52.4) -> 30.2 (52.9) MB, 1.42 / 0.00 ms  (average mu = …) allocation failure;"
  const re = /\]\s+(\d+) ms: ([A-Za-z-]+(?: [A-Za-z-]+)?)(?: \([^)]*\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, ([\d.]+) \/ ([\d.]+) ms/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const kind = m[2]!;
    const ms = Number(m[7]);
    const e = (by[kind] ??= { count: 0, ms: 0, maxMs: 0, reclaimedMB: 0 });
    e.count++;
    e.ms += ms;
    e.maxMs = Math.max(e.maxMs, ms);
    e.reclaimedMB += Math.max(0, Number(m[3]) - Number(m[5]));
    longest.push({ atMs: Number(m[1]), kind, ms, line: line.trim().slice(0, 200) });
  }
  for (const e of Object.values(by)) {
    e.ms = Math.round(e.ms * 10) / 10;
    e.reclaimedMB = Math.round(e.reclaimedMB * 10) / 10;
  }
  return { byKind: by, longest: longest.sort((a, b) => b.ms - a.ms).slice(0, 10) };
}
