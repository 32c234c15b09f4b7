'use client';
/**
 * Photos in a bubble (the thumbnails, up to four, in a grid) and the viewer that shows one in
 * full. The viewer is a modal <dialog>: the browser keeps focus inside it and Esc closes it; a tap
 * anywhere closes it too, and so does the back button (it pushes a history entry while open).
 */
import { useEffect, useRef } from 'react';
import type { Attachment } from '../../_lib/chat-types';

export function PhotoGrid({ photos, onOpen }: { photos: readonly Attachment[]; onOpen(photo: Attachment): void }) {
  if (photos.length === 0) return null;
  return (
    <div className={`photo-grid count-${Math.min(photos.length, 4)}`} data-testid="photo-grid">
      {photos.slice(0, 4).map((p, i) => (
        <button key={p.id} type="button" className="photo-thumb" onClick={() => onOpen(p)} aria-label={`Open photo ${i + 1} of ${photos.length}`} data-testid="photo-thumb">
          {/* eslint-disable-next-line @next/next/no-img-element -- signed URLs the server already sized */}
          <img src={p.thumbUrl} alt="" loading="lazy" width={p.width} height={p.height} />
        </button>
      ))}
    </div>
  );
}

export function PhotoViewer({ photo, onClose }: { photo: Attachment | null; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  useEffect(() => {
    closeRef.current = onClose;
  });

  useEffect(() => {
    const d = dialog.current;
    if (!d || !photo) return;
    if (!d.open) d.showModal();
    // the back button closes the viewer rather than leaving the chat
    // (keeping the router's own state in the entry, so Next.js treats it as this same page)
    window.history.pushState({ ...(window.history.state as object | null), photoViewer: true }, '');
    let closedByBack = false;
    const onPop = () => {
      closedByBack = true;
      closeRef.current();
    };
    window.addEventListener('popstate', onPop);
    return () => {
      window.removeEventListener('popstate', onPop);
      if (d.open) d.close();
      if (!closedByBack && (window.history.state as { photoViewer?: boolean } | null)?.photoViewer) window.history.back();
    };
  }, [photo]);

  return (
    <dialog
      ref={dialog}
      className="photo-viewer"
      aria-label="Photo"
      data-testid="photo-viewer"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={() => onClose()}
    >
      {photo && (
        <>
          {/* eslint-disable-next-line @next/next/no-img-element -- the full image, signed */}
          <img src={photo.url} alt="Photo in full size" width={photo.width} height={photo.height} data-testid="photo-full" />
          <button type="button" className="photo-viewer-close" aria-label="Close photo" autoFocus>
            ×
          </button>
        </>
      )}
    </dialog>
  );
}
