/** The page's pure rules for photos, deleted messages and the delete window. */
import { describe, expect, it } from 'vitest';
import { asDeleted, asRoomEvent, previewOf, type Attachment } from '../../../app/_lib/chat-types';
import { enqueue, sendBody } from '../../../app/_lib/outbox';
import { canDelete, DELETE_WINDOW_MS, MAX_PHOTOS, pickPhotos, uploadErrorMessage } from '../../../app/_lib/social-api';

const photo = (id: string): Attachment => ({ id, contentType: 'image/jpeg', width: 800, height: 600, url: `/u/${id}`, thumbUrl: `/u/${id}/thumb` });

describe('choosing photos from a paste, a drop or the picker', () => {
  it('takes images and leaves other files out, saying how many were not photos', () => {
    const files = [{ type: 'image/jpeg' }, { type: 'application/pdf' }, { type: 'image/png' }, { type: 'text/plain' }];
    const { accepted, refused, overLimit } = pickPhotos(files, 0);
    expect(accepted.map((f) => f.type)).toEqual(['image/jpeg', 'image/png']);
    expect(refused).toBe(2);
    expect(overLimit).toBe(0);
  });

  it(`never lets a message hold more than ${MAX_PHOTOS} photos`, () => {
    const files = Array.from({ length: 6 }, () => ({ type: 'image/webp' }));
    expect(pickPhotos(files, 0).accepted).toHaveLength(MAX_PHOTOS);
    expect(pickPhotos(files, 0).overLimit).toBe(2);
    const { accepted, overLimit } = pickPhotos(files, 3);
    expect(accepted).toHaveLength(1);
    expect(overLimit).toBe(5);
    expect(pickPhotos(files, MAX_PHOTOS).accepted).toHaveLength(0);
  });

  it('lets the server judge files whose type the browser does not know (it reads the bytes)', () => {
    expect(pickPhotos([{ type: '' }], 0).accepted).toHaveLength(1);
  });
});

describe('upload refusals in words', () => {
  it("uses the server's own sentence when it gave one", () => {
    expect(uploadErrorMessage(400, { error: { code: 'NOT_AN_IMAGE', message: 'The file is not a JPEG, PNG or WebP image' } })).toBe('The file is not a JPEG, PNG or WebP image');
  });

  it('says what happened when the server said nothing readable', () => {
    expect(uploadErrorMessage(413, null)).toMatch(/too large/);
    expect(uploadErrorMessage(403, 'nope')).toMatch(/cannot send photos/);
    expect(uploadErrorMessage(0, null)).toMatch(/No connection/);
    expect(uploadErrorMessage(400, {})).toMatch(/could not be used/);
  });
});

describe('what the room list shows for a message', () => {
  it('shows the text, "Photo" or "N photos" for a message without text, and "Message deleted"', () => {
    expect(previewOf({ content: 'Is it still available?' })).toBe('Is it still available?');
    expect(previewOf({ content: '', attachments: [photo('a')] })).toBe('Photo');
    expect(previewOf({ content: '  ', attachments: [photo('a'), photo('b')] })).toBe('2 photos');
    expect(previewOf({ content: 'Look', attachments: [photo('a')] })).toBe('Look');
    expect(previewOf({ content: '', deleted: true })).toBe('Message deleted');
  });

  it('drops the text and photos of a deleted message', () => {
    const m = { type: 'message' as const, id: '7', roomId: 'r', senderId: 'ana', content: 'my phone number', attachments: [photo('a')], clientMsgId: null, createdAt: '2026-01-01T00:00:00.000Z' };
    expect(asDeleted(m)).toMatchObject({ id: '7', deleted: true, content: '', attachments: [] });
  });

  it('accepts the deleted event and refuses one without a message id', () => {
    expect(asRoomEvent({ type: 'deleted', roomId: 'r', messageId: '9' })).toEqual({ type: 'deleted', roomId: 'r', messageId: '9' });
    expect(asRoomEvent({ type: 'deleted', roomId: 'r' })).toBeNull();
  });
});

describe('deleting one of your messages', () => {
  const now = Date.parse('2026-01-01T12:00:00.000Z');
  const at = (msAgo: number) => new Date(now - msAgo).toISOString();

  it('is offered for your own messages inside the window only', () => {
    expect(canDelete({ senderId: 'me', createdAt: at(60_000) }, 'me', now)).toBe(true);
    expect(canDelete({ senderId: 'me', createdAt: at(DELETE_WINDOW_MS + 1) }, 'me', now)).toBe(false);
    expect(canDelete({ senderId: 'them', createdAt: at(1000) }, 'me', now)).toBe(false);
    expect(canDelete({ senderId: 'me', createdAt: at(1000), deleted: true }, 'me', now)).toBe(false);
  });
});

describe('sending a message with photos', () => {
  it('sends the photos by id, and sends no attachments field for a text-only message', () => {
    const [withPhotos] = enqueue([], 'c1', '', new Date(), [photo('p1'), photo('p2')]);
    expect(sendBody(withPhotos!)).toEqual({ content: '', clientMsgId: 'c1', attachments: ['p1', 'p2'] });
    const [textOnly] = enqueue([], 'c2', 'hello');
    expect(sendBody(textOnly!)).toEqual({ content: 'hello', clientMsgId: 'c2' });
    expect(textOnly).not.toHaveProperty('attachments');
  });
});
