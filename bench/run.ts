/**
 * `npm run bench [-- --quick] [-- --scenario N[,M]] [-- --profile|--no-profile] [-- --profile-kafka [--profile-kafka-rate N]]`
 *
 * Starts service instances and load generators as child processes, runs the scenarios of
 * bench/RESULTS.md, and writes bench/results/<stamp>/{run.json,report.md,latency.svg}.
 * Exit status 1 when any run loses or reorders messages (or a scenario crashes).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { LoadRoom, LoadSpec, StepResult } from './gen.js';
import {
  CpuMeter,
  dbConn,
  dbVariables,
  dropDatabase,
  dropKafkaTopics,
  dropRedisPrefix,
  FD_LIMIT,
  forceGc,
  infraPids,
  insertRooms,
  procCpuSec,
  procRssKb,
  ROOT,
  RUN_TAG,
  serverEntry,
  sleep,
  startGen,
  startServer,
  token,
  type Gen,
  type ServerProc,
} from './lib/infra.js';
import { summariseGcTrace } from './lib/gctrace.js';
import { callersOf, PATHS, stackShares, summariseProfile } from './lib/profile.js';
import { probeOpts, probeProfile, readProbe, stepProbe, type StepProbe } from './lib/probe.js';
import { groupRepeats, serviceCpuPer10k, type RepeatedStep } from './lib/repeats.js';
import { phoneJpeg, uploadBurst, type UploadBurst } from './lib/uploads.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const scenarioArg = args.find((a, i) => args[i - 1] === '--scenario') ?? args.find((a) => a.startsWith('--scenario='))?.split('=')[1];
const SCENARIOS = new Set((scenarioArg ?? '1,2,3,4,5,6,7').split(',').map(Number));
const PROFILE = args.includes('--profile') || (!QUICK && !args.includes('--no-profile') && !scenarioArg);
const PROFILE_KAFKA = args.includes('--profile-kafka') || (!QUICK && !args.includes('--no-profile') && !scenarioArg);
/** each load step runs this many times and the median (by delivery p99) is reported; quick runs once to stay ~2–3 min */
const REPEATS = Number(args.find((a, i) => args[i - 1] === '--repeats') ?? (QUICK ? 1 : 3));
const PROFILE_COMPARE = args.includes('--profile-compare') || (!QUICK && !args.includes('--no-profile') && !scenarioArg);
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const OUT = join(ROOT, 'bench', 'results', `${stamp}${QUICK ? '-quick' : ''}`);
mkdirSync(OUT, { recursive: true });

const C = QUICK
  ? {
      rooms: 200,
      steps: [500, 1500, 3000],
      rabbitSteps: [500, 1500, 3000],
      warmupSec: 1,
      measureSec: 2,
      drainSec: 3,
      finalDrainSec: 10,
      twoDevices: false,
      hopRooms: 100,
      hopSec: 3,
      idleConns: 1000,
      idleWindowSec: 4,
      histHot: 50_000,
      histSmallRooms: 500,
      histIters: 100,
      offsetIters: 3,
      insertSec: 2,
      serviceInsertConns: 100,
      serviceInsertWindow: 4,
    }
  : {
      rooms: 1000,
      steps: [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000],
      rabbitSteps: [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000],
      warmupSec: 3,
      measureSec: 8,
      drainSec: 5,
      finalDrainSec: 30,
      twoDevices: true,
      hopRooms: 500,
      hopSec: 15,
      idleConns: FD_LIMIT - 150, // the container's hard RLIMIT_NOFILE is 20,000 for the server process
      idleWindowSec: 30,
      histHot: 500_000,
      histSmallRooms: 5000,
      histIters: 500,
      offsetIters: 10,
      insertSec: 8,
      serviceInsertConns: 500,
      serviceInsertWindow: 2,
    };

const log = (s: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);
const entry = serverEntry(log);
let failed = false;
const failures: string[] = [];
const report: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  mode: QUICK ? 'quick' : 'full',
  machine: { cores: (await import('node:os')).cpus().length, memGiB: Math.round((await import('node:os')).totalmem() / 2 ** 30), node: process.version },
  serverEntry: entry.compiled ? 'dist/server/index.js (compiled)' : 'server/index.ts via tsx',
  config: C,
  scenarios: {} as Record<string, unknown>,
};
const scen = report.scenarios as Record<string, unknown>;

/** per-scenario resources to clean */
const cleanup: Array<() => Promise<void>> = [];
async function runCleanup() {
  while (cleanup.length) await cleanup.pop()!().catch((e) => log(`cleanup: ${(e as Error).message}`));
}

function meterFor(procs: () => Record<string, number[]>) {
  return new CpuMeter(() => ({ ...procs(), ...infraPids(), 'bench orchestrator': [process.pid] }));
}

// ------------------------------------------------------------------ shared setups
/** probe sockets of the running service instances, by instance name (bench/lib/probe-preload.mjs) */
const probes = new Map<string, string>();
async function service(
  name: string,
  db: string,
  instances: Array<'a' | 'b'>,
  kafka: boolean,
  opts: { inspect?: boolean; nodeFlags?: string[]; extraEnv?: Record<string, string>; stdoutDir?: string } = {},
) {
  const prefix = `bench-${RUN_TAG}-${name}-`;
  const redisPrefix = `bench:${RUN_TAG}:${name}:`;
  await dropDatabase(db);
  cleanup.push(() => dropDatabase(db));
  cleanup.push(() => dropRedisPrefix(redisPrefix));
  if (kafka) cleanup.push(() => dropKafkaTopics(prefix));
  const servers: ServerProc[] = [];
  for (const inst of instances) {
    // sequential: the first one migrates the schema
    const probe = probeOpts(`${name}-${inst}`);
    const s = await startServer({ name: `${name}-${inst}`, instance: inst, db, redisPrefix, entry: entry.args, ...(kafka ? { kafka: { prefix } } : {}), ...opts, nodeFlags: [...probe.nodeFlags, ...(opts.nodeFlags ?? [])], extraEnv: { ...(opts.extraEnv ?? {}), ...probe.extraEnv }, ...(opts.stdoutDir ? { stdoutFile: join(opts.stdoutDir, `stdout-${name}-${inst}.log`) } : {}) });
    servers.push(s);
    probes.set(s.name, probe.sock);
    cleanup.push(async () => {
      probes.delete(s.name);
      await s.stop();
      // warnings and errors the instance logged (LOG_LEVEL=warn), for the report
      const out = s.output().trim();
      if (out) writeFileSync(join(OUT, `server-${s.name}.log`), out + '\n');
    });
  }
  return servers;
}

async function gen(name: string): Promise<Gen> {
  const g = await startGen(name);
  cleanup.push(() => g.stop());
  return g;
}

async function serviceRooms(db: string, n: number, tag: string, urls: { buyer: ServerProc; seller: ServerProc }): Promise<LoadRoom[]> {
  const rooms = await insertRooms(db, n, tag);
  return Promise.all(
    rooms.map(async (r) => ({
      id: r.id,
      sub: `/sub/chat/room/${r.id}`,
      pub: `/pub/room/${r.id}/message`,
      members: [
        { user: r.buyer, token: await token(r.buyer), url: urls.buyer.wsUrl, instance: urls.buyer.name },
        { user: r.seller, token: await token(r.seller), url: urls.seller.wsUrl, instance: urls.seller.name },
      ],
    })),
  );
}

function loadSpec(kind: LoadSpec['kind'], rooms: LoadRoom[], over: Partial<LoadSpec> = {}): LoadSpec {
  return {
    kind,
    rooms,
    devices: 1,
    senders: 'both',
    steps: C.steps,
    warmupSec: C.warmupSec,
    measureSec: C.measureSec,
    drainSec: C.drainSec,
    stopAfterFailures: 2,
    p99LimitMs: 50,
    finalDrainSec: C.finalDrainSec,
    ...over,
  };
}

interface LoadOutcome {
  connections: number;
  steps: Array<RepeatedStep & { cpuSec?: Record<string, number> }>;
  /** every repeat of every step, in run order */
  rawSteps?: Array<StepResult & { cpuSec?: Record<string, number>; probe?: Record<string, StepProbe> }>;
  totals: { sent: number; deliveriesExpected: number; lost: number; duplicates: number; reorders: number; unreceipted: number; errors: number; foreign: number; errorSamples: string[] };
  maxSustainable: number;
  cpu?: unknown;
  dbPerMessage?: Record<string, number>;
}

/** `opts.profileDir`: each step is CPU-profiled inside the instances (files `<instance>-<rate>-<step>.cpuprofile`) */
async function runLoad(
  label: string,
  g: Gen,
  spec: LoadSpec,
  meter: CpuMeter,
  onStep?: (e: { type: string; [k: string]: unknown }) => void,
  opts: { profileDir?: string } = {},
): Promise<LoadOutcome> {
  log(`  ${label}: ${spec.rooms.length} rooms × ${spec.rooms[0]!.members.length} members × ${spec.devices} device(s), steps ${spec.steps.join(',')}`);
  const stepMeter = meter.fresh();
  const db0 = spec.kind === 'service' ? await dbStatus() : null;
  const stepCpu: Array<Record<string, number>> = [];
  let stepMeterBase: CpuMeter | null = null;
  const reps = spec.repeats ?? (spec.kind === 'service' ? REPEATS : 1); // RabbitMQ is a reference: once per step
  if (reps > 1 && !spec.repeats) spec = { ...spec, repeats: reps, steps: spec.steps.flatMap((x) => Array<number>(reps).fill(x)) };
  const stepProfiles: Array<Promise<unknown>> = [];
  const stepProbes: Array<Promise<Array<[string, Awaited<ReturnType<typeof readProbe>>]>>> = [];
  const readAll = () => Promise.all([...probes].map(async ([n, sock]) => [n, await readProbe(sock)] as [string, Awaited<ReturnType<typeof readProbe>>]));
  meter.reset();
  const r = await g.call<Omit<LoadOutcome, 'maxSustainable'>>('load', spec, (e) => {
    onStep?.(e);
    if (e.type === 'step-begin') {
      stepMeterBase = meter;
      stepMeter.reset();
      void readAll(); // resets the in-service probes
      if (opts.profileDir) for (const sock of probes.values()) void probeProfile(sock, 'start');
    } else if (e.type === 'step-end') {
      stepCpu.push(stepMeter.delta().cpuSec);
      stepProbes.push(readAll());
      const s = e.result as StepResult;
      if (opts.profileDir) for (const [n, sock] of probes) stepProfiles.push(probeProfile(sock, 'stop', join(opts.profileDir, `${n}-${s.offered}-${stepCpu.length}.cpuprofile`)));
      log(
        `    ${String(s.offered).padStart(6)} msg/s offered → sent ${s.sentRate}/s, delivered ${s.delivered}/${s.expectedDeliveries}${s.complete ? '' : ' INCOMPLETE'}, ` +
          `p50 ${s.latency.p50} p99 ${s.latency.p99} max ${s.latency.max} ms, receipt p99 ${s.receiptLatency.p99} ms, gen lag p99 ${s.sendLag.p99} ms, gen cpu ${s.genCpuSec}s ${s.sustained ? 'OK' : 'FAIL'}`,
      );
    }
  });
  void stepMeterBase;
  const probed = await Promise.all(stepProbes);
  await Promise.all(stepProfiles);
  const rawSteps = r.steps.map((s, i) => ({
    ...s,
    cpuSec: stepCpu[i] ?? {},
    probe: Object.fromEntries((probed[i] ?? []).filter(([, v]) => v).map(([n, v]) => [n, stepProbe(v!, s.sent, s.delivered)])),
  }));
  for (const s of rawSteps) {
    const p = Object.entries(s.probe).map(([n, v]) => `${n}: ELD p99 ${v.eldP99Ms} ms, GC ${v.gcPauseMs} ms (max ${v.gcMaxMs}), CPU ${v.cpuSecPer10kMsgs} s/10k msgs, alloc ${v.allocKbPerDelivery} KB/delivery`).join('; ');
    if (p) log(`    ${String(s.offered).padStart(6)}: ${p}`);
  }
  const steps = groupRepeats(rawSteps, reps);
  if (reps > 1) log(`    medians of ${reps}: ${steps.map((s) => `${s.offered}/s p99 ${s.latency.p99} [${s.repeats.map((x) => x.p99).join(',')}] ${s.sustained ? 'OK' : 'FAIL'}`).join('; ')}`);
  let dbPerMessage: Record<string, number> | undefined;
  if (db0) {
    const db1 = await dbStatus();
    dbPerMessage = Object.fromEntries(Object.keys(db1).map((k) => [k, Math.round(((db1[k]! - (db0[k] ?? 0)) / Math.max(1, r.totals.sent)) * 1000) / 1000]));
    log(`    MariaDB per message sent: ${Object.entries(dbPerMessage).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const maxSustainable = Math.max(0, ...steps.filter((s) => s.sustained).map((s) => s.offered));
  const t = r.totals;
  log(`    totals: sent ${t.sent}, lost ${t.lost}, reorders ${t.reorders}, duplicates ${t.duplicates}, unreceipted ${t.unreceipted}, errors ${t.errors} → max sustainable ${maxSustainable} msg/s`);
  if (t.lost > 0 || t.reorders > 0) {
    failed = true;
    failures.push(`${label}: lost ${t.lost}, reordered ${t.reorders}`);
    log(`    CORRECTNESS FAILURE in ${label}: lost ${t.lost}, reordered ${t.reorders}`);
  }
  if (t.errorSamples.length) log(`    error samples: ${t.errorSamples.join(' | ')}`);
  return { ...r, steps, rawSteps, maxSustainable, cpu: meter.delta(), ...(dbPerMessage ? { dbPerMessage } : {}) };
}

/** global MariaDB counters (whole server: other databases' traffic would show too) */
async function dbStatus(): Promise<Record<string, number>> {
  const conn = await dbConn();
  try {
    const [rows] = await conn.query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions','Com_select','Com_insert','Com_update','Com_commit','Com_begin','Innodb_os_log_fsyncs','Innodb_data_fsyncs','Bytes_received','Bytes_sent','Innodb_row_lock_waits','Innodb_row_lock_time')",
    );
    return Object.fromEntries((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, Number(r.Value)]));
  } finally {
    await conn.end();
  }
}

// ------------------------------------------------------------------ scenario 1: marketplace traffic
async function scenario1() {
  const out: Record<string, unknown> = {};
  {
    const db = `reuse_chat_bench_${RUN_TAG}_s1`;
    const [a] = await service('s1', db, ['a'], false);
    const g = await gen('gen-s1');
    const meter = meterFor(() => ({ 'service a': [a!.pid], generator: [g.pid] }));
    const rooms = await serviceRooms(db, C.rooms, 's1', { buyer: a!, seller: a! });
    out.single = await runLoad('single instance, in-process bus', g, loadSpec('service', rooms), meter);
    if (C.twoDevices) {
      const g2 = await gen('gen-s1-2dev');
      const meter2 = meterFor(() => ({ 'service a': [a!.pid], generator: [g2.pid] }));
      out.singleTwoDevices = await runLoad('single instance, two devices each', g2, loadSpec('service', rooms, { devices: 2 }), meter2);
    }
    await runCleanup();
  }
  out.kafkaSingle = await kafkaSingle();
  {
    const db = `reuse_chat_bench_${RUN_TAG}_s1k`;
    const [a, b] = await service('s1k', db, ['a', 'b'], true);
    const g = await gen('gen-s1k');
    const meter = meterFor(() => ({ 'service a': [a!.pid], 'service b': [b!.pid], generator: [g.pid] }));
    const rooms = await serviceRooms(db, C.rooms, 's1k', { buyer: a!, seller: b! });
    await sleep(2000); // consumer groups settle
    out.kafka = await runLoad('two instances on Kafka (buyer on A, seller on B)', g, loadSpec('service', rooms, { steps: [QUICK ? 250 : 250, 500, ...C.steps.filter((x) => x >= 1000)] }), meter);
    await runCleanup();
  }
  scen['1'] = out;
}

/** the in-process steps again with KAFKA_BROKERS set on the one instance (every production deployment runs so) */
async function kafkaSingle(): Promise<LoadOutcome> {
  const db = `reuse_chat_bench_${RUN_TAG}_s1ks`;
  try {
    const [a] = await service('s1ks', db, ['a'], true);
    const g = await gen('gen-s1ks');
    const meter = meterFor(() => ({ 'service a': [a!.pid], generator: [g.pid] }));
    const rooms = await serviceRooms(db, C.rooms, 's1ks', { buyer: a!, seller: a! });
    return await runLoad('single instance with Kafka', g, loadSpec('service', rooms), meter);
  } finally {
    await runCleanup();
  }
}

// ------------------------------------------------------------------ scenario 2: RabbitMQ Web-STOMP
async function scenario2() {
  const g = await gen('gen-s2');
  const meter = meterFor(() => ({ generator: [g.pid] }));
  const url = 'ws://127.0.0.1:15674/ws';
  try {
    const probe = await fetch('http://127.0.0.1:15674/ws').catch(() => null);
    if (!probe) throw new Error('RabbitMQ Web-STOMP is not listening on 127.0.0.1:15674');
    const rooms: LoadRoom[] = Array.from({ length: C.rooms }, (_, i) => ({
      id: `room.${RUN_TAG}.${i}`,
      sub: `/topic/room.${RUN_TAG}.${i}`,
      pub: `/topic/room.${RUN_TAG}.${i}`,
      members: [
        { user: `buyer-${i}`, token: '', url, instance: 'rabbit' },
        { user: `seller-${i}`, token: '', url, instance: 'rabbit' },
      ],
    }));
    const out: Record<string, unknown> = {};
    out.rabbit = await runLoad('RabbitMQ Web-STOMP (relay only, stores nothing)', g, loadSpec('rabbit', rooms, { steps: C.rabbitSteps }), meter);
    scen['2'] = out;
  } finally {
    await runCleanup();
  }
}

// ------------------------------------------------------------------ scenario 3: cross-instance hop
async function scenario3() {
  const db = `reuse_chat_bench_${RUN_TAG}_s3`;
  try {
    const [a, b] = await service('s3', db, ['a', 'b'], true);
    const g = await gen('gen-s3');
    const meter = meterFor(() => ({ 'service a': [a!.pid], 'service b': [b!.pid], generator: [g.pid] }));
    const rooms = await serviceRooms(db, C.hopRooms, 's3', { buyer: a!, seller: b! });
    await sleep(2000);
    const r = await runLoad('cross-instance hop: publishers on A, subscribers on B', g, loadSpec('service', rooms, { senders: 'first', steps: [500], warmupSec: 2, measureSec: C.hopSec }), meter);
    const s = r.steps[0]!;
    log(`    hop A→B at 500 msg/s: p50 ${s.crossLatency?.p50} p99 ${s.crossLatency?.p99} max ${s.crossLatency?.max} ms (local delivery on A p99 ${s.latency.p99})`);
    scen['3'] = r;
  } finally {
    await runCleanup();
  }
}

// ------------------------------------------------------------------ scenario 4: idle connections
async function idleRun(kind: 'stomp' | 'sio', n: number) {
  const db = `reuse_chat_bench_${RUN_TAG}_s4${kind}`;
  try {
    const [a] = await service(`s4${kind}`, db, ['a'], false, { inspect: true });
    const rooms = await insertRooms(db, Math.ceil(n / 2), `s4${kind}`);
    const conns: Array<{ token: string; roomId: string }> = [];
    for (const r of rooms) {
      conns.push({ token: await token(r.buyer), roomId: r.id });
      conns.push({ token: await token(r.seller), roomId: r.id });
    }
    conns.length = n;
    const gens = [await gen(`gen-s4-${kind}-1`), await gen(`gen-s4-${kind}-2`)];
    // warm the server's code paths with a few sessions first, so the baseline includes them
    await gens[0]!.call('idle', { kind, url: kind === 'stomp' ? a!.wsUrl : a!.url, conns: conns.slice(0, 20), localAddresses: ['127.0.0.1'], concurrency: 10, heartbeatMs: 10000 });
    await gens[0]!.call('idle-close');
    await sleep(QUICK ? 1000 : 2000);
    const gc0 = await forceGc(a!.inspectPort!);
    await sleep(500);
    const rss0 = procRssKb(a!.pid)!;
    const t0 = performance.now();
    const half = Math.ceil(n / 2);
    const addrs = (k: number) => Array.from({ length: 4 }, (_, i) => `127.0.0.${2 + k * 4 + i}`);
    const opened = await Promise.all(
      gens.map((g, k) =>
        g.call<{ opened: number; failed: number; errors: string[]; ms: number }>('idle', {
          kind,
          url: kind === 'stomp' ? a!.wsUrl : a!.url,
          conns: conns.slice(k * half, (k + 1) * half),
          localAddresses: addrs(k),
          concurrency: 100,
          heartbeatMs: 10000,
        }),
      ),
    );
    const rampSec = (performance.now() - t0) / 1000;
    const total = opened.reduce((s, o) => s + o.opened, 0);
    const failedN = opened.reduce((s, o) => s + o.failed, 0);
    log(`  ${kind}: ${total} sessions open (${failedN} failed) in ${rampSec.toFixed(1)} s ${opened.flatMap((o) => o.errors).slice(0, 2).join(' | ')}`);
    await sleep(QUICK ? 1000 : 3000);
    const gc1 = await forceGc(a!.inspectPort!);
    await sleep(500);
    const rss1 = procRssKb(a!.pid)!;
    const cpu0 = procCpuSec(a!.pid)!;
    const meter = meterFor(() => ({ 'service a': [a!.pid], generators: gens.map((g) => g.pid) }));
    await sleep(C.idleWindowSec * 1000);
    const cpu1 = procCpuSec(a!.pid)!;
    const cpuPctOfCore = Math.round(((cpu1 - cpu0) / C.idleWindowSec) * 1000) / 10;
    const idleCpu = meter.delta();
    const rss2 = procRssKb(a!.pid)!;
    const closed = await Promise.all(gens.map((g) => g.call<{ closedUnexpectedly: number }>('idle-close')));
    const perConnKb = Math.round(((rss1 - rss0) / Math.max(1, total)) * 100) / 100;
    const heapPerConnKb = gc0 && gc1 ? Math.round(((gc1.usedHeapKb - gc0.usedHeapKb) / Math.max(1, total)) * 100) / 100 : null;
    log(`  ${kind}: RSS ${rss0} → ${rss1} kB after GC = ${perConnKb} kB/connection (JS heap ${heapPerConnKb} kB/conn); idle CPU ${cpuPctOfCore}% of one core over ${C.idleWindowSec}s`);
    return {
      target: n,
      opened: total,
      failed: failedN,
      rampSec: Math.round(rampSec * 10) / 10,
      connectsPerSec: Math.round(total / rampSec),
      rssKb: { before: rss0, afterGc: rss1, endOfIdleWindow: rss2 },
      heapKb: { before: gc0?.usedHeapKb ?? null, after: gc1?.usedHeapKb ?? null },
      perConnKb,
      heapPerConnKb,
      idleWindowSec: C.idleWindowSec,
      idleCpuPctOfOneCore: cpuPctOfCore,
      idleCpu,
      closedUnexpectedly: closed.reduce((s, c) => s + c.closedUnexpectedly, 0),
      gcForcedThroughInspector: Boolean(gc0 && gc1),
    };
  } finally {
    await runCleanup();
  }
}
async function scenario4() {
  scen['4'] = { stomp: await idleRun('stomp', C.idleConns), socketio: await idleRun('sio', C.idleConns) };
}

// ------------------------------------------------------------------ scenario 5: history at scale
function quantiles(samples: number[]) {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  for (const s of samples) h.recordValue(Math.max(1, Math.round(s * 1000)));
  const ms = (v: number) => Math.round(v) / 1000;
  return { n: samples.length, p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) };
}
/** the service's page query (server/chat/history.ts builds the same SQL through Drizzle), index hint included */
const SELECT_PAGE = 'SELECT id, room_id, seq, sender_id, content, client_msg_id, created_at FROM messages FORCE INDEX (messages_room_id_idx) WHERE room_id = ? AND id < ? ORDER BY id DESC LIMIT ?';
const SELECT_OFFSET = 'SELECT id, room_id, seq, sender_id, content, client_msg_id, created_at FROM messages WHERE room_id = ? ORDER BY id DESC LIMIT ? OFFSET ?';

async function scenario5() {
  const db = `reuse_chat_bench_${RUN_TAG}_s5`;
  try {
    const [a] = await service('s5', db, ['a'], false);
    const meter = meterFor(() => ({ 'service a': [a!.pid] }));
    const total = C.histHot * 2;
    const rooms = await insertRooms(db, 1 + C.histSmallRooms, 's5');
    const hot = rooms[0]!;
    const small = rooms.slice(1);
    const perSmall = Math.floor(C.histHot / C.histSmallRooms);
    const conn = await dbConn(db);
    const t0 = performance.now();
    const seq = new Map<string, number>();
    const base = Date.now() - 30 * 24 * 3600 * 1000;
    let made = 0;
    let smallCursor = 0;
    const BATCH = 5000;
    await conn.query('SET SESSION unique_checks = 0');
    while (made < total) {
      const rows: unknown[][] = [];
      for (let k = 0; k < BATCH && made < total; k++, made++) {
        // interleave: half the rows in the hot room, the rest round-robin over the small rooms
        const room = k % 2 === 0 && (seq.get(hot.id) ?? 0) < C.histHot ? hot : small[smallCursor++ % small.length]!;
        const s = (seq.get(room.id) ?? 0) + 1;
        if (room !== hot && s > perSmall + 1) {
          made--;
          continue;
        }
        seq.set(room.id, s);
        const sender = s % 2 ? room.buyer : room.seller;
        rows.push([room.id, s, sender, `history message ${s} in a chat about a second-hand bicycle`, `h-${made}`, new Date(base + made * 1000)]);
      }
      if (!rows.length) break;
      await conn.query('INSERT INTO messages (room_id, seq, sender_id, content, client_msg_id, created_at) VALUES ?', [rows]);
    }
    await conn.query(
      'UPDATE rooms r JOIN (SELECT room_id, MAX(seq) s, MAX(id) m FROM messages GROUP BY room_id) x ON x.room_id = r.id SET r.last_seq = x.s, r.last_message_id = x.m, r.last_activity_at = CURRENT_TIMESTAMP(3)',
    );
    await conn.query('ANALYZE TABLE messages');
    const [[cnt]] = (await conn.query('SELECT COUNT(*) n FROM messages')) as unknown as [[{ n: number }]];
    const loadSec = (performance.now() - t0) / 1000;
    log(`  inserted ${cnt!.n} messages (${C.histHot} in the hot room) in ${loadSec.toFixed(1)} s = ${Math.round(cnt!.n / loadSec)} rows/s`);

    const [idRows] = (await conn.query('SELECT id FROM messages WHERE room_id = ? ORDER BY id', [hot.id])) as unknown as [Array<{ id: number }>];
    const ids = idRows.map((r) => Number(r.id));
    const positions = {
      start: ids[ids.length - 1]! + 1,
      middle: ids[Math.floor(ids.length / 2)]!,
      end: ids[50]!,
    };
    const out: Record<string, unknown> = { messages: cnt!.n, hotRoomMessages: ids.length, smallRooms: small.length, loadSec: Math.round(loadSec * 10) / 10, pages: {} };
    const pages = out.pages as Record<string, unknown>;
    const buyerToken = await token(hot.buyer);
    for (const [name, before] of Object.entries(positions)) {
      const [explain] = await conn.query(`EXPLAIN ${SELECT_PAGE}`, [hot.id, before, 51]);
      const dbT: number[] = [];
      const capAt = performance.now() + 15_000; // slow plans: at most ~15 s per measurement, at least 20 samples
      for (let i = 0; i < C.histIters && (i < 20 || performance.now() < capAt); i++) {
        const t = performance.now();
        await conn.query(SELECT_PAGE, [hot.id, before, 51]);
        dbT.push(performance.now() - t);
      }
      // through tRPC with a lean keep-alive HTTP/1.1 client (node:http, one socket), alternating
      // with GET /healthz on the same socket: the floor of HTTP itself on this machine (reference)
      const httpT: number[] = [];
      const floorT: number[] = [];
      const input = encodeURIComponent(JSON.stringify({ roomId: hot.id, before: String(before), limit: 50 }));
      let returned = 0;
      const capHttp = performance.now() + 15_000;
      for (let i = 0; i < C.histIters + 20 && (i < 40 || performance.now() < capHttp); i++) {
        let t = performance.now();
        const res = await httpGet(`${a!.url}/api/trpc/history.list?input=${input}`, { authorization: `Bearer ${buyerToken}` });
        const elapsed = performance.now() - t;
        const body = JSON.parse(res.body) as { result?: { data?: { messages?: unknown[] } } };
        if (res.status !== 200) throw new Error(`history.list ${res.status}: ${res.body.slice(0, 300)}`);
        returned = body.result?.data?.messages?.length ?? 0;
        t = performance.now();
        await httpGet(`${a!.url}/healthz`, {});
        if (i >= 20) {
          httpT.push(elapsed); // first 20: warm-up
          floorT.push(performance.now() - t);
        }
      }
      // baseline: what MariaDB does with the page query when it picks the plan alone
      // the same query without the hint, as MariaDB plans it alone (the baseline the hint fixes)
      const forced = SELECT_PAGE.replace(' FORCE INDEX (messages_room_id_idx)', '');
      const [explainForced] = await conn.query(`EXPLAIN ${forced}`, [hot.id, before, 51]);
      const fT: number[] = [];
      const capF = performance.now() + 15_000;
      for (let i = 0; i < C.histIters && (i < 20 || performance.now() < capF); i++) {
        const t = performance.now();
        await conn.query(forced, [hot.id, before, 51]);
        fT.push(performance.now() - t);
      }
      pages[name] = { before, rows: returned, db: quantiles(dbT.slice(Math.min(10, dbT.length >> 2))), trpc: quantiles(httpT), healthz: quantiles(floorT), explain, forceIndex: { db: quantiles(fT.slice(Math.min(10, fT.length >> 2))), explain: explainForced } };
      const p = pages[name] as { db: { p50: number; p99: number }; trpc: { p50: number; p99: number } };
      const fi = (pages[name] as { forceIndex: { db: { p50: number; p99: number } } }).forceIndex.db;
      const floor = quantiles(floorT);
      log(`  page ${name.padEnd(6)} (before ${before}): DB p50 ${p.db.p50} p99 ${p.db.p99} ms; tRPC p50 ${p.trpc.p50} p99 ${p.trpc.p99} ms (GET /healthz on the same socket: p50 ${floor.p50} p99 ${floor.p99} ms); ${returned} rows; without the index hint: DB p50 ${fi.p50} p99 ${fi.p99} ms`);
    }
    // the OFFSET baseline the keyset pages must beat
    const offsets: Record<string, unknown> = {};
    for (const [name, off] of Object.entries({ middle: Math.floor(ids.length / 2), end: ids.length - 50 })) {
      const tt: number[] = [];
      for (let i = 0; i < C.offsetIters; i++) {
        const t = performance.now();
        await conn.query(SELECT_OFFSET, [hot.id, 50, off]);
        tt.push(performance.now() - t);
      }
      const [explain] = await conn.query(`EXPLAIN ${SELECT_OFFSET}`, [hot.id, 50, off]);
      offsets[name] = { offset: off, db: quantiles(tt), explain };
      log(`  OFFSET ${off}: p50 ${(offsets[name] as { db: { p50: number } }).db.p50} ms`);
    }
    out.offsetBaseline = offsets;
    out.sql = { keyset: SELECT_PAGE, offset: SELECT_OFFSET };
    out.cpu = meter.delta();
    await conn.end();
    scen['5'] = out;
  } finally {
    await runCleanup();
  }
}

/** a keep-alive HTTP/1.1 GET on one socket (node:http: far less client-side overhead than fetch) */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
function httpGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: keepAlive, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

// ------------------------------------------------------------------ scenario 6: durable inserts
async function scenario6() {
  const db = `reuse_chat_bench_${RUN_TAG}_s6`;
  try {
    const [a] = await service('s6', db, ['a'], false);
    const out: Record<string, unknown> = { durability: await dbVariables() };
    const direct: Record<string, unknown> = {};
    const meter = meterFor(() => ({ 'service a': [a!.pid] }));
    let roomN = 0;
    const row = (room: string, s: number) => [room, s, 'bench-sender', `durable insert ${s}`, null, new Date()];
    const runDirect = async (label: string, conns: number, batch: number) => {
      const cs = await Promise.all(Array.from({ length: conns }, () => dbConn(db)));
      let rowsDone = 0;
      let stop = false;
      meter.reset();
      const t0 = performance.now();
      await Promise.all(
        cs.map(async (c) => {
          const room = `direct-${++roomN}`;
          let s = 0;
          while (!stop) {
            if (batch === 1) {
              await c.query('INSERT INTO messages (room_id, seq, sender_id, content, client_msg_id, created_at) VALUES (?)', [row(room, ++s)]); // autocommit: one commit per row
            } else {
              await c.beginTransaction();
              await c.query('INSERT INTO messages (room_id, seq, sender_id, content, client_msg_id, created_at) VALUES ?', [Array.from({ length: batch }, () => row(room, ++s))]);
              await c.commit();
            }
            rowsDone += batch;
            if (performance.now() - t0 > C.insertSec * 1000) stop = true;
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      await Promise.all(cs.map((c) => c.end()));
      const r = { connections: conns, rowsPerCommit: batch, rowsPerSec: Math.round(rowsDone / secs), commitsPerSec: Math.round(rowsDone / batch / secs), cpu: meter.delta() };
      log(`  direct ${label}: ${r.rowsPerSec} rows/s (${r.commitsPerSec} commits/s)`);
      direct[label] = r;
    };
    await runDirect('single-row INSERT+COMMIT, 1 connection', 1, 1);
    await runDirect('single-row INSERT+COMMIT, 16 connections', 16, 1);
    await runDirect('multi-row INSERT of 100 in one transaction, 1 connection', 1, 100);
    await runDirect('multi-row INSERT of 500 in one transaction, 1 connection', 1, 500);
    out.direct = direct;

    const rooms = await insertRooms(db, C.serviceInsertConns, 's6');
    const g = await gen('gen-s6');
    const m2 = meterFor(() => ({ 'service a': [a!.pid], generator: [g.pid] }));
    const specRooms = await Promise.all(rooms.map(async (r) => ({ id: r.id, token: await token(r.buyer) })));
    const r = await g.call<{ receiptsPerSec: number; receiptLatency: { p50: number; p99: number } }>('inserts', {
      url: a!.wsUrl,
      rooms: specRooms,
      window: C.serviceInsertWindow,
      warmupSec: 2,
      measureSec: C.insertSec,
    });
    out.service = { ...r, cpu: m2.delta() };
    log(`  through the service (${C.serviceInsertConns} STOMP senders × ${C.serviceInsertWindow} in flight): ${r.receiptsPerSec} receipts/s, receipt p50 ${r.receiptLatency.p50} p99 ${r.receiptLatency.p99} ms`);
    scen['6'] = out;
  } finally {
    await runCleanup();
  }
}

// ------------------------------------------------------------------ CPU profile of the service under load
async function profilePass(rate: number, kafka = false) {
  const label = kafka ? 'profKafka' : 'profile';
  const db = `reuse_chat_bench_${RUN_TAG}_${label.toLowerCase()}`;
  const dir = join(OUT, kafka ? 'cpuprof-kafka' : 'cpuprof');
  mkdirSync(dir, { recursive: true });
  try {
    // with Kafka: only instance A (buyers, senders) is profiled
    const [a, b] = await service(label.toLowerCase(), db, kafka ? ['a', 'b'] : ['a'], kafka, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const g = await gen('gen-prof');
    const meter = meterFor(() => ({ 'service a': [a!.pid], ...(b ? { 'service b': [b.pid] } : {}), generator: [g.pid] }));
    const rooms = await serviceRooms(db, C.rooms, label, { buyer: a!, seller: b ?? a! });
    if (kafka) await sleep(2000);
    const r = await runLoad(`profile pass at ${rate} msg/s${kafka ? ' (two instances on Kafka)' : ''}`, g, loadSpec('service', rooms, { steps: [rate], warmupSec: 2, measureSec: QUICK ? 5 : 15, stopAfterFailures: 9, repeats: 1 }), meter);
    await g.stop();
    await a!.stop();
    await b?.stop();
    // the first profile written is instance A's (stopped first)
    const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()[0];
    const summary = file ? { ...summariseProfile(join(dir, file)), callers: Object.fromEntries(['writeBuffer', 'writev', 'captureStackHolder'].map((fn) => [fn, callersOf(join(dir, file), fn, 5)])) } : null;
    if (summary) {
      log(`  profile: ${summary.totalMs} ms sampled, idle ${summary.idlePct}%, GC ${summary.gcPct}% of busy`);
      for (const t of summary.top.slice(0, 12)) log(`    ${String(t.selfPct).padStart(5)}%  ${t.function}  ${t.location}`);
    }
    scen[kafka ? 'profileKafka' : 'profile'] = { rate, kafka, file: file ? join(dir, file) : null, load: r.steps[0], cpu: r.cpu, summary };
  } finally {
    await runCleanup();
  }
}

// ------------------------------------------------------------------ in-process vs Kafka, one instance, profiled
/**
 * The same single instance at fixed rates, once on the in-process bus and once with KAFKA_BROKERS,
 * each step CPU-profiled inside the instance (the probe brackets it), with --trace-gc and the probe: CPU, GC and allocation per
 * message side by side in one run (ratios hold on a shared machine where absolute numbers do not).
 */
async function profileCompare(rates: number[]) {
  const out: Record<string, unknown> = { rates };
  for (const kafka of [false, true]) {
    const label = kafka ? 'pck' : 'pci';
    const db = `reuse_chat_bench_${RUN_TAG}_${label}`;
    const dir = join(OUT, `compare-${kafka ? 'kafka' : 'inproc'}`);
    mkdirSync(dir, { recursive: true });
    try {
      const [a] = await service(label, db, ['a'], kafka, { nodeFlags: ['--trace-gc'], stdoutDir: dir });
      const g = await gen(`gen-${label}`);
      const meter = meterFor(() => ({ 'service a': [a!.pid], generator: [g.pid] }));
      const rooms = await serviceRooms(db, C.rooms, label, { buyer: a!, seller: a! });
      const r = await runLoad(`profiled single instance, ${kafka ? 'Kafka' : 'in-process bus'}`, g, loadSpec('service', rooms, { steps: rates, warmupSec: 2, measureSec: QUICK ? 4 : 10, stopAfterFailures: 9, repeats: 1 }), meter, undefined, { profileDir: dir });
      await g.stop();
      await a!.stop();
      // one profile per step (taken inside the instance around the step only); path shares × the
      // step's measured CPU = CPU per message spent on each path, comparable across the two modes
      const perRate = r.steps.map((st, i) => {
        const f = join(dir, `${a!.name}-${st.offered}-${i + 1}.cpuprofile`);
        const cpu10k = serviceCpuPer10k(st) ?? 0;
        try {
          const summary = { ...summariseProfile(f, 30), callers: Object.fromEntries(['writeBuffer', 'writev'].map((fn) => [fn, callersOf(f, fn, 6)])) };
          const paths = stackShares(f, PATHS);
          const pathCpuMsPer1kMsgs = Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, Math.round(((v / 100) * cpu10k * 100)) / 1]));
          return { rate: st.offered, profile: f, summary, paths, pathCpuMsPer1kMsgs };
        } catch {
          return { rate: st.offered, profile: null, summary: null, paths: {}, pathCpuMsPer1kMsgs: {} };
        }
      });
      const gcTrace = summariseGcTrace(join(dir, `stdout-${label}-a.log`));
      const queriesPerCommit = r.dbPerMessage?.Com_commit ? Math.round((r.dbPerMessage.Questions! / r.dbPerMessage.Com_commit) * 100) / 100 : null;
      out[kafka ? 'kafka' : 'inproc'] = { load: r.steps, dbPerMessage: r.dbPerMessage, queriesPerCommit, perRate, gcTrace };
      for (const pr of perRate) {
        if (!pr.summary) continue;
        log(`  profile at ${pr.rate}/s: idle ${pr.summary.idlePct}%, GC ${pr.summary.gcPct}% of busy; paths: ${Object.entries(pr.paths).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}%`).join(', ')}`);
        for (const t of pr.summary.top.slice(0, 10)) log(`    ${String(t.selfPct).padStart(5)}%  ${t.function}  ${t.location}`);
      }
      if (gcTrace) log(`  --trace-gc: ${Object.entries(gcTrace.byKind).map(([k, v]) => `${k} ×${v.count} ${v.ms} ms (max ${v.maxMs})`).join(', ')}`);
    } finally {
      await runCleanup();
    }
  }
  const ip = out.inproc as { load: RepeatedStep[] } | undefined;
  const kf = out.kafka as { load: RepeatedStep[] } | undefined;
  out.ratios = rates.map((rate) => {
    const i = ip?.load.find((s) => s.offered === rate);
    const k = kf?.load.find((s) => s.offered === rate);
    const ci = i ? serviceCpuPer10k(i) : null;
    const ck = k ? serviceCpuPer10k(k) : null;
    return { rate, cpuPer10kInproc: ci, cpuPer10kKafka: ck, kafkaOverInproc: ci && ck ? Math.round((ck / ci) * 100) / 100 : null, p99Inproc: i?.latency.p99, p99Kafka: k?.latency.p99 };
  });
  for (const x of out.ratios as Array<Record<string, unknown>>) log(`  ${x.rate} msg/s: service CPU ${x.cpuPer10kInproc} (in-process) vs ${x.cpuPer10kKafka} (Kafka) s/10k msgs = ×${x.kafkaOverInproc}; p99 ${x.p99Inproc} vs ${x.p99Kafka} ms`);
  scen.compare = out;
}

// ------------------------------------------------------------------ report
function svgChart(series: Array<{ name: string; color: string; steps: StepResult[] }>): string {
  const W = 760;
  const H = 420;
  const L = 70;
  const R = 180;
  const T = 30;
  const B = 50;
  const xs = series.flatMap((s) => s.steps.map((p) => p.offered));
  const xMax = Math.max(1000, ...xs) * 1.05;
  const yMin = 0.5;
  const yMax = Math.max(100, ...series.flatMap((s) => s.steps.map((p) => p.latency.p99))) * 1.2;
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (v: number) => T + (1 - (Math.log10(Math.max(yMin, v)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - T - B);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n`;
  s += `<text x="${L}" y="18" font-size="14">p99 delivery latency (from intended send time) vs offered load</text>\n`;
  for (const v of [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000].filter((v) => v <= yMax)) {
    s += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 50 ? '#d33' : '#eee'}" ${v === 50 ? 'stroke-dasharray="6 4"' : ''}/>`;
    s += `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v} ms</text>\n`;
  }
  const step = xMax > 12000 ? 2000 : 1000;
  for (let v = 0; v <= xMax; v += step) {
    s += `<line x1="${x(v)}" x2="${x(v)}" y1="${T}" y2="${H - B}" stroke="#f2f2f2"/><text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${v}</text>\n`;
  }
  s += `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">offered messages per second</text>\n`;
  s += `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>\n`;
  series.forEach((se, i) => {
    const pts = se.steps.map((p) => `${x(p.offered).toFixed(1)},${y(p.latency.p99).toFixed(1)}`).join(' ');
    s += `<polyline fill="none" stroke="${se.color}" stroke-width="2" points="${pts}"/>\n`;
    for (const p of se.steps) s += `<circle cx="${x(p.offered)}" cy="${y(p.latency.p99)}" r="${p.sustained ? 3.5 : 5}" fill="${p.sustained ? se.color : 'white'}" stroke="${se.color}" stroke-width="2"/>`;
    s += `\n<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${T + 20 + i * 20}" y2="${T + 20 + i * 20}" stroke="${se.color}" stroke-width="2"/><text x="${W - R + 46}" y="${T + 24 + i * 20}">${se.name}</text>\n`;
  });
  s += `<text x="${W - R + 15}" y="${T + 30 + series.length * 20}" fill="#666">hollow = not sustained</text>\n<text x="${W - R + 15}" y="${T + 46 + series.length * 20}" fill="#d33">dashed = 50 ms p99 limit</text>\n`;
  return s + '</svg>\n';
}

type Target = { target: string; measured: string; pass: boolean | null };
function targets(): Target[] {
  const t: Target[] = [];
  const s1 = scen['1'] as Record<string, LoadOutcome> | undefined;
  const s2 = scen['2'] as Record<string, LoadOutcome> | undefined;
  if (s1?.single) {
    const best = s1.single.steps.filter((s) => s.sustained).at(-1);
    t.push({
      target: 'S1 single instance ≥ 5,000 msg/s stored+delivered (10,000 deliveries/s), p99 ≤ 50 ms',
      measured: best ? `${s1.single.maxSustainable} msg/s (${best.deliveryRate} deliveries/s, p99 ${best.latency.p99} ms)` : 'no step sustained',
      pass: s1.single.maxSustainable >= 5000,
    });
    const half = s1.single.maxSustainable / 2;
    const at = s1.single.steps.filter((s) => s.offered <= half).at(-1);
    t.push({
      target: 'receipt (stored) latency p99 ≤ 30 ms at half the max rate',
      measured: at ? `${at.receiptLatency.p99} ms at ${at.offered} msg/s` : 'n/a (no step at or below half the max)',
      pass: at ? at.receiptLatency.p99 <= 30 : null,
    });
  }
  if (s1?.kafka) {
    const best = s1.kafka.steps.filter((s) => s.sustained).at(-1);
    t.push({
      target: 'S1 Kafka, two instances ≥ 3,000 msg/s, p99 ≤ 50 ms',
      measured: best ? `${s1.kafka.maxSustainable} msg/s (p99 ${best.latency.p99} ms)` : 'no step sustained',
      pass: s1.kafka.maxSustainable >= 3000,
    });
  }
  if (s1?.single && s2?.rabbit) {
    t.push({
      target: '≥ RabbitMQ Web-STOMP sustained rate at p99 ≤ 50 ms',
      measured: `ours ${s1.single.maxSustainable} vs RabbitMQ ${s2.rabbit.maxSustainable} msg/s (ratio ${ratio(s1.single.maxSustainable, s2.rabbit.maxSustainable)})${s2.rabbit.steps.every((s) => s.sustained) ? '; RabbitMQ not saturated by the highest step' : ''}`,
      pass: s1.single.maxSustainable >= s2.rabbit.maxSustainable,
    });
  }
  const s3 = scen['3'] as LoadOutcome | undefined;
  if (s3) {
    const c = s3.steps[0]?.crossLatency;
    t.push({ target: 'cross-instance hop p99 ≤ 20 ms at 500 msg/s', measured: c ? `p50 ${c.p50} ms, p99 ${c.p99} ms` : 'no cross deliveries', pass: c ? c.p99 <= 20 && s3.steps[0]!.complete : false });
  }
  const s4 = scen['4'] as Record<string, { opened: number; target: number; perConnKb: number; idleCpuPctOfOneCore: number }> | undefined;
  if (s4) {
    t.push({ target: 'idle STOMP connection ≤ 15 KB server memory', measured: `${s4.stomp!.perConnKb} KB/connection (RSS after GC, ${s4.stomp!.opened} sessions)`, pass: s4.stomp!.perConnKb <= 15 });
    t.push({
      target: '20,000 STOMP connections with heart-beats < 10% of one core',
      measured: `${s4.stomp!.idleCpuPctOfOneCore}% with ${s4.stomp!.opened} sessions (scaled to 20,000: ${Math.round((s4.stomp!.idleCpuPctOfOneCore * 20000) / Math.max(1, s4.stomp!.opened) * 10) / 10}%)`,
      pass: s4.stomp!.opened >= 2000 ? (s4.stomp!.idleCpuPctOfOneCore * 20000) / s4.stomp!.opened < 10 : null,
    });
    t.push({ target: 'idle Socket.IO connection ≤ 25 KB', measured: `${s4.socketio!.perConnKb} KB/connection (${s4.socketio!.opened} sessions)`, pass: s4.socketio!.perConnKb <= 25 });
  }
  const s5 = scen['5'] as { messages: number; pages: Record<string, { db: { p99: number; p50: number }; trpc: { p99: number; p50: number } }> } | undefined;
  if (s5) {
    const worstDb = Math.max(...Object.values(s5.pages).map((p) => p.db.p99));
    const worstHttp = Math.max(...Object.values(s5.pages).map((p) => p.trpc.p99));
    t.push({ target: `history page p99 ≤ 5 ms in the DB (${s5.messages} messages)`, measured: `worst page p99 ${worstDb} ms`, pass: worstDb <= 5 });
    t.push({ target: 'history page p99 ≤ 10 ms through tRPC', measured: `worst page p99 ${worstHttp} ms`, pass: worstHttp <= 10 });
    const first = s5.pages.start!.trpc.p50;
    const last = s5.pages.end!.trpc.p50;
    t.push({ target: 'last page no slower than twice the first', measured: `p50 first ${first} ms, last ${last} ms (DB: ${s5.pages.start!.db.p50} / ${s5.pages.end!.db.p50} ms)`, pass: last <= 2 * first && s5.pages.end!.db.p50 <= 2 * Math.max(s5.pages.start!.db.p50, 0.1) });
  }
  t.push(...kafkaTargets());
  const s6 = scen['6'] as { service: { receiptsPerSec: number } } | undefined;
  if (s6) t.push({ target: 'durable inserts ≥ 10,000 msg/s through the store path', measured: `${s6.service.receiptsPerSec} receipts/s`, pass: s6.service.receiptsPerSec >= 10000 });
  return t;
}
/** the targets of making Kafka mode as fast as the in-process bus (medians of the repeats) */
function kafkaTargets(): Target[] {
  const t: Target[] = [];
  const s1 = scen['1'] as Record<string, LoadOutcome> | undefined;
  const ceilingOk = (r: LoadOutcome) => r.steps.filter((s) => s.offered < r.maxSustainable).every((s) => s.sustained);
  const best = (r: LoadOutcome) => r.steps.filter((s) => s.sustained).at(-1);
  if (s1?.single) {
    const b = best(s1.single);
    t.push({
      target: 'one instance, in-process bus ≥ 8,000 msg/s at p99 ≤ 50 ms, no step below the ceiling fails',
      measured: b ? `${s1.single.maxSustainable} msg/s (p99 ${b.latency.p99} ms)${ceilingOk(s1.single) ? '' : '; a step below it failed'}` : 'no step sustained',
      pass: s1.single.maxSustainable >= 8000 && ceilingOk(s1.single),
    });
    const at4k = s1.single.steps.find((s) => s.offered === 4000);
    const c = at4k ? serviceCpuPer10k(at4k) : null;
    t.push({ target: 'service CPU ≤ 0.6 s per 10,000 stored-and-delivered messages at 4,000 msg/s (in-process)', measured: c === null ? 'no 4,000 msg/s step' : `${c} s`, pass: c === null ? null : c <= 0.6 });
  }
  if (s1?.kafkaSingle) {
    const b = best(s1.kafkaSingle);
    t.push({
      target: 'Kafka mode, one instance: p99 ≤ 50 ms up to ≥ 4,000 msg/s',
      measured: b ? `${s1.kafkaSingle.maxSustainable} msg/s (p99 ${b.latency.p99} ms)${ceilingOk(s1.kafkaSingle) ? '' : '; a step below it failed'}` : 'no step sustained',
      pass: s1.kafkaSingle.maxSustainable >= 4000 && ceilingOk(s1.kafkaSingle),
    });
    if (s1.single) {
      const pairs = s1.kafkaSingle.steps
        .map((k) => [k, s1.single!.steps.find((i) => i.offered === k.offered)] as const)
        .filter(([k, i]) => i && k.complete && i.complete)
        .map(([k, i]) => ({ rate: k.offered, r: (serviceCpuPer10k(k) ?? 0) / Math.max(0.001, serviceCpuPer10k(i!) ?? 0) }));
      const worst = Math.max(0, ...pairs.map((p) => p.r));
      t.push({
        target: 'Kafka mode service CPU per message within 1.3× of the in-process bus (same run)',
        measured: pairs.length ? pairs.map((p) => `×${p.r.toFixed(2)} at ${p.rate}/s`).join(', ') : 'no common complete step',
        pass: pairs.length ? worst <= 1.3 : null,
      });
    }
  }
  if (s1?.kafka) t.push({ target: 'two instances on Kafka ≥ 5,000 msg/s at p99 ≤ 50 ms', measured: `${s1.kafka.maxSustainable} msg/s`, pass: s1.kafka.maxSustainable >= 5000 });
  const s3 = scen['3'] as LoadOutcome | undefined;
  const hop = s3?.steps[0]?.crossLatency;
  if (s3) t.push({ target: 'cross-instance hop p99 ≤ 10 ms at 500 msg/s', measured: hop ? `p99 ${hop.p99} ms (median of ${s3.steps[0]!.repeats.length})` : 'no cross deliveries', pass: hop ? hop.p99 <= 10 && s3.steps[0]!.complete : false });
  return t;
}
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

function markdown(): string {
  const lines: string[] = [];
  lines.push(`# Re:Use Chat bench — ${report.mode} run ${report.startedAt}`, '');
  lines.push(`Machine: ${JSON.stringify(report.machine)}; service: ${report.serverEntry}. Generator, service, MariaDB, Redis, Kafka and RabbitMQ share the same cores.`, '');
  if (failures.length) lines.push(`**CORRECTNESS FAILURES:** ${failures.join('; ')}`, '');
  lines.push('## Targets', '', '| target | measured | pass |', '|---|---|---|');
  for (const t of targets()) lines.push(`| ${t.target} | ${t.measured} | ${t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL'} |`);
  lines.push('');
  const s1 = (scen['1'] ?? {}) as Record<string, LoadOutcome>;
  const s2 = (scen['2'] ?? {}) as Record<string, LoadOutcome>;
  const loads: Array<[string, LoadOutcome | undefined]> = [
    ['S1 single instance', s1.single],
    ['S1 single, two devices each', s1.singleTwoDevices],
    ['S1 single instance with Kafka', s1.kafkaSingle],
    ['S1 two instances on Kafka', s1.kafka],
    ['S2 RabbitMQ Web-STOMP', s2.rabbit],
    ['S3 cross-instance hop', scen['3'] as LoadOutcome | undefined],
  ];
  if (s1.single || s2.rabbit) lines.push('![latency vs offered load](latency.svg)', '');
  for (const [name, r] of loads) {
    if (!r) continue;
    lines.push(`## ${name}`, '', `${r.connections} sessions; max sustainable **${r.maxSustainable} msg/s**; totals: sent ${r.totals.sent}, lost ${r.totals.lost}, reordered ${r.totals.reorders}, duplicates ${r.totals.duplicates}, unreceipted ${r.totals.unreceipted}, errors ${r.totals.errors}`, '');
    lines.push(
      '| offered/s | sent/s | deliveries/s | complete | p50 | p99 | p99 of repeats | max | cross p99 | receipt p99 | gen lag p99 | gen CPU s | service CPU s | service CPU s / 10k msgs | ELD p99 ms | GC pause ms (max) | alloc KB / delivery | ok |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.steps) {
      const svc = Object.entries(s.cpuSec ?? {}).filter(([k]) => k.startsWith('service') || k.startsWith('rabbit')).map(([k, v]) => `${k.replace('service ', '')}:${v}`).join(' ');
      const pr = Object.entries(s.probe ?? {});
      const per = (f: (v: StepProbe) => string) => (pr.length ? pr.map(([n, v]) => (pr.length > 1 ? `${n.slice(-1)}:` : '') + f(v)).join(' ') : '–');
      lines.push(
        `| ${s.offered} | ${s.sentRate} | ${s.deliveryRate} | ${s.complete ? 'yes' : `no (${s.delivered}/${s.expectedDeliveries})`} | ${s.latency.p50} | ${s.latency.p99} | ${s.repeats.map((x) => (x.complete ? x.p99 : `${x.p99}*`)).join(', ')} | ${s.latency.max} | ${s.crossLatency?.p99 ?? '–'} | ${s.receiptLatency.p99} | ${s.sendLag.p99} | ${s.genCpuSec} | ${svc} | ${serviceCpuPer10k(s) ?? '–'} | ${per((v) => String(v.eldP99Ms))} | ${per((v) => `${v.gcPauseMs} (${v.gcMaxMs})`)} | ${per((v) => String(v.allocKbPerDelivery))} | ${s.sustained ? '✔' : '✘'} |`,
      );
    }
    if (r.steps.some((s) => s.repeats.length > 1)) lines.push('', `Each rate ran ${r.steps[0]!.repeats.length}× in a row; the row is the median repeat by delivery p99 (* = incomplete repeat).`);
    lines.push('', `CPU seconds over the whole run (${(r.cpu as { wallSec: number }).wallSec} s wall): ${cpuLine((r.cpu as { cpuSec: Record<string, number> }).cpuSec)}`, '');
    if (r.dbPerMessage) lines.push(`MariaDB counters per message sent (whole run): ${Object.entries(r.dbPerMessage).map(([k, v]) => `${k} ${v}`).join(', ')}`, '');
  }
  if (s1.single && s2.rabbit) lines.push(`Ratio ours/RabbitMQ (max sustainable, same run): single ${ratio(s1.single.maxSustainable, s2.rabbit.maxSustainable)}${s1.kafka ? `, Kafka pair ${ratio(s1.kafka.maxSustainable, s2.rabbit.maxSustainable)}` : ''}`, '');
  const s4 = scen['4'] as Record<string, Record<string, unknown>> | undefined;
  if (s4) {
    lines.push('## S4 idle connections', '', '| transport | sessions | ramp s | RSS before → after GC (kB) | KB/conn (RSS) | KB/conn (JS heap) | idle CPU % of one core | CPU s in window |', '|---|---|---|---|---|---|---|---|');
    for (const [k, v] of Object.entries(s4)) {
      const rss = v.rssKb as { before: number; afterGc: number };
      lines.push(`| ${k} | ${v.opened} (${v.failed} failed) | ${v.rampSec} | ${rss.before} → ${rss.afterGc} | ${v.perConnKb} | ${v.heapPerConnKb} | ${v.idleCpuPctOfOneCore} | ${cpuLine((v.idleCpu as { cpuSec: Record<string, number> }).cpuSec)} |`);
    }
    lines.push('');
  }
  const s5 = scen['5'] as Record<string, unknown> | undefined;
  if (s5) {
    lines.push(`## S5 history (${s5.messages} messages, ${s5.hotRoomMessages} in the hot room; loaded in ${s5.loadSec} s)`, '', '| page | before | DB p50 | DB p99 | tRPC p50 | tRPC p99 | /healthz p50 / p99 (same socket) | plan |', '|---|---|---|---|---|---|---|---|');
    type Pg = { before: number; db: { p50: number; p99: number }; trpc: { p50: number; p99: number }; healthz?: { p50: number; p99: number }; explain: Array<Record<string, unknown>>; forceIndex: { db: { p50: number; p99: number }; explain: Array<Record<string, unknown>> } };
    for (const [k, p] of Object.entries(s5.pages as Record<string, Pg>)) {
      const e = p.explain[0] ?? {};
      lines.push(`| ${k} | ${p.before} | ${p.db.p50} | ${p.db.p99} | ${p.trpc.p50} | ${p.trpc.p99} | ${p.healthz ? `${p.healthz.p50} / ${p.healthz.p99}` : '–'} | type=${e.type} key=${e.key} key_len=${e.key_len} rows=${e.rows} extra=${e.Extra} |`);
    }
    for (const [k, p] of Object.entries(s5.pages as Record<string, Pg>)) {
      const e = p.forceIndex.explain[0] ?? {};
      lines.push(`| ${k} without the index hint | ${p.before} | ${p.forceIndex.db.p50} | ${p.forceIndex.db.p99} | – | – | type=${e.type} key=${e.key} key_len=${e.key_len} rows=${e.rows} extra=${e.Extra} |`);
    }
    for (const [k, p] of Object.entries(s5.offsetBaseline as Record<string, { offset: number; db: { p50: number; p99: number }; explain: Array<Record<string, unknown>> }>)) {
      const e = p.explain[0] ?? {};
      lines.push(`| OFFSET ${k} | offset ${p.offset} | ${p.db.p50} | ${p.db.p99} | – | – | type=${e.type} key=${e.key} rows=${e.rows} extra=${e.Extra} |`);
    }
    lines.push('');
  }
  const s6 = scen['6'] as Record<string, unknown> | undefined;
  if (s6) {
    lines.push('## S6 durable inserts', '', `Database durability: \`${JSON.stringify(s6.durability)}\``, '', '| path | rows/s | commits/s |', '|---|---|---|');
    for (const [k, v] of Object.entries(s6.direct as Record<string, { rowsPerSec: number; commitsPerSec: number }>)) lines.push(`| mysql2 direct: ${k} | ${v.rowsPerSec} | ${v.commitsPerSec} |`);
    const sv = s6.service as { receiptsPerSec: number; connections: number; window: number; receiptLatency: { p50: number; p99: number }; cpu: { cpuSec: Record<string, number> } };
    lines.push(`| service (STOMP SEND with receipt, ${sv.connections} senders × ${sv.window} in flight) | ${sv.receiptsPerSec} receipts/s (p50 ${sv.receiptLatency.p50} ms, p99 ${sv.receiptLatency.p99} ms) | group commit |`, '', `CPU s: ${cpuLine(sv.cpu.cpuSec)}`, '');
  }
  const s7 = scen['7'] as { chat: LoadOutcome; uploads: UploadBurst; overlapped: boolean[] } | undefined;
  if (s7) {
    const u = s7.uploads;
    lines.push(
      '## S7 photo uploads beside chat',
      '',
      `${u.ok}/${u.uploads} concurrent uploads of a ${(u.bytesEach / 1e6).toFixed(2)} MB JPEG (4032×3024) in ${u.wallMs} ms: **${u.mbPerSec} MB/s**; ` +
        `upload + thumbnail p50 **${u.latencyMs.p50} ms**, p90 ${u.latencyMs.p90} ms, p99 **${u.latencyMs.p99} ms**, max ${u.latencyMs.max} ms`,
      '',
      '| step | during uploads | sent/s | p50 | p99 | max | receipt p99 |',
      '|---|---|---|---|---|---|---|',
    );
    s7.chat.steps.forEach((s, i) => lines.push(`| ${i + 1} | ${s7.overlapped[i] ? 'yes' : 'no'} | ${s.sentRate} | ${s.latency.p50} | ${s.latency.p99} | ${s.latency.max} | ${s.receiptLatency.p99} |`));
    lines.push('', `CPU s: ${cpuLine((s7.chat.cpu as { cpuSec: Record<string, number> }).cpuSec)}`, '');
  }
  for (const prof of [scen.profile, scen.profileKafka] as Array<{ rate: number; kafka: boolean; summary: ReturnType<typeof summariseProfile> | null } | undefined>) {
    if (!prof?.summary) continue;
    lines.push(`## CPU profile of the service${prof.kafka ? ' (instance A of two on Kafka)' : ''} at ${prof.rate} msg/s`, '', `idle ${prof.summary.idlePct}%, GC ${prof.summary.gcPct}% of busy time`, '', '| self % of busy | function | location |', '|---|---|---|');
    for (const t of prof.summary.top.slice(0, 20)) lines.push(`| ${t.selfPct} | ${t.function} | ${t.location} |`);
    lines.push('', 'By module: ' + prof.summary.byModule.map((m) => `${m.module} ${m.selfPct}%`).join(', '), '');
    const callers = (prof.summary as { callers?: Record<string, Array<{ caller: string; pct: number }>> }).callers ?? {};
    for (const [fn, cs] of Object.entries(callers)) if (cs.length) lines.push(`Callers of ${fn}: ` + cs.map((c) => `${c.pct}% ${c.caller}`).join('; '), '');
  }
  lines.push(...compareMarkdown());
  return lines.join('\n');
}
function compareMarkdown(): string[] {
  type Side = { load: RepeatedStep[]; queriesPerCommit: number | null; dbPerMessage?: Record<string, number>; summary: ReturnType<typeof summariseProfile> | null; gcTrace: ReturnType<typeof summariseGcTrace> };
  const c = scen.compare as ({ ratios: Array<Record<string, number | null>> } & Record<string, Side>) | undefined;
  if (!c) return [];
  const lines = ['## One instance, in-process bus vs Kafka, profiled (per-step CPU profile, --trace-gc, in-service probe)', ''];
  lines.push('| rate | side | p99 ms | service CPU s / 10k msgs | ELD p99 ms | GC pause ms (max) | alloc KB / delivery |', '|---|---|---|---|---|---|---|');
  for (const side of ['inproc', 'kafka']) {
    for (const s of c[side]?.load ?? []) {
      const p = Object.values(s.probe ?? {})[0];
      lines.push(`| ${s.offered} | ${side} | ${s.latency.p99} | ${serviceCpuPer10k(s)} | ${p?.eldP99Ms ?? '–'} | ${p ? `${p.gcPauseMs} (${p.gcMaxMs})` : '–'} | ${p?.allocKbPerDelivery ?? '–'} |`);
    }
  }
  lines.push('', 'Kafka / in-process service CPU per message: ' + c.ratios.map((r) => `×${r.kafkaOverInproc} at ${r.rate}/s`).join(', '), '');
  type PerRate = { rate: number; summary: ReturnType<typeof summariseProfile> | null; paths: Record<string, number>; pathCpuMsPer1kMsgs: Record<string, number> };
  const sides = (['inproc', 'kafka'] as const).filter((k) => c[k]);
  const pathNames = Object.keys(PATHS);
  for (const rate of c.ratios.map((r) => r.rate)) {
    lines.push(`### ${rate} msg/s — CPU ms per 1,000 messages by path (inclusive profile share × measured CPU)`, '', `| path | ${sides.join(' | ')} |`, `|---|${sides.map(() => '---|').join('')}`);
    for (const p of pathNames) lines.push(`| ${p} | ${sides.map((k) => { const pr = (c[k] as unknown as { perRate: PerRate[] }).perRate.find((x) => x.rate === rate); return pr ? `${pr.pathCpuMsPer1kMsgs[p] ?? '–'} (${pr.paths[p] ?? '–'} %)` : '–'; }).join(' | ')} |`);
    lines.push('');
  }
  for (const side of sides) {
    const x = c[side] as unknown as Side & { perRate: PerRate[] };
    lines.push(`### ${side === 'kafka' ? 'Kafka' : 'in-process bus'}`, '', `MariaDB per message: ${Object.entries(x.dbPerMessage ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}; statements per commit ${x.queriesPerCommit}`, '');
    if (x.gcTrace) lines.push(`--trace-gc (whole process life): ${Object.entries(x.gcTrace.byKind).map(([k, v]) => `${k} ×${v.count}, ${v.ms} ms, max ${v.maxMs} ms, ${v.reclaimedMB} MB reclaimed`).join('; ')}`, '');
    for (const pr of x.perRate) {
      if (!pr.summary) continue;
      lines.push(`At ${pr.rate} msg/s: idle ${pr.summary.idlePct}%, GC ${pr.summary.gcPct}% of busy. By module: ${pr.summary.byModule.map((m) => `${m.module} ${m.selfPct}%`).join(', ')}`, '', '| self % of busy | function | location |', '|---|---|---|');
      for (const t of pr.summary.top.slice(0, 15)) lines.push(`| ${t.selfPct} | ${t.function} | ${t.location} |`);
      lines.push('');
    }
  }
  return lines;
}
function cpuLine(c: Record<string, number>) {
  return Object.entries(c)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function write() {
  report.finishedAt = new Date().toISOString();
  report.targets = targets();
  report.failures = failures;
  writeFileSync(join(OUT, 'run.json'), JSON.stringify(report, null, 2));
  const s1 = (scen['1'] ?? {}) as Record<string, LoadOutcome>;
  const s2 = (scen['2'] ?? {}) as Record<string, LoadOutcome>;
  const series = [
    { name: 'single instance', color: '#1f77b4', steps: s1.single?.steps },
    { name: 'single, 2 devices', color: '#9467bd', steps: s1.singleTwoDevices?.steps },
    { name: 'Kafka, 1 instance', color: '#8c564b', steps: s1.kafkaSingle?.steps },
    { name: 'Kafka, 2 instances', color: '#2ca02c', steps: s1.kafka?.steps },
    { name: 'RabbitMQ Web-STOMP', color: '#ff7f0e', steps: s2.rabbit?.steps },
  ].filter((s): s is { name: string; color: string; steps: RepeatedStep[] } => Boolean(s.steps?.length));
  if (series.length) writeFileSync(join(OUT, 'latency.svg'), svgChart(series));
  writeFileSync(join(OUT, 'report.md'), markdown());
}

// ------------------------------------------------------------------ scenario 7: photo uploads beside chat
/**
 * 100 concurrent uploads of a ~3 MB JPEG while a modest STOMP load runs: the chat steps before
 * the burst are the baseline, the steps it overlaps show whether uploads stall the message path.
 */
async function scenario7() {
  const db = `reuse_chat_bench_${RUN_TAG}_s7`;
  const uploadDir = join(ROOT, 'var', 'bench-uploads', RUN_TAG);
  cleanup.push(() => rm(uploadDir, { recursive: true, force: true }));
  const [a] = await service('s7', db, ['a'], false, { extraEnv: { UPLOAD_DIR: uploadDir } });
  const g = await gen('gen-s7');
  const meter = meterFor(() => ({ 'service a': [a!.pid], generator: [g.pid] }));
  const rooms = await serviceRooms(db, 100, 's7', { buyer: a!, seller: a! });
  const jpeg = await phoneJpeg();
  const rate = 200;
  const steps = Array.from({ length: QUICK ? 4 : 6 }, () => rate);
  const stepTimes: Array<{ begin: number; end?: number }> = [];
  let burst: Promise<UploadBurst> | undefined;
  const load = runLoad(`STOMP at ${rate} msg/s beside 100 uploads of ${(jpeg.length / 1e6).toFixed(2)} MB`, g, loadSpec('service', rooms, {
    steps,
    repeats: 1, // the steps are a timeline (baseline, then the burst), not repeats of one measurement
    measureSec: QUICK ? 4 : 8,
    stopAfterFailures: steps.length,
    finalDrainSec: 10,
  }), meter, (e) => {
    if (e.type === 'step-begin') {
      stepTimes.push({ begin: performance.now() });
      // the first step is the baseline; the burst starts with the second
      if (stepTimes.length === 2) burst = uploadBurst(a!.url, rooms.map((r) => ({ roomId: r.id, token: r.members[0]!.token })), jpeg);
    } else if (e.type === 'step-end') stepTimes.at(-1)!.end = performance.now();
  });
  const chat = await load;
  const uploads = await (burst ?? uploadBurst(a!.url, rooms.map((r) => ({ roomId: r.id, token: r.members[0]!.token })), jpeg));
  const overlapped = stepTimes.map((t) => (t.end ?? Infinity) > uploads.startedAt && t.begin < uploads.endedAt);
  log(`    uploads: ${uploads.ok}/${uploads.uploads} ok of ${(uploads.bytesEach / 1e6).toFixed(2)} MB in ${uploads.wallMs} ms → ${uploads.mbPerSec} MB/s; upload+thumbnail p50 ${uploads.latencyMs.p50} p99 ${uploads.latencyMs.p99} max ${uploads.latencyMs.max} ms`);
  if (uploads.failed) log(`    upload errors: ${uploads.errorSamples.join(' | ')}`);
  log(`    chat p99 per step: ${chat.steps.map((s, i) => `${s.latency.p99} ms${overlapped[i] ? ' (during uploads)' : ''}`).join(', ')}`);
  if (uploads.failed > 0) {
    failed = true;
    failures.push(`S7: ${uploads.failed} of ${uploads.uploads} uploads failed`);
  }
  scen['7'] = { chat, uploads, overlapped };
  await runCleanup();
}

// ------------------------------------------------------------------ main
const started = performance.now();
const totalMeter = meterFor(() => ({}));
process.on('SIGINT', () => {
  void runCleanup().then(() => process.exit(130));
});
const order: Array<[number, () => Promise<void>]> = [
  [1, scenario1],
  [2, scenario2],
  [3, scenario3],
  [4, scenario4],
  [5, scenario5],
  [6, scenario6],
  [7, scenario7],
];
log(`bench ${report.mode}: scenarios ${[...SCENARIOS].join(',')}; output ${OUT}`);
for (const [n, fn] of order) {
  if (!SCENARIOS.has(n)) continue;
  log(`scenario ${n}`);
  const t = performance.now();
  try {
    await fn();
  } catch (err) {
    failed = true;
    failures.push(`scenario ${n} crashed: ${(err as Error).message.slice(0, 500)}`);
    log(`scenario ${n} FAILED: ${(err as Error).stack}`);
    await runCleanup();
  }
  log(`scenario ${n} took ${((performance.now() - t) / 1000).toFixed(0)} s`);
  write();
}
if (PROFILE_COMPARE) {
  const rates = (args.find((a, i) => args[i - 1] === '--compare-rates') ?? '1000,3000').split(',').map(Number);
  log(`profile comparison (per-step CPU profiles, --trace-gc, event-loop delay) of one instance, in-process bus vs Kafka, at ${rates.join(', ')} msg/s`);
  try {
    await profileCompare(rates);
  } catch (err) {
    log(`profile comparison failed: ${(err as Error).message}`);
    await runCleanup();
  }
  write();
}
if (PROFILE_KAFKA) {
  const rate = Number(args.find((a, i) => args[i - 1] === '--profile-kafka-rate') ?? 500);
  log(`profile pass (node --cpu-prof) of instance A, two instances on Kafka, at ${rate} msg/s`);
  try {
    await profilePass(rate, true);
  } catch (err) {
    log(`kafka profile pass failed: ${(err as Error).message}`);
    await runCleanup();
  }
}
if (PROFILE) {
  const s1 = scen['1'] as Record<string, LoadOutcome> | undefined;
  const rate = Math.max(2000, s1?.single?.maxSustainable ?? 3000);
  log(`profile pass (node --cpu-prof) at ${rate} msg/s`);
  try {
    await profilePass(rate);
  } catch (err) {
    log(`profile pass failed: ${(err as Error).message}`);
    await runCleanup();
  }
}
report.totalCpuSec = totalMeter.delta();
report.wallSec = Math.round((performance.now() - started) / 1000);
write();
log(`done in ${report.wallSec} s → ${join(OUT, 'report.md')}`);
for (const t of targets()) log(`  ${t.pass === null ? ' n/a' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.measured}`);
if (failures.length) log(`FAILURES: ${failures.join('; ')}`);
process.exit(failed ? 1 : 0);
