import { describe, expect, it } from 'vitest';
import type { StompError } from '../../../server/stomp/errors.js';
import type { StompFrame } from '../../../server/stomp/frame.js';
import { DEFAULT_LIMITS } from '../../../server/stomp/limits.js';
import { StompParser, type ParserLimits } from '../../../server/stomp/parser.js';

type Event =
  | { frame: { command: string; headers: [string, string][]; body: string } }
  | 'heartbeat'
  | { error: string; receiptId?: string };

function simplify(frame: StompFrame) {
  return { command: frame.command, headers: [...frame.headers], body: frame.body.toString('utf8') };
}

function parse(chunks: (Buffer | string)[], limits: Partial<ParserLimits> = {}): Event[] {
  const events: Event[] = [];
  const parser = new StompParser(
    { ...DEFAULT_LIMITS, ...limits },
    {
      onFrame: (frame) => events.push({ frame: simplify(frame) }),
      onHeartbeat: () => events.push('heartbeat'),
      onError: (error: StompError) =>
        events.push(error.receiptId === undefined ? { error: error.code } : { error: error.code, receiptId: error.receiptId }),
    },
  );
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

function parseFrames(input: Buffer | string) {
  return parse([input]);
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('StompParser frame forms', () => {
  it('decodes a frame without content-length, ending at the first NUL', () => {
    expect(parseFrames('SEND\ndestination:/pub/room/1/message\n\nhello\0')).toEqual([
      { frame: { command: 'SEND', headers: [['destination', '/pub/room/1/message']], body: 'hello' } },
    ]);
  });

  it('decodes a frame with no headers and no body', () => {
    expect(parseFrames('DISCONNECT\n\n\0')).toEqual([{ frame: { command: 'DISCONNECT', headers: [], body: '' } }]);
  });

  it('reads exactly content-length bytes, NULs included', () => {
    const raw = Buffer.concat([bytes('SEND\ndestination:/d\ncontent-length:5\n\n'), Buffer.from([97, 0, 98, 0, 99]), Buffer.from([0])]);
    const [event] = parse([raw]);
    expect(event).toMatchObject({ frame: { command: 'SEND' } });
    const body = (event as { frame: { body: string } }).frame.body;
    expect(Buffer.from(body)).toEqual(Buffer.from([97, 0, 98, 0, 99]));
  });

  it('accepts CRLF line endings', () => {
    expect(parseFrames('SEND\r\ndestination:/d\r\nreceipt:7\r\n\r\nhi\0')).toEqual([
      {
        frame: {
          command: 'SEND',
          headers: [
            ['destination', '/d'],
            ['receipt', '7'],
          ],
          body: 'hi',
        },
      },
    ]);
  });

  it('unescapes \\\\ \\n \\c \\r in header names and values', () => {
    expect(parseFrames('SEND\ndestination:/d\nx\\cy:a\\nb\\cc\\\\d\\re\n\n\0')).toEqual([
      {
        frame: {
          command: 'SEND',
          headers: [
            ['destination', '/d'],
            ['x:y', 'a\nb:c\\d\re'],
          ],
          body: '',
        },
      },
    ]);
  });

  it('leaves CONNECT and STOMP header values unescaped, as the spec says', () => {
    for (const command of ['CONNECT', 'STOMP']) {
      expect(parseFrames(`${command}\npasscode:a\\cb\\t:c\n\n\0`)).toEqual([
        { frame: { command, headers: [['passcode', 'a\\cb\\t:c']], body: '' } },
      ]);
    }
  });

  it('keeps the first value of a repeated header', () => {
    expect(parseFrames('SEND\ndestination:/first\nfoo:1\ndestination:/second\n\n\0')).toEqual([
      {
        frame: {
          command: 'SEND',
          headers: [
            ['destination', '/first'],
            ['foo', '1'],
          ],
          body: '',
        },
      },
    ]);
  });

  it('keeps colons after the first one as part of the value', () => {
    expect(parseFrames('SEND\ndestination:/a:b\n\n\0')).toEqual([
      { frame: { command: 'SEND', headers: [['destination', '/a:b']], body: '' } },
    ]);
  });

  it('counts content-length in UTF-8 bytes for Korean and emoji text', () => {
    const text = '안녕하세요 👋🏽 중고 거래';
    const length = Buffer.byteLength(text);
    expect(length).toBeGreaterThan(text.length);
    const raw = `SEND\ndestination:/d\ncontent-length:${length}\n\n${text}\0`;
    expect(parseFrames(raw)).toEqual([
      {
        frame: {
          command: 'SEND',
          headers: [
            ['destination', '/d'],
            ['content-length', String(length)],
          ],
          body: text,
        },
      },
    ]);
  });

  it('decodes UTF-8 header values', () => {
    expect(parseFrames('SEND\ndestination:/d\nx-name:김철수 🍎\n\n\0')).toEqual([
      {
        frame: {
          command: 'SEND',
          headers: [
            ['destination', '/d'],
            ['x-name', '김철수 🍎'],
          ],
          body: '',
        },
      },
    ]);
  });

  it('reports heart-beat EOLs (LF and CRLF) between frames', () => {
    expect(parseFrames('\n\r\nDISCONNECT\n\n\0\n\r\n\n')).toEqual([
      'heartbeat',
      'heartbeat',
      { frame: { command: 'DISCONNECT', headers: [], body: '' } },
      'heartbeat',
      'heartbeat',
      'heartbeat',
    ]);
  });

  it('accepts text and binary chunks alike', () => {
    const text = 'SEND\ndestination:/d\n\n한글\0';
    expect(parse([text])).toEqual(parse([bytes(text)]));
  });

  it('does not let a decoded body alias the input chunk', () => {
    const chunk = bytes('SEND\ndestination:/d\ncontent-length:3\n\nabc\0');
    let body: Buffer | undefined;
    new StompParser(DEFAULT_LIMITS, { onFrame: (f) => (body = f.body), onHeartbeat() {}, onError() {} }).push(chunk);
    chunk.fill(0);
    expect(body?.toString()).toBe('abc');
  });
});

describe('StompParser chunking', () => {
  // Literal byte fixture: several frames of every form, heart-beats between them.
  const fixture = Buffer.concat([
    bytes('\n'),
    bytes('CONNECT\naccept-version:1.2\nhost:reuse\nheart-beat:10000,10000\n\n\0'),
    bytes('\r\n'),
    bytes('SUBSCRIBE\r\nid:sub-0\r\ndestination:/sub/chat/room/42\r\n\r\n\0\n'),
    bytes('SEND\ndestination:/pub/room/42/message\ncontent-type:application/json\ncontent-length:'),
    bytes(String(Buffer.byteLength('{"content":"네고 가능한가요? 🙏"}'))),
    bytes('\n\n{"content":"네고 가능한가요? 🙏"}\0'),
    bytes('SEND\ndestination:/pub/room/42/message\ncontent-length:3\n\n'),
    Buffer.from([1, 0, 2, 0]),
    bytes('ACK\nid:a\\cb\n\n\0\n\n'),
    bytes('DISCONNECT\nreceipt:77\n\n\0'),
  ]);

  const whole = parse([fixture]);

  it('decodes the fixture as six frames with heart-beats', () => {
    expect(whole.filter((e) => typeof e === 'object' && 'frame' in e)).toHaveLength(6);
    expect(whole.filter((e) => typeof e === 'object' && 'error' in e)).toHaveLength(0);
  });

  it('decodes the same frames when split in two at every byte position', () => {
    for (let at = 0; at <= fixture.length; at++) {
      expect(parse([fixture.subarray(0, at), fixture.subarray(at)]), `split at ${at}`).toEqual(whole);
    }
  });

  it('decodes the same frames when split in three at many position pairs', () => {
    for (let a = 0; a <= fixture.length; a += 7) {
      for (let b = a; b <= fixture.length; b += 5) {
        expect(parse([fixture.subarray(0, a), fixture.subarray(a, b), fixture.subarray(b)])).toEqual(whole);
      }
    }
  });

  it('decodes the same frames fed one byte at a time', () => {
    const chunks = Array.from(fixture, (byte) => Buffer.from([byte]));
    expect(parse(chunks)).toEqual(whole);
  });

  it('decodes several frames packed in one chunk', () => {
    const packed = 'SEND\ndestination:/a\n\n1\0SEND\ndestination:/b\n\n2\0SEND\ndestination:/c\n\n3\0';
    expect(parseFrames(packed).map((e) => (e as { frame: { body: string } }).frame.body)).toEqual(['1', '2', '3']);
  });
});

describe('StompParser errors', () => {
  it('refuses an unknown command', () => {
    expect(parseFrames('HELLO\n\n\0')).toEqual([{ error: 'BAD_COMMAND' }]);
  });

  it('refuses a server command sent by a client', () => {
    expect(parseFrames('MESSAGE\n\n\0')).toEqual([{ error: 'BAD_COMMAND' }]);
  });

  it('refuses an overlong command line before its end arrives', () => {
    expect(parse(['SUBSCRIBEEEEEEEEEEEEEEE'])).toEqual([{ error: 'BAD_COMMAND' }]);
  });

  it('refuses an undefined escape like \\t and names the receipt', () => {
    expect(parseFrames('SEND\nreceipt:9\ndestination:/a\\tb\n\n\0')).toEqual([{ error: 'BAD_HEADER_ESCAPE', receiptId: '9' }]);
  });

  it('refuses a trailing lone backslash', () => {
    expect(parseFrames('SEND\ndestination:/a\\\n\n\0')).toEqual([{ error: 'BAD_HEADER_ESCAPE' }]);
  });

  it('refuses a header line without a colon', () => {
    expect(parseFrames('SEND\ndestination\n\n\0')).toEqual([{ error: 'BAD_HEADER' }]);
  });

  it('refuses more headers than the limit', () => {
    const headers = Array.from({ length: 5 }, (_, i) => `h${i}:v\n`).join('');
    expect(parse([`SEND\n${headers}\n\0`], { maxHeaders: 4 })).toEqual([{ error: 'TOO_MANY_HEADERS' }]);
    expect(parse([`SEND\n${headers}\n\0`], { maxHeaders: 5 })).toHaveLength(1);
    expect(parse([`SEND\n${headers}\n\0`], { maxHeaders: 5 })[0]).toHaveProperty('frame');
  });

  it('refuses a header line over the length limit before its end arrives', () => {
    expect(parse(['SEND\ndestination:' + 'x'.repeat(200)], { maxHeaderLineBytes: 100 })).toEqual([{ error: 'HEADER_TOO_LONG' }]);
  });

  it('refuses a frame that grows past the size limit without content-length, while it streams', () => {
    const events = parse(['SEND\ndestination:/d\n\n', 'x'.repeat(600), 'x'.repeat(600)], { maxFrameBytes: 1024 });
    expect(events).toEqual([{ error: 'FRAME_TOO_LARGE' }]);
  });

  it('accepts a frame of exactly the size limit', () => {
    const head = 'SEND\ndestination:/d\n\n';
    const body = 'x'.repeat(1024 - head.length - 1);
    expect(parse([head + body + '\0'], { maxFrameBytes: 1024 })[0]).toHaveProperty('frame');
    expect(parse([head + body + 'x\0'], { maxFrameBytes: 1024 })).toEqual([{ error: 'FRAME_TOO_LARGE' }]);
  });

  it('refuses a frame over the size limit with content-length', () => {
    const head = 'SEND\ndestination:/d\ncontent-length:2000\n\n';
    expect(parse([head + 'x'.repeat(2000) + '\0'], { maxFrameBytes: 1024 })).toEqual([{ error: 'FRAME_TOO_LARGE' }]);
  });

  it('refuses a declared content-length over the limit before reading any body byte', () => {
    expect(parse(['SEND\ndestination:/d\nreceipt:r1\ncontent-length:99999999\n\n'], { maxFrameBytes: 1024 })).toEqual([
      { error: 'FRAME_TOO_LARGE', receiptId: 'r1' },
    ]);
  });

  it('refuses headers that exceed the frame limit in total', () => {
    const headers = Array.from({ length: 30 }, (_, i) => `header-${i}:${'v'.repeat(40)}\n`).join('');
    expect(parse([`SEND\n${headers}`], { maxFrameBytes: 1024 })).toEqual([{ error: 'FRAME_TOO_LARGE' }]);
  });

  it('refuses a content-length that is not a number', () => {
    expect(parseFrames('SEND\ncontent-length:12a\n\n\0')).toEqual([{ error: 'BAD_CONTENT_LENGTH' }]);
    expect(parseFrames('SEND\ncontent-length:-1\n\n\0')).toEqual([{ error: 'BAD_CONTENT_LENGTH' }]);
  });

  it('refuses a body longer than its content-length', () => {
    expect(parseFrames('SEND\ncontent-length:2\n\nabc\0')).toEqual([{ error: 'BAD_FRAME' }]);
  });

  it('refuses a header that is not valid UTF-8', () => {
    const raw = Buffer.concat([bytes('SEND\ndestination:'), Buffer.from([0xc3, 0x28]), bytes('\n\n\0')]);
    expect(parse([raw])).toEqual([{ error: 'BAD_ENCODING' }]);
  });

  it('refuses a CR between frames that is not followed by LF', () => {
    expect(parseFrames('\rSEND\n\n\0')).toEqual([{ error: 'BAD_FRAME' }]);
  });

  it('reports one error and ignores everything after it', () => {
    expect(parse(['BOGUS\n\n\0', 'SEND\ndestination:/d\n\n\0', '\n'])).toEqual([{ error: 'BAD_COMMAND' }]);
  });

  it('delivers the frames before an error in the same chunk', () => {
    expect(parseFrames('DISCONNECT\n\n\0NOPE\n\n\0')).toEqual([
      { frame: { command: 'DISCONNECT', headers: [], body: '' } },
      { error: 'BAD_COMMAND' },
    ]);
  });
});
