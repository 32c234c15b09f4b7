/** Summarises a V8 .cpuprofile: top functions by self time (and by inclusive time). */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  function: string;
  location: string;
  selfMs: number;
  selfPct: number;
}

export function summariseProfile(file: string, top = 25): { totalMs: number; idlePct: number; gcPct: number; top: HotFunction[]; byModule: Array<{ module: string; selfPct: number }> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const agg = new Map<string, { fn: string; loc: string; us: number }>();
  const mods = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') idle += us;
    if (cf.functionName === '(garbage collector)') gc += us;
    const url = cf.url.replace(/^file:\/\//, '').replace(/^.*\/work\/[^/]+\//, '');
    const loc = url ? `${url}:${cf.lineNumber + 1}` : '(native)';
    const k = `${cf.functionName}@${loc}`;
    const e = agg.get(k) ?? { fn: cf.functionName || '(anonymous)', loc, us: 0 };
    e.us += us;
    agg.set(k, e);
    const mod = !url ? cf.functionName.startsWith('(') ? cf.functionName : '(native/builtin)' : url.startsWith('node:') ? 'node core' : /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? url.replace(/\/[^/]+$/, '/');
    mods.set(mod, (mods.get(mod) ?? 0) + us);
  }
  const busy = total - idle || 1;
  return {
    totalMs: Math.round(total / 1000),
    idlePct: Math.round((idle / total) * 1000) / 10,
    gcPct: Math.round((gc / busy) * 1000) / 10,
    top: [...agg.values()]
      .filter((e) => e.fn !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ function: e.fn, location: e.loc, selfMs: Math.round(e.us / 1000), selfPct: Math.round((e.us / busy) * 1000) / 10 })),
    byModule: [...mods.entries()]
      .filter(([m]) => m !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([module, us]) => ({ module, selfPct: Math.round((us / busy) * 1000) / 10 })),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const s = summariseProfile(process.argv[2]!);
  console.log(JSON.stringify(s, null, 2));
}

/** who calls a hot native function: self time of `fn` attributed to the nearest application or library frame up the stack */
export function callersOf(file: string, fn: string, top = 8): Array<{ caller: string; pct: number }> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const us = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) us.set(p.samples[i]!, (us.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  const agg = new Map<string, number>();
  let total = 0;
  for (const [id, t] of us) {
    if (byId.get(id)!.callFrame.functionName !== fn) continue;
    total += t;
    let cur = parent.get(id);
    const chain: string[] = [];
    while (cur !== undefined && chain.length < 3) {
      const cf = byId.get(cur)!.callFrame;
      if (/dist\/server|node_modules/.test(cf.url)) chain.push(`${cf.functionName || '(anon)'}@${cf.url.replace(/^.*\/(dist\/server|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`);
      cur = parent.get(cur);
    }
    const k = chain.join(' < ') || '(no app frame)';
    agg.set(k, (agg.get(k) ?? 0) + t);
  }
  return [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([caller, t]) => ({ caller, pct: Math.round((t / (total || 1)) * 1000) / 10 }));
}

/**
 * Inclusive shares: % of busy samples whose stack holds a frame matching each pattern (a sample
 * can count for several patterns). Tells what a whole path costs, e.g. everything under the
 * Kafka producer, whatever native work it ends in.
 */
export function stackShares(file: string, patterns: Record<string, RegExp>): Record<string, number> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const us = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) us.set(p.samples[i]!, (us.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  const out: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((k) => [k, 0]));
  let busy = 0;
  for (const [id, t] of us) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    busy += t;
    const frames: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      frames.push(`${cf.functionName}@${cf.url}`);
    }
    for (const [k, re] of Object.entries(patterns)) if (frames.some((f) => re.test(f))) out[k]! += t;
  }
  for (const k of Object.keys(out)) out[k] = Math.round((out[k]! / (busy || 1)) * 1000) / 10;
  return out;
}

/** the paths compared between the in-process bus and Kafka */
export const PATHS: Record<string, RegExp> = {
  'kafkajs producer (send, encode, partition)': /kafkajs\/src\/(producer|protocol\/requests\/produce)/,
  'kafkajs consumer (fetch, decode)': /kafkajs\/src\/(consumer|protocol\/requests\/fetch|protocol\/recordBatch)/,
  'kafkajs network (socket, request queue)': /kafkajs\/src\/network/,
  'kafkajs (all)': /kafkajs/,
  'bus: enqueue/flush (JSON.stringify of envelopes)': /^(enqueue|scheduleFlush|flush|sendOnce)@.*kafka-bus/,
  'bus: deliverBatch/decodeEnvelope (own events too)': /^(deliverBatch|decodeEnvelope)@.*kafka-bus/,
  'mysql2 (store + access queries)': /mysql2/,
  'STOMP socket writes (uncork → writev)': /^uncork@.*stomp\/server/,
  'hub fan-out': /chat\/hub\.js/,
  'pino logging': /pino/,
  'module loading / startup': /cjs\/loader|esm\/(loader|utils)|bootstrap\/realm/,
  '(garbage collector)': /^\(garbage collector\)@/,
};
