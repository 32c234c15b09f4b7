/**
 * The orchestrator's side of bench/lib/probe-preload.mjs: the node flags and environment that load
 * it into a service instance, reading it over its Unix socket, and the per-step figures derived
 * from the readings (event-loop delay, GC pauses, allocation and CPU per message).
 */
import http from 'node:http';
import { join } from 'node:path';
import { ROOT, RUN_TAG } from './infra.js';

export interface ProbeReading {
  wallSec: number;
  cpuSec: number;
  eld: { p50: number; p99: number; max: number; mean: number };
  gc: { count: number; pauseMs: number; maxMs: number; byKind: Record<string, { count: number; pauseMs: number }>; longPauses: Array<{ kind: string; ms: number }> };
  allocMB: number;
  heapUsedMB: number;
}

export const PRELOAD = join(ROOT, 'bench/lib/probe-preload.mjs');

/** node flags + env for one instance (socket paths stay under the 108-byte Unix limit) */
export function probeOpts(name: string): { sock: string; nodeFlags: string[]; extraEnv: Record<string, string> } {
  const sock = `/tmp/rc-bench-${RUN_TAG}-${name}.sock`;
  return { sock, nodeFlags: ['--import', PRELOAD], extraEnv: { BENCH_PROBE_SOCK: sock } };
}

/** readings since the previous read (the probe resets on every read); null when it does not answer */
export function readProbe(sock: string): Promise<ProbeReading | null> {
  return probeGet<ProbeReading>(sock, '/read');
}

/** starts a CPU profile in the instance, or stops it and has it written to `file` */
export function probeProfile(sock: string, action: 'start' | 'stop', file?: string): Promise<unknown> {
  return probeGet(sock, `/profile/${action}${file ? `?file=${encodeURIComponent(file)}` : ''}`);
}

function probeGet<T>(sock: string, path: string): Promise<T | null> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: sock, path, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** per step and instance: what the report shows beside the latency */
export function stepProbe(r: ProbeReading, messages: number, deliveries: number) {
  const per10k = (v: number) => (messages > 0 ? Math.round((v / messages) * 10_000 * 100) / 100 : null);
  return {
    eldP99Ms: r.eld.p99,
    eldMaxMs: r.eld.max,
    gcPauseMs: r.gc.pauseMs,
    gcMaxMs: r.gc.maxMs,
    gcCount: r.gc.count,
    gcByKind: r.gc.byKind,
    gcLongPauses: r.gc.longPauses,
    cpuSec: r.cpuSec,
    cpuSecPer10kMsgs: per10k(r.cpuSec),
    allocMB: r.allocMB,
    allocKbPerDelivery: deliveries > 0 ? Math.round(((r.allocMB * 1000) / deliveries) * 100) / 100 : null,
    heapUsedMB: r.heapUsedMB,
    wallSec: r.wallSec,
  };
}
export type StepProbe = ReturnType<typeof stepProbe>;
