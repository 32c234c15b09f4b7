/**
 * Seeded fuzzing of the parser and the session: random and mutated frames, split at random.
 * Reproducible: a failure names its seed; rerun one case by narrowing the loop to it.
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { prepareMessage } from '../../../server/stomp/encoder.js';
import { SendRejected, StompError } from '../../../server/stomp/errors.js';
import type { StompFrame } from '../../../server/stomp/frame.js';
import { DEFAULT_LIMITS } from '../../../server/stomp/limits.js';
import { StompParser } from '../../../server/stomp/parser.js';
import { createHarness, FakeApp, flush, readServerFrame } from './fakes.js';

/** mulberry32: tiny, fast, good enough to drive a fuzzer. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const COMMANDS = ['SEND', 'SEND', 'SEND', 'SUBSCRIBE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'CONNECT', 'STOMP', 'MESSAGE', 'send', 'FOO', ''];
const VALUES = ['/sub/chat/room/1', '/pub/room/1/message', 'tx1', 'tx2', 's1', 's2', '1', '2', 'client', 'client-individual', 'auto', '안녕 🙂', 'a\\cb', 'a\\nb', 'bad\\t', 'x:y', ''];
const NAMES = ['destination', 'id', 'receipt', 'transaction', 'ack', 'message-id', 'subscription', 'content-type', 'x-since', 'h\\c', '한글'];

function randomText(rng: Rng, max: number): string {
  const alphabet = ['a', 'b', 'z', ' ', '{', '}', '"', '가', '나', '🙂', '\n', ':', '\\'];
  let text = '';
  const length = rng.int(max);
  for (let i = 0; i < length; i++) text += rng.pick(alphabet);
  return text;
}

function randomFrame(rng: Rng): Buffer {
  const command = rng.pick(COMMANDS);
  const eol = rng.chance(0.2) ? '\r\n' : '\n';
  let head = command + eol;
  const headerCount = rng.int(6);
  for (let i = 0; i < headerCount; i++) head += `${rng.pick(NAMES)}:${rng.pick(VALUES)}${eol}`;
  const body = rng.chance(0.2) ? Buffer.from(Array.from({ length: rng.int(40) }, () => rng.int(256))) : Buffer.from(randomText(rng, 60));
  const useLength = rng.chance(0.5) || body.includes(0);
  if (useLength) {
    const declared = rng.chance(0.9) ? body.length : rng.pick([body.length + 1, body.length - 1, -1, 1e9]);
    head += `content-length:${rng.chance(0.97) ? declared : 'abc'}${eol}`;
  }
  const tail = rng.chance(0.3) ? rng.pick(['\n', '\r\n', '\n\n']) : '';
  return Buffer.concat([Buffer.from(head + eol), body, Buffer.from([0]), Buffer.from(tail)]);
}

function mutate(rng: Rng, data: Buffer): Buffer {
  const bytes = [...data];
  const count = 1 + rng.int(3);
  for (let i = 0; i < count && bytes.length > 0; i++) {
    const at = rng.int(bytes.length);
    switch (rng.int(4)) {
      case 0:
        bytes[at] = rng.int(256);
        break;
      case 1:
        bytes.splice(at, 0, rng.pick([0, 10, 13, 58, 92, rng.int(256)]));
        break;
      case 2:
        bytes.splice(at, 1);
        break;
      default:
        bytes.length = at;
    }
  }
  return Buffer.from(bytes);
}

function randomStream(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  if (rng.chance(0.9)) parts.push(Buffer.from('CONNECT\naccept-version:1.0,1.1,1.2\nheart-beat:0,0\n\n\0'));
  const frames = 1 + rng.int(8);
  for (let i = 0; i < frames; i++) {
    if (rng.chance(0.2)) parts.push(Buffer.from(rng.pick(['\n', '\r\n'])));
    const f = randomFrame(rng);
    parts.push(rng.chance(0.25) ? mutate(rng, f) : f);
  }
  return Buffer.concat(parts);
}

function randomChunks(rng: Rng, data: Buffer): (Buffer | string)[] {
  const chunks: (Buffer | string)[] = [];
  let pos = 0;
  while (pos < data.length) {
    const size = 1 + rng.int(rng.chance(0.5) ? 8 : 200);
    const chunk = data.subarray(pos, pos + size);
    // Text WebSocket messages arrive as strings; only whole UTF-8 sequences can be text.
    chunks.push(rng.chance(0.3) && isUtf8(chunk) ? chunk.toString('utf8') : chunk);
    pos += size;
  }
  return chunks;
}

type Outcome = { frames: StompFrame[]; error: StompError | undefined; afterError: number };

function runParser(chunks: (Buffer | string)[]): Outcome {
  const outcome: Outcome = { frames: [], error: undefined, afterError: 0 };
  const parser = new StompParser(
    { ...DEFAULT_LIMITS, maxFrameBytes: 512, maxHeaders: 5 },
    {
      onFrame: (frame) => (outcome.error ? outcome.afterError++ : outcome.frames.push(frame)),
      onHeartbeat: () => outcome.error && outcome.afterError++,
      onError: (error) => (outcome.error ? outcome.afterError++ : (outcome.error = error)),
    },
  );
  for (const chunk of chunks) parser.push(chunk);
  return outcome;
}

const simplify = (o: Outcome) => ({
  frames: o.frames.map((f) => [f.command, [...f.headers], f.body.toString('hex')]),
  error: o.error?.code,
});

describe('fuzzing', () => {
  it('the parser decodes 5,000 random and mutated streams the same however they are chunked, with at most one error last', () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const rng = prng(seed);
      const stream = randomStream(rng);
      const whole = runParser([stream]);
      const chunked = runParser(randomChunks(rng, stream));
      expect(whole.afterError, `seed ${seed}`).toBe(0);
      expect(chunked.afterError, `seed ${seed}`).toBe(0);
      expect(simplify(chunked), `seed ${seed}`).toEqual(simplify(whole));
    }
  });

  it('a session fed 2,000 random streams never throws and ends with valid frames or exactly one ERROR then close', async () => {
    let errors = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const rng = prng(seed * 7919);
      const app = new FakeApp();
      app.sendHandler = async () => {
        const roll = rng.int(10);
        if (roll === 0) throw new SendRejected('BAD_REQUEST', 'no');
        if (roll === 1) throw new StompError('FORBIDDEN');
        if (roll === 2) throw new Error('unexpected');
      };
      app.subscribeHandler = async (sub) => {
        if (rng.chance(0.1)) throw new StompError('FORBIDDEN');
        h.session.deliver(sub.id, prepareMessage({ destination: sub.destination }, 'replay'));
      };
      const h = createHarness({ app, limits: { maxFrameBytes: 512, maxHeaders: 5, maxSubscriptions: 3 } });
      const stream = randomStream(rng);
      for (const chunk of randomChunks(rng, stream)) {
        expect(() => h.session.receive(chunk), `seed ${seed}`).not.toThrow();
      }
      await flush();
      await flush();
      const sent = h.transport.sent.map((s) => readServerFrame(s.data));
      for (const f of sent) expect(['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR', 'HEARTBEAT'], `seed ${seed}`).toContain(f.command);
      const errorFrames = sent.filter((f) => f.command === 'ERROR');
      expect(errorFrames.length, `seed ${seed}`).toBeLessThanOrEqual(1);
      expect(h.transport.sentAfterClose, `seed ${seed}`).toBe(0);
      if (errorFrames.length === 1) {
        errors++;
        expect(sent.at(-1)?.command, `seed ${seed}`).toBe('ERROR');
        expect(h.transport.closed?.code, `seed ${seed}`).not.toBe(1000);
        expect(errorFrames[0]?.headers.message, `seed ${seed}`).toBeTruthy();
        expect(errorFrames[0]?.headers['x-error-code'], `seed ${seed}`).toBeTruthy();
      } else if (h.transport.closed) {
        expect(h.transport.closed.code, `seed ${seed}`).toBe(1000);
      }
      // whatever happened, the application heard the end of every session it accepted
      if (app.calls.includes('connect') && h.transport.closed && sent.some((f) => f.command === 'CONNECTED')) {
        expect(app.calls.filter((c) => c === 'disconnected'), `seed ${seed}`).toHaveLength(1);
      }
      h.session.close();
      h.scheduler.close();
    }
    // the corpus exercises both outcomes
    expect(errors).toBeGreaterThan(100);
    expect(errors).toBeLessThan(2000);
  });
});
