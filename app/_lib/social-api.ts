/**
 * What the page needs for photos, reports and deleting beyond the tRPC client: photo uploads over
 * XMLHttpRequest (fetch reports no upload progress; the session cookie authenticates it like
 * the rest of the page), the report reasons in words, and the delete window.
 */
import type { Attachment, ReportReason } from './chat-types';

export type { ReportReason } from './chat-types';

/** what `POST /api/uploads` answers */
export interface UploadedPhoto extends Attachment {
  bytes: number;
}

export const MAX_PHOTOS = 4;
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif'] as const;

export class UploadError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** the files of a paste, a drop or the file picker that can become photos, and how many fit */
export function pickPhotos<T extends { type: string }>(files: readonly T[], alreadyAttached: number): { accepted: T[]; refused: number; overLimit: number } {
  const images = files.filter((f) => f.type === '' || (PHOTO_TYPES as readonly string[]).includes(f.type));
  const room = Math.max(0, MAX_PHOTOS - alreadyAttached);
  return { accepted: images.slice(0, room), refused: files.length - images.length, overLimit: Math.max(0, images.length - room) };
}

/** a readable sentence for a refused upload, from its HTTP status and JSON body */
export function uploadErrorMessage(status: number, body: unknown): string {
  const msg = body && typeof body === 'object' ? (body as { message?: unknown; error?: { message?: unknown } }) : {};
  const said = typeof msg.message === 'string' ? msg.message : typeof msg.error?.message === 'string' ? msg.error.message : null;
  if (status === 413) return said ?? 'This photo is too large.';
  if (status === 401) return 'Your session ended: sign in again.';
  if (status === 403) return 'You cannot send photos in this chat.';
  if (status === 0) return 'No connection: the photo was not sent.';
  return said ?? 'This file could not be used as a photo.';
}

/** uploads one photo into a room; `onProgress` gets 0..1 as the bytes leave the browser */
export function uploadPhoto(roomId: string, file: Blob, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadedPhoto> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/uploads?roomId=${encodeURIComponent(roomId)}`);
    xhr.withCredentials = true;
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.response && typeof xhr.response === 'object') {
        onProgress(1);
        resolve(xhr.response as UploadedPhoto);
      } else {
        reject(new UploadError(uploadErrorMessage(xhr.status, xhr.response), 'UPLOAD_REFUSED', xhr.status));
      }
    };
    xhr.onerror = () => reject(new UploadError(uploadErrorMessage(0, null), 'NETWORK', 0));
    xhr.onabort = () => reject(new UploadError('Upload cancelled', 'ABORTED', 0));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, file instanceof File ? file.name : 'photo');
    xhr.send(form);
  });
}

export const REPORT_REASONS: ReadonlyArray<{ value: ReportReason; label: string }> = [
  { value: 'spam', label: 'Spam or advertising' },
  { value: 'fraud', label: 'Scam or fraud' },
  { value: 'abuse', label: 'Abusive or offensive' },
  { value: 'inappropriate', label: 'Inappropriate or prohibited item' },
  { value: 'other', label: 'Something else' },
];
// every reason the server accepts has a label here (a new one fails the typecheck until it has)
type Unlabelled = Exclude<ReportReason, (typeof REPORT_REASONS)[number]['value']>;
export const everyReasonLabelled: [Unlabelled] extends [never] ? true : Unlabelled = true;


/** the window in which a sender may delete their message (the server's default; it decides) */
export const DELETE_WINDOW_MS = 10 * 60_000;

export function canDelete(m: { senderId: string; createdAt: string; deleted?: boolean }, meId: string, now = Date.now()): boolean {
  return m.senderId === meId && !m.deleted && now - new Date(m.createdAt).getTime() < DELETE_WINDOW_MS;
}
