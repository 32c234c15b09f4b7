/**
 * The load generator: a child process of bench/run.ts (never the service's process), driven over
 * IPC. Commands:
 *   load    open-loop steps of offered msg/s over STOMP rooms (our service or RabbitMQ Web-STOMP);
 *           latency from the INTENDED send time; loss / order / duplicate checks per room and sender
 *   idle    opens N idle STOMP (or Socket.IO) sessions with heart-beats and holds them
 *   inserts closed-loop SENDs with receipts from many connections: durable messages per second
 */
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { connectStomp, frame, pool, type Frame } from './lib/stomp.js';

type Send = (msg: unknown) => void;
const send: Send = (msg) => process.send?.(msg);

export interface Member {
  user: string;
  token: string;
  url: string;
  instance: string;
}
export interface LoadRoom {
  id: string;
  /** SUBSCRIBE destination */
  sub: string;
  /** SEND destination */
  pub: string;
  members: Member[];
}
export interface LoadSpec {
  kind: 'service' | 'rabbit';
  rooms: LoadRoom[];
  devices: number;
  senders: 'both' | 'first';
  steps: number[];
  warmupSec: number;
  measureSec: number;
  drainSec: number;
  /** stop after this many consecutive failed steps (with repeats: failed rates, by majority of their repeats) */
  stopAfterFailures: number;
  /** consecutive entries of `steps` with the same rate are repeats of one step (the orchestrator takes the median) */
  repeats?: number;
  p99LimitMs: number;
  finalDrainSec: number;
}

export interface StepResult {
  offered: number;
  sent: number;
  sentRate: number;
  receipts: number;
  receiptRate: number;
  delivered: number;
  expectedDeliveries: number;
  deliveryRate: number;
  complete: boolean;
  drainMs: number;
  latency: Pct;
  crossLatency: Pct | null;
  receiptLatency: Pct;
  sendLag: Pct;
  errors: number;
  sustained: boolean;
  genCpuSec: number;
}
export interface Pct {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

function histogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}
type H = ReturnType<typeof histogram>;
function pct(h: H): Pct {
  const us = (v: number) => Math.round(v) / 1000; // µs → ms, 3 decimals
  return {
    count: h.totalCount,
    p50: us(h.getValueAtPercentile(50)),
    p90: us(h.getValueAtPercentile(90)),
    p99: us(h.getValueAtPercentile(99)),
    p999: us(h.getValueAtPercentile(99.9)),
    max: us(h.maxValue),
    mean: us(h.mean),
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuSec = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Conn {
  ws: WebSocket;
  room: number;
  member: number;
  instance: string;
  /** per sender member: highest seq seen, and seqs skipped (gaps) not yet seen */
  last: number[];
  missing: Array<Set<number>>;
}

async function runLoad(spec: LoadSpec) {
  const nRooms = spec.rooms.length;
  // clientMsgIds must be unique per run: a repeated one is (correctly) answered as a duplicate and not delivered
  const nonce = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const membersPerRoom = spec.rooms[0]!.members.length;
  const receiversPerRoom = membersPerRoom * spec.devices;
  const conns: Conn[] = [];
  /** sender connection per room and member (device 0) */
  const senders: Conn[][] = spec.rooms.map(() => []);
  let errors = 0;
  const errorSamples: string[] = [];
  let dups = 0;
  let reorders = 0;
  let foreign = 0;
  let closing = false;

  // per step accounting
  let step = -1;
  const sentByStep: number[] = [];
  const deliveredByStep: number[] = [];
  const receiptsByStep: number[] = [];
  let hAll = histogram();
  let hCross = histogram();
  let hReceipt = histogram();
  let hLag = histogram();
  let measureFrom = Infinity;
  let measureTo = Infinity;
  let receiptSeq = 0;
  const pendingReceipts = new Map<string, { t: number; step: number }>();
  /** per room, per sender member: messages sent so far (= highest seq) */
  const sentSeq: number[][] = spec.rooms.map(() => new Array(membersPerRoom).fill(0));

  const onFrame = (c: Conn) => (f: Frame) => {
    const now = performance.now();
    if (f.command === 'MESSAGE') {
      const body = f.body;
      if (spec.kind === 'service' && !body.startsWith('{"type":"message"')) return; // presence, typing, read …
      const i = body.indexOf('"content":"');
      if (i < 0) return;
      const j = body.indexOf('"', i + 11);
      const parts = body.slice(i + 11, j).split('|');
      if (parts.length !== 5) {
        foreign++;
        return;
      }
      const t = Number(parts[0]);
      const st = Number(parts[1]);
      const room = Number(parts[2]);
      const m = Number(parts[3]);
      const seq = Number(parts[4]);
      if (room !== c.room) {
        foreign++;
        return;
      }
      const last = c.last[m]!;
      if (seq === last + 1) c.last[m] = seq;
      else if (seq > last + 1) {
        for (let k = last + 1; k < seq; k++) c.missing[m]!.add(k);
        c.last[m] = seq;
      } else if (c.missing[m]!.delete(seq)) reorders++;
      else {
        dups++;
        return;
      }
      deliveredByStep[st] = (deliveredByStep[st] ?? 0) + 1;
      if (t >= measureFrom && t <= measureTo) {
        const lat = Math.max(1, Math.round((now - t) * 1000));
        hAll.recordValue(lat);
        const sender = spec.rooms[room]!.members[m]!;
        if (sender.instance !== c.instance) hCross.recordValue(lat);
      }
    } else if (f.command === 'RECEIPT') {
      const id = f.headers['receipt-id'];
      const p = id && pendingReceipts.get(id);
      if (p) {
        pendingReceipts.delete(id!);
        receiptsByStep[p.step] = (receiptsByStep[p.step] ?? 0) + 1;
        if (p.t >= measureFrom && p.t <= measureTo) hReceipt.recordValue(Math.max(1, Math.round((now - p.t) * 1000)));
      }
    } else if (f.command === 'ERROR') {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(`${f.headers.message ?? ''} ${f.body.slice(0, 200)}`);
    }
  };

  // ---- connect everything
  const plan: Array<{ room: number; member: number; device: number }> = [];
  spec.rooms.forEach((r, room) => r.members.forEach((_, member) => {
    for (let device = 0; device < spec.devices; device++) plan.push({ room, member, device });
  }));
  const t0 = performance.now();
  await pool(plan, 64, async ({ room, member, device }) => {
    const r = spec.rooms[room]!;
    const mem = r.members[member]!;
    const c = { room, member, instance: mem.instance, last: new Array(membersPerRoom).fill(0), missing: r.members.map(() => new Set<number>()) } as unknown as Conn;
    const headers: Record<string, string> =
      spec.kind === 'rabbit' ? { login: 'guest', passcode: 'guest', host: '/', 'heart-beat': '0,0' } : { Authorization: `Bearer ${mem.token}`, 'heart-beat': '0,0' };
    c.ws = await connectStomp({
      url: mem.url,
      connectHeaders: headers,
      onFrame: onFrame(c),
      onClose: (code) => {
        if (!closing) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`connection closed ${code}`);
        }
      },
    });
    await new Promise<void>((resolve, reject) => {
      const id = `sub-${room}-${member}-${device}`;
      const h = (data: Buffer) => {
        const s = data.toString();
        if (s.startsWith('RECEIPT') && s.includes(`receipt-id:${id}`)) {
          c.ws.off('message', h);
          resolve();
        } else if (s.startsWith('ERROR')) reject(new Error(s));
      };
      c.ws.on('message', h);
      c.ws.send(frame('SUBSCRIBE', { id: 'r', destination: r.sub, ack: 'auto', receipt: id }));
    });
    conns.push(c);
    if (device === 0) senders[room]![member] = c;
  });
  send({ type: 'log', msg: `connected ${conns.length} sessions in ${Math.round(performance.now() - t0)} ms` });

  const results: StepResult[] = [];
  let failures = 0;
  for (let s = 0; s < spec.steps.length; s++) {
    const rate = spec.steps[s]!;
    step = s;
    sentByStep[s] = 0;
    deliveredByStep[s] ??= 0;
    receiptsByStep[s] ??= 0;
    hAll = histogram();
    hCross = histogram();
    hReceipt = histogram();
    hLag = histogram();
    const dur = (spec.warmupSec + spec.measureSec) * 1000;
    const start = performance.now() + 5;
    measureFrom = start + spec.warmupSec * 1000;
    measureTo = start + dur;
    const total = Math.floor((rate * dur) / 1000);
    const interval = 1000 / rate;
    const errBefore = errors;
    send({ type: 'step-begin', step: s, rate });
    const cpu0 = cpuSec();
    let i = 0;
    // open loop: every tick sends everything that is due, each stamped with its intended time
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (i < total) {
          const intended = start + i * interval;
          if (intended > now) break;
          const room = i % nRooms;
          const k = Math.floor(i / nRooms);
          const m = spec.senders === 'both' ? k % membersPerRoom : 0;
          const seq = ++sentSeq[room]![m]!;
          const c = senders[room]![m]!;
          const rid = `${++receiptSeq}`;
          pendingReceipts.set(rid, { t: intended, step: s });
          const content = `${intended.toFixed(3)}|${s}|${room}|${m}|${seq}`;
          const body = spec.kind === 'rabbit' ? `{"content":"${content}"}` : `{"content":"${content}","clientMsgId":"${nonce}-${s}-${room}-${m}-${seq}"}`;
          c.ws.send(frame('SEND', { destination: spec.rooms[room]!.pub, 'content-type': 'application/json', receipt: rid }, body));
          if (intended >= measureFrom) hLag.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
          i++;
          sentByStep[s]!++;
        }
        if (i >= total) resolve();
        else setTimeout(tick, Math.max(0, Math.min(1, start + i * interval - performance.now())));
      };
      setTimeout(tick, 5);
    });
    const sendEnd = performance.now();
    const expected = sentByStep[s]! * receiversPerRoom;
    while ((deliveredByStep[s]! < expected || receiptsByStep[s]! < sentByStep[s]!) && performance.now() - sendEnd < spec.drainSec * 1000) await sleep(20);
    const drainMs = performance.now() - sendEnd;
    const complete = deliveredByStep[s]! >= expected && receiptsByStep[s]! >= sentByStep[s]!;
    const measured = spec.measureSec;
    const lat = pct(hAll);
    const lagP = pct(hLag);
    const res: StepResult = {
      offered: rate,
      sent: sentByStep[s]!,
      sentRate: Math.round(sentByStep[s]! / ((sendEnd - start) / 1000)),
      receipts: receiptsByStep[s]!,
      receiptRate: Math.round(hReceipt.totalCount / measured),
      delivered: deliveredByStep[s]!,
      expectedDeliveries: expected,
      deliveryRate: Math.round(hAll.totalCount / measured),
      complete,
      drainMs: Math.round(drainMs),
      latency: lat,
      crossLatency: hCross.totalCount > 0 ? pct(hCross) : null,
      receiptLatency: pct(hReceipt),
      sendLag: lagP,
      errors: errors - errBefore,
      sustained: complete && lat.p99 <= spec.p99LimitMs && errors === errBefore,
      genCpuSec: Math.round((cpuSec() - cpu0) * 100) / 100,
    };
    results.push(res);
    send({ type: 'step-end', step: s, result: res });
    // a rate counts once, when its last repeat is done: failed when most of its repeats failed
    const reps = Math.max(1, spec.repeats ?? 1);
    const lastOfRate = s + 1 >= spec.steps.length || spec.steps[s + 1] !== rate || (s + 1) % reps === 0;
    if (lastOfRate) {
      const group = results.slice(results.length - (s % reps) - 1);
      if (group.filter((g) => !g.sustained).length * 2 > group.length) failures++;
      else failures = 0;
      if (failures >= spec.stopAfterFailures) break;
    }
    if (!complete) {
      // let the backlog clear before the next step so steps do not overlap
      const t = performance.now();
      while (deliveredByStep[s]! < expected && performance.now() - t < spec.finalDrainSec * 1000) await sleep(50);
    }
  }

  // ---- final accounting: everything sent must have arrived at every receiver of its room
  const tEnd = performance.now();
  const expectedAll = () => {
    let missing = 0;
    for (const c of conns) {
      for (let m = 0; m < membersPerRoom; m++) missing += c.missing[m]!.size + (sentSeq[c.room]![m]! - c.last[m]!);
    }
    return missing;
  };
  while (expectedAll() > 0 && performance.now() - tEnd < spec.finalDrainSec * 1000) await sleep(100);
  const lost = expectedAll();
  let totalSent = 0;
  for (const r of sentSeq) for (const v of r) totalSent += v;
  const unreceipted = pendingReceipts.size;
  closing = true;
  for (const c of conns) c.ws.close();
  return {
    connections: conns.length,
    steps: results,
    totals: { sent: totalSent, deliveriesExpected: totalSent * receiversPerRoom, lost, duplicates: dups, reorders, unreceipted, errors, foreign, errorSamples },
  };
}

// ------------------------------------------------------------------ idle
interface IdleSpec {
  kind: 'stomp' | 'sio';
  url: string;
  conns: Array<{ token: string; roomId: string }>;
  localAddresses: string[];
  concurrency: number;
  heartbeatMs: number;
}
const held: Array<WebSocket | Socket> = [];
let hbTimer: NodeJS.Timeout | undefined;
async function runIdle(spec: IdleSpec) {
  let failed = 0;
  const errorsSeen: string[] = [];
  let closedUnexpectedly = 0;
  const t0 = performance.now();
  await pool(spec.conns, spec.concurrency, async (c, i) => {
    const localAddress = spec.localAddresses[i % spec.localAddresses.length];
    try {
      if (spec.kind === 'stomp') {
        const ws = await connectStomp({
          url: spec.url,
          localAddress,
          connectHeaders: { Authorization: `Bearer ${c.token}`, 'heart-beat': `${spec.heartbeatMs},${spec.heartbeatMs}` },
          timeoutMs: 60_000,
          onFrame: () => undefined,
          onClose: () => closedUnexpectedly++,
        });
        await new Promise<void>((resolve, reject) => {
          const h = (data: Buffer) => {
            const s = data.toString();
            if (s.startsWith('RECEIPT')) {
              ws.off('message', h);
              resolve();
            } else if (s.startsWith('ERROR')) reject(new Error(s.slice(0, 200)));
          };
          ws.on('message', h);
          ws.send(frame('SUBSCRIBE', { id: 'r', destination: `/sub/chat/room/${c.roomId}` }));
          ws.send(frame('SUBSCRIBE', { id: 'e', destination: '/user/queue/events', receipt: 'ok' }));
        });
        held.push(ws);
      } else {
        const sock = ioClient(`${spec.url}/chat`, {
          path: '/socket.io',
          transports: ['websocket'],
          auth: { token: c.token },
          reconnection: false,
          forceNew: true,
          timeout: 60_000,
          ...(localAddress ? { localAddress } : {}),
        } as Parameters<typeof ioClient>[1]);
        await new Promise<void>((resolve, reject) => {
          sock.once('connect', () => resolve());
          sock.once('connect_error', (e) => reject(e));
        });
        const ack = (await sock.timeout(60_000).emitWithAck('room:join', { roomId: c.roomId })) as { ok: boolean; error?: unknown };
        if (!ack.ok) throw new Error(`room:join: ${JSON.stringify(ack.error)}`);
        sock.on('disconnect', () => closedUnexpectedly++);
        held.push(sock);
      }
    } catch (err) {
      failed++;
      if (errorsSeen.length < 5) errorsSeen.push(String((err as Error).message ?? err).slice(0, 200));
    }
  });
  if (spec.kind === 'stomp' && spec.heartbeatMs > 0) {
    // client heart-beats: each socket gets an EOL every heartbeatMs, spread over 10 slices
    let slice = 0;
    hbTimer = setInterval(() => {
      for (let i = slice; i < held.length; i += 10) {
        const ws = held[i] as WebSocket;
        if (ws.readyState === WebSocket.OPEN) ws.send('\n');
      }
      slice = (slice + 1) % 10;
    }, spec.heartbeatMs / 10);
  }
  return { opened: held.length, failed, errors: errorsSeen, ms: Math.round(performance.now() - t0), closedUnexpectedly: () => closedUnexpectedly };
}
let idleState: Awaited<ReturnType<typeof runIdle>> | undefined;
function closeIdle() {
  if (hbTimer) clearInterval(hbTimer);
  const unexpected = idleState?.closedUnexpectedly() ?? 0;
  for (const h of held) {
    if (h instanceof WebSocket) h.terminate();
    else h.disconnect();
  }
  held.length = 0;
  return { closedUnexpectedly: unexpected };
}

// ------------------------------------------------------------------ inserts through the service
interface InsertSpec {
  url: string;
  rooms: Array<{ id: string; token: string }>;
  window: number;
  warmupSec: number;
  measureSec: number;
}
async function runInserts(spec: InsertSpec) {
  const h = histogram();
  let receipts = 0;
  let measuring = false;
  let stop = false;
  let errors = 0;
  const sockets: WebSocket[] = [];
  let counter = 0;
  const launch: Array<() => void> = [];
  await pool(spec.rooms, 64, async (r, idx) => {
    const inflight = new Map<string, number>();
    let ws: WebSocket;
    const sendOne = () => {
      if (stop) return;
      const id = `${++counter}`;
      inflight.set(id, performance.now());
      ws.send(frame('SEND', { destination: `/pub/room/${r.id}/message`, 'content-type': 'application/json', receipt: id }, `{"content":"insert ${id}","clientMsgId":"i${idx}-${id}"}`));
    };
    ws = await connectStomp({
      url: spec.url,
      connectHeaders: { Authorization: `Bearer ${r.token}`, 'heart-beat': '0,0' },
      onFrame: (f) => {
        if (f.command === 'RECEIPT') {
          const t = inflight.get(f.headers['receipt-id']!);
          if (t !== undefined) {
            inflight.delete(f.headers['receipt-id']!);
            if (measuring) {
              receipts++;
              h.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
            }
            sendOne();
          }
        } else if (f.command === 'ERROR') errors++;
      },
    });
    sockets.push(ws);
    launch.push(() => {
      for (let k = 0; k < spec.window; k++) sendOne();
    });
  });
  for (const l of launch) l();
  await sleep(spec.warmupSec * 1000);
  const cpu0 = cpuSec();
  measuring = true;
  const t = performance.now();
  await sleep(spec.measureSec * 1000);
  measuring = false;
  const secs = (performance.now() - t) / 1000;
  stop = true;
  await sleep(500);
  for (const ws of sockets) ws.close();
  return { connections: sockets.length, window: spec.window, receiptsPerSec: Math.round(receipts / secs), receipts, receiptLatency: pct(h), errors, genCpuSec: cpuSec() - cpu0 };
}

process.on('message', (msg: { cmd: string; spec?: unknown }) => {
  void (async () => {
    try {
      if (msg.cmd === 'load') send({ type: 'done', result: await runLoad(msg.spec as LoadSpec) });
      else if (msg.cmd === 'idle') {
        idleState = await runIdle(msg.spec as IdleSpec);
        const { closedUnexpectedly, ...rest } = idleState;
        send({ type: 'done', result: { ...rest, closedUnexpectedly: closedUnexpectedly() } });
      } else if (msg.cmd === 'idle-close') send({ type: 'done', result: closeIdle() });
      else if (msg.cmd === 'inserts') send({ type: 'done', result: await runInserts(msg.spec as InsertSpec) });
      else if (msg.cmd === 'exit') process.exit(0);
    } catch (err) {
      send({ type: 'error', error: String((err as Error).stack ?? err) });
    }
  })();
});
send({ type: 'ready' });
