import { describe, expect, it } from 'vitest';
import { encodeFrame, escapeHeader, prepareMessage, renderMessage } from '../../../server/stomp/encoder.js';
import { readServerFrame } from './fakes.js';

describe('encodeFrame', () => {
  it('escapes backslash, CR, LF and colon in header names and values', () => {
    const frame = encodeFrame('MESSAGE', { 'a:b': 'line1\nline2\r:\\' });
    expect(frame.toString()).toBe('MESSAGE\na\\cb:line1\\nline2\\r\\c\\\\\n\n\0');
  });

  it('does not escape CONNECTED headers but flattens line breaks so they cannot inject headers', () => {
    const frame = encodeFrame('CONNECTED', [
      ['version', '1.2'],
      ['user-name', 'eve\nadmin:true'],
      ['server', 'a:b\\c'],
    ]);
    expect(frame.toString()).toBe('CONNECTED\nversion:1.2\nuser-name:eve admin:true\nserver:a:b\\c\n\n\0');
  });

  it('sets content-length in UTF-8 bytes for Korean and emoji bodies', () => {
    const body = '안녕하세요 🙂';
    const frame = encodeFrame('ERROR', { message: 'x' }, body);
    const decoded = readServerFrame(frame);
    expect(decoded.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(Number(decoded.headers['content-length'])).toBe(5 * 3 + 1 + 4); // 5 Hangul syllables, a space, one emoji
    expect(decoded.body).toBe(body);
  });

  it('ignores a caller-supplied content-length so it cannot disagree with the body', () => {
    const frame = encodeFrame('MESSAGE', { 'content-length': '999' }, 'abc');
    expect(frame.toString()).toBe('MESSAGE\ncontent-length:3\n\nabc\0');
  });

  it('omits content-length and body when no body is given', () => {
    expect(encodeFrame('RECEIPT', { 'receipt-id': '7' }).toString()).toBe('RECEIPT\nreceipt-id:7\n\n\0');
  });

  it('copies binary bodies with NUL bytes intact', () => {
    const frame = encodeFrame('MESSAGE', {}, Buffer.from([0, 1, 0]));
    expect([...frame]).toEqual([...Buffer.from('MESSAGE\ncontent-length:3\n\n'), 0, 1, 0, 0]);
  });

  it('leaves values that need no escaping untouched', () => {
    const value = '/sub/chat/room/42';
    expect(escapeHeader(value)).toBe(value);
  });
});

describe('prepareMessage / renderMessage', () => {
  const headers = { destination: '/sub/chat/room/42', 'content-type': 'application/json' };
  const body = JSON.stringify({ type: 'message', content: '직거래 가능할까요? 📦' });

  it('renders a prepared message for two subscribers exactly like a fully encoded frame', () => {
    const prepared = prepareMessage(headers, body);
    const first = renderMessage(prepared, 'sub-0', '1');
    const second = renderMessage(prepared, '/sub/chat/room/42', '2', '2');
    expect(first.equals(encodeFrame('MESSAGE', { subscription: 'sub-0', 'message-id': '1', ...headers }, body))).toBe(true);
    expect(
      second.equals(encodeFrame('MESSAGE', { subscription: '/sub/chat/room/42', 'message-id': '2', ack: '2', ...headers }, body)),
    ).toBe(true);
  });

  it('escapes a subscription id that contains a colon', () => {
    const prepared = prepareMessage(headers, body);
    expect(readServerFrame(renderMessage(prepared, 'room:42', '1')).headers.subscription).toBe('room:42');
  });

  it('ignores per-subscriber headers given to prepareMessage', () => {
    const prepared = prepareMessage({ ...headers, subscription: 'x', 'message-id': 'y', ack: 'z', 'content-length': '1' }, 'hi');
    const decoded = readServerFrame(renderMessage(prepared, 's', 'm'));
    expect(decoded.headers).toEqual({ subscription: 's', 'message-id': 'm', ...headers, 'content-length': '2' });
  });

  it('marks non-UTF-8 bodies as binary and text bodies as text', () => {
    expect(prepareMessage(headers, body).binary).toBe(false);
    expect(prepareMessage(headers, Buffer.from(body)).binary).toBe(false);
    expect(prepareMessage(headers, Buffer.from([0xff, 0xfe])).binary).toBe(true);
  });

  it('does not share memory between rendered frames', () => {
    const prepared = prepareMessage(headers, body);
    const a = renderMessage(prepared, 'a', '1');
    const b = renderMessage(prepared, 'a', '1');
    a.fill(0);
    expect(readServerFrame(b).body).toBe(body);
  });
});
