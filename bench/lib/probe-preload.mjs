/**
 * Bench-only preload for the service process (`node --import <this file> dist/server/index.js`):
 * samples event-loop delay (perf_hooks.monitorEventLoopDelay), GC pauses (PerformanceObserver
 * 'gc'), JS heap allocation and process CPU inside the service, and answers `GET /read` on the
 * Unix socket named by BENCH_PROBE_SOCK with the readings since the previous read (then resets).
 * Plain JavaScript so it loads under plain node beside the compiled server; does nothing without
 * the variable. The service code is untouched and unaware of it.
 */
import http from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';

const sock = process.env.BENCH_PROBE_SOCK;
if (sock) {
  // 1 ms resolution: the histogram is fed by a timer of that period, cheap next to the load
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let gc = fresh();
  function fresh() {
    return { count: 0, pauseMs: 0, maxMs: 0, byKind: {}, pauses: [] };
  }
  // allocation: growth of the used heap between samples; a GC resets the base to the heap after it.
  // Bytes allocated between the last sample and a GC are missed (≤ one 5 ms sample period's worth).
  let lastUsed = v8.getHeapStatistics().used_heap_size;
  let allocBytes = 0;
  const sample = () => {
    const u = v8.getHeapStatistics().used_heap_size;
    if (u > lastUsed) allocBytes += u - lastUsed;
    lastUsed = u;
  };
  setInterval(sample, 5).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[e.detail?.kind ?? e.kind] ?? 'other';
      gc.count++;
      gc.pauseMs += e.duration;
      if (e.duration > gc.maxMs) gc.maxMs = e.duration;
      const k = (gc.byKind[kind] ??= { count: 0, pauseMs: 0 });
      k.count++;
      k.pauseMs += e.duration;
      if (e.duration >= 10) gc.pauses.push({ kind, ms: Math.round(e.duration * 10) / 10 });
    }
    lastUsed = v8.getHeapStatistics().used_heap_size;
  }).observe({ entryTypes: ['gc'] });

  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  // CPU profile of one window on request (the orchestrator brackets a load step with start/stop),
  // so a profile holds that step only, without start-up, connection ramp or drain
  let session = null;
  const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
  async function profile(action, file) {
    if (action === 'start') {
      if (!session) {
        const inspector = await import('node:inspector');
        session = new inspector.Session();
        session.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 500 });
      }
      await post('Profiler.start');
      return { started: true };
    }
    const { profile: prof } = await post('Profiler.stop');
    writeFileSync(file, JSON.stringify(prof));
    return { file };
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://probe');
    if (url.pathname.startsWith('/profile/')) {
      profile(url.pathname.slice('/profile/'.length), url.searchParams.get('file')).then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
        (err) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    sample();
    const cpu = process.cpuUsage(cpu0);
    const body = {
      wallSec: Math.round(performance.now() - t0) / 1000,
      cpuSec: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean) },
      gc: { count: gc.count, pauseMs: Math.round(gc.pauseMs * 10) / 10, maxMs: Math.round(gc.maxMs * 10) / 10, byKind: gc.byKind, longPauses: gc.pauses.slice(0, 50) },
      allocMB: Math.round(allocBytes / 1e4) / 100,
      heapUsedMB: Math.round(lastUsed / 1e4) / 100,
    };
    eld.reset();
    gc = fresh();
    allocBytes = 0;
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  rmSync(sock, { force: true });
  server.listen(sock);
  server.unref();
  process.once('exit', () => rmSync(sock, { force: true }));
}
