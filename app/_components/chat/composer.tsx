'use client';
/**
 * The message box: Enter sends, Shift+Enter is a new line, never while an IME composes; typing is
 * announced. Photos come from the attach button, a paste or a drop; each uploads at once with
 * its own progress bar, and the message (text, photos, or both) can go once they are all up.
 * While the chat is blocked the box is replaced by a note saying why.
 */
import { useEffect, useId, useLayoutEffect, useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import type { Attachment } from '../../_lib/chat-types';
import { MAX_PHOTOS, pickPhotos, uploadPhoto, type UploadedPhoto } from '../../_lib/social-api';

export const MAX_CHARS = 2000;

interface StagedPhoto {
  key: number;
  preview: string;
  progress: number;
  uploaded?: UploadedPhoto;
  error?: string;
  abort: AbortController;
}

let nextKey = 0;

export function Composer({
  roomId,
  name,
  draft,
  onDraft,
  onSend,
  onTyping,
  blockedNote,
}: {
  roomId: string;
  name: string;
  draft: string;
  onDraft(v: string): void;
  onSend(text: string, attachments: Attachment[]): void;
  onTyping(): void;
  /** set while the chat is blocked: nothing can be sent, and this says why */
  blockedNote?: ReactNode;
}) {
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const composerId = useId();
  const hintId = useId();
  const [photos, setPhotos] = useState<StagedPhoto[]>([]);
  const [photoNote, setPhotoNote] = useState('');
  const [dragging, setDragging] = useState(false);
  const length = [...draft].length;
  const tooLong = length > MAX_CHARS;
  const uploading = photos.some((p) => !p.uploaded && !p.error);
  const ready = photos.filter((p) => p.uploaded).map((p) => p.uploaded!);
  const canSend = !tooLong && !uploading && (draft.trim().length > 0 || ready.length > 0);

  useEffect(() => {
    // keyboard users land in the composer; phones do not get their keyboard popped up
    if (window.matchMedia('(min-width: 768px)').matches) input.current?.focus();
  }, []);

  // photos staged in one room do not follow the user to another
  const photosRef = useRef(photos);
  useLayoutEffect(() => {
    photosRef.current = photos;
  });
  useEffect(
    () => () => {
      for (const p of photosRef.current) {
        p.abort.abort();
        URL.revokeObjectURL(p.preview);
      }
      setPhotos([]);
    },
    [roomId],
  );

  function update(key: number, change: Partial<StagedPhoto>) {
    setPhotos((list) => list.map((p) => (p.key === key ? { ...p, ...change } : p)));
  }

  function attach(files: readonly File[]) {
    if (files.length === 0) return;
    const { accepted, refused, overLimit } = pickPhotos(files, photosRef.current.length);
    const notes: string[] = [];
    if (refused > 0) notes.push(refused === 1 ? 'That file is not a photo.' : `${refused} files are not photos.`);
    if (overLimit > 0) notes.push(`Up to ${MAX_PHOTOS} photos per message.`);
    setPhotoNote(notes.join(' '));
    const staged = accepted.map((file) => ({ key: ++nextKey, preview: URL.createObjectURL(file), progress: 0, abort: new AbortController(), file }));
    const added = staged.map(({ file: _file, ...p }) => p);
    photosRef.current = [...photosRef.current, ...added];
    setPhotos((list) => [...list, ...added]);
    for (const s of staged) {
      uploadPhoto(roomId, s.file, (progress) => update(s.key, { progress }), s.abort.signal).then(
        (uploaded) => update(s.key, { uploaded, progress: 1 }),
        (err: Error) => {
          if (!s.abort.signal.aborted) update(s.key, { error: err.message });
        },
      );
    }
  }

  function remove(key: number) {
    const p = photosRef.current.find((x) => x.key === key);
    if (!p) return;
    p.abort.abort();
    URL.revokeObjectURL(p.preview);
    setPhotos((list) => list.filter((x) => x.key !== key));
  }

  function send() {
    const content = draft.trim();
    if (!canSend || [...content].length > MAX_CHARS) return;
    onSend(content, ready.map(({ bytes: _bytes, ...a }) => a));
    for (const p of photos) URL.revokeObjectURL(p.preview);
    setPhotos([]);
    setPhotoNote('');
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  }

  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    const files = [...e.clipboardData.files];
    if (files.length === 0) return; // plain text pastes as usual
    e.preventDefault();
    attach(files);
  }

  function onDrop(e: DragEvent<HTMLFormElement>) {
    if (e.dataTransfer.files.length === 0) return;
    e.preventDefault();
    setDragging(false);
    attach([...e.dataTransfer.files]);
  }

  if (blockedNote) {
    return (
      <div className="composer composer-blocked" data-testid="composer-blocked" role="status">
        {blockedNote}
      </div>
    );
  }

  return (
    <form
      className={`composer ${dragging ? 'is-dragging' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {photos.length > 0 && (
        <ul className="staged-photos" aria-label="Photos to send" data-testid="staged-photos">
          {photos.map((p, i) => (
            <li key={p.key} className={`staged-photo ${p.error ? 'is-failed' : ''}`} data-testid="staged-photo" data-state={p.error ? 'failed' : p.uploaded ? 'ready' : 'uploading'}>
              {/* eslint-disable-next-line @next/next/no-img-element -- a local object URL, nothing to optimise */}
              <img src={p.preview} alt={`Photo ${i + 1}`} />
              {!p.uploaded && !p.error && (
                <progress className="upload-progress" max={1} value={p.progress} aria-label={`Uploading photo ${i + 1}`} data-testid="upload-progress" />
              )}
              {p.error && (
                <span className="staged-error" role="alert">
                  {p.error}
                </span>
              )}
              <button type="button" className="staged-remove" aria-label={`Remove photo ${i + 1}`} onClick={() => remove(p.key)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <button
        type="button"
        className="attach-button"
        aria-label="Attach photos"
        title="Attach photos"
        disabled={photos.length >= MAX_PHOTOS}
        onClick={() => picker.current?.click()}
        data-testid="attach-button"
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path fill="currentColor" d="M4 6h3l2-2h6l2 2h3a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1zm8 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z" />
        </svg>
      </button>
      <input
        ref={picker}
        type="file"
        accept="image/jpeg,image/png,image/webp,image/heic,image/heif"
        multiple
        hidden
        data-testid="photo-input"
        onChange={(e) => {
          attach([...(e.target.files ?? [])]);
          e.target.value = '';
        }}
      />
      <label htmlFor={composerId} className="sr-only">
        Message to {name}
      </label>
      <textarea
        id={composerId}
        ref={input}
        className="composer-input"
        rows={1}
        placeholder={name ? `Message ${name}` : 'Write a message'}
        value={draft}
        onChange={(e) => {
          onDraft(e.target.value);
          if (e.target.value.trim()) onTyping();
        }}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        aria-describedby={hintId}
        aria-invalid={tooLong || undefined}
        maxLength={MAX_CHARS * 2}
        data-testid="composer"
      />
      <button type="submit" className="btn btn-primary send-button" disabled={!canSend}>
        Send
      </button>
      <p id={hintId} className={`composer-hint ${tooLong || photoNote ? 'is-error' : ''}`} aria-live="polite">
        {tooLong
          ? `${length} / ${MAX_CHARS} characters — too long`
          : photoNote || (uploading ? 'Uploading photos…' : 'Enter to send · Shift+Enter for a new line · paste or drop photos')}
      </p>
    </form>
  );
}
