import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameBody, header, RawStomp } from '../helpers/stomp.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tokenFor } from '../helpers/tokens.js';

// the defaults: STOMP_HEARTBEAT_MS 10 s preferred, STOMP_HEARTBEAT_MIN_MS 1 s floor
let srv: TestServer;
const sockets: RawStomp[] = [];

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await srv?.stop();
});

async function connectRaw(headers: string): Promise<RawStomp> {
  const raw = await RawStomp.open(srv.wsUrl, ['v12.stomp']);
  sockets.push(raw);
  raw.send(`CONNECT\naccept-version:1.2\n${headers}\n\0`);
  return raw;
}

/** resolves with the arrival times of the next `n` heart-beats (single-EOL messages) */
function heartbeats(raw: RawStomp, n: number, timeoutMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const times: number[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${times.length} heart-beats in ${timeoutMs} ms`)), timeoutMs);
    raw.ws.on('message', (data) => {
      if (data.toString() !== '\n') return;
      times.push(Date.now());
      if (times.length === n) {
        clearTimeout(timer);
        resolve(times);
      }
    });
  });
}

describe('STOMP heart-beats as the client asks', () => {
  it('answers heart-beat:1000,1000 with 1000,1000 and beats about every second', async () => {
    const raw = await connectRaw(`heart-beat:1000,1000\nAuthorization:Bearer ${await tokenFor('hb-fast')}\n`);
    expect(header(await raw.next('CONNECTED'), 'heart-beat')).toBe('1000,1000');
    // the client keeps its side of the deal
    const beating = setInterval(() => raw.send('\n'), 400);
    try {
      const times = await heartbeats(raw, 6, 20_000);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      // never more than a beat per ~half second, never a silence the client would count as death (2 s)
      for (const gap of gaps) expect(gap).toBeGreaterThan(400);
      expect(Math.max(...gaps)).toBeLessThan(2000);
      expect(raw.closeCode).toBeUndefined();
    } finally {
      clearInterval(beating);
    }
  }, 30_000);

  it('cuts a client that stops beating once the negotiated window has passed', async () => {
    const raw = await connectRaw(`heart-beat:1000,1000\nAuthorization:Bearer ${await tokenFor('hb-dead')}\n`);
    await raw.next('CONNECTED');
    const silentSince = Date.now();
    const error = await raw.next('ERROR', 15_000);
    expect(Date.now() - silentSince).toBeGreaterThanOrEqual(1000);
    expect(header(error, 'message')).toMatch(/heart-beat/);
    expect(await raw.closed).toBeGreaterThan(1000);
  }, 30_000);

  it('connects with heart-beat:0,0 and works without heart-beats', async () => {
    const raw = await connectRaw(`heart-beat:0,0\nAuthorization:Bearer ${await tokenFor('hb-none')}\n`);
    const connected = await raw.next('CONNECTED');
    expect(header(connected, 'user-name')).toBe('hb-none');
    raw.send('SUBSCRIBE\nid:0\ndestination:/user/queue/events\nreceipt:sub-0\n\n\0');
    await raw.next('RECEIPT');
    expect(raw.closeCode).toBeUndefined();
  });

  it('never beats faster than the floor, however fast the client asks', async () => {
    const raw = await connectRaw(`heart-beat:10,10\nAuthorization:Bearer ${await tokenFor('hb-greedy')}\n`);
    expect(header(await raw.next('CONNECTED'), 'heart-beat')).toBe('1000,1000');
  });
});

describe('STOMP credentials', () => {
  it.each([
    ['a passcode', 'login:alice\npasscode:hunter2\n'],
    ['a bearer token', 'Authorization:Bearer abc123\n'],
  ])('says the token is malformed when %s is not a JWT', async (_label, headers) => {
    const raw = await connectRaw(headers);
    const error = await raw.next('ERROR');
    expect(header(error, 'message')).toMatch(/authentication failed/);
    expect(`${header(error, 'message')} ${frameBody(error)}`).toMatch(/token is malformed/);
    expect(`${header(error, 'message')} ${frameBody(error)}`).not.toMatch(/no token/);
    expect(await raw.closed).toBe(1008);
  });
});
