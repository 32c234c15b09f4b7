/**
 * The hand-checked SEND body and room id of the hot path against the zod schemas they stand in
 * for: whatever the quick check accepts, the schema accepts with the same result, and whatever
 * the schema refuses, the quick check declines (so the schema words the error).
 */
import { describe, expect, it } from 'vitest';
import { isRoomId, MAX_CONTENT_CHARS, messageBody, quickMessageBody, roomId } from '../../../server/chat/validation.js';

const bodies: unknown[] = [
  { content: 'hello', clientMsgId: 'c-1' },
  { content: '  padded  ' },
  { message: 'spring alias', clientMsgId: null },
  { content: 'both', message: 'ignored' },
  { content: '', message: 'fallback?' },
  { content: null, message: 'null content falls back' },
  { content: '   ' },
  { content: 42 },
  { content: ['array'] },
  { content: 'ok', clientMsgId: '' },
  { content: 'ok', clientMsgId: 'x'.repeat(64) },
  { content: 'ok', clientMsgId: 'x'.repeat(65) },
  { content: 'ok', clientMsgId: 7 },
  { content: 'x'.repeat(MAX_CONTENT_CHARS) },
  { content: 'x'.repeat(MAX_CONTENT_CHARS + 1) },
  // 1,500 emoji: 3,000 UTF-16 units, 1,500 characters — allowed, but only the schema can tell
  { content: '😀'.repeat(1500) },
  { content: '😀'.repeat(MAX_CONTENT_CHARS + 1) },
  {},
  [],
  ['content'],
  null,
  'just a string',
  12,
  { content: 'with a photo', attachments: ['u1'] },
  { content: '', attachments: ['u1', 'u2'] },
  { content: 'none', attachments: [] },
  { content: 'bad', attachments: 'u1' },
];

describe('quickMessageBody', () => {
  it.each(bodies.map((b) => [JSON.stringify(b)?.slice(0, 60) ?? String(b), b]))('agrees with the message schema on %s', (_name, body) => {
    const quick = quickMessageBody(body);
    const full = messageBody.safeParse(body);
    if (quick !== null) {
      expect(full.success).toBe(true);
      expect(quick).toEqual(full.data);
    }
    if (!full.success) expect(quick).toBeNull();
  });

  it('takes the common chat message without the schema', () => {
    expect(quickMessageBody({ content: ' hi there ', clientMsgId: 'abc' })).toEqual({ content: 'hi there', clientMsgId: 'abc', attachments: [] });
    expect(quickMessageBody({ message: 'from a Spring client' })).toEqual({ content: 'from a Spring client', clientMsgId: null, attachments: [] });
  });
});

describe('isRoomId', () => {
  it.each([
    '00000000-0000-4000-8000-000000000001',
    '0194f3c2-7b1e-7c3a-9d2f-0123456789ab',
    'ABCDEF01-2345-4678-89AB-CDEF01234567',
    '00000000-0000-0000-0000-000000000000',
    'not-a-uuid',
    '00000000-0000-4000-8000-00000000000',
    '00000000-0000-9000-8000-000000000001',
    '00000000-0000-4000-c000-000000000001',
    '',
  ])('accepts %s exactly when the room id schema does', (value) => {
    expect(isRoomId(value)).toBe(roomId.safeParse(value).success);
  });
});
