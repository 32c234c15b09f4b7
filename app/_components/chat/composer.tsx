'use client';
/** The message box: Enter sends, Shift+Enter is a new line, never while an IME composes; typing is announced. */
import { useEffect, useId, useRef, type KeyboardEvent } from 'react';

export const MAX_CHARS = 2000;

export function Composer({ name, draft, onDraft, onSend, onTyping }: { name: string; draft: string; onDraft(v: string): void; onSend(text: string): void; onTyping(): void }) {
  const input = useRef<HTMLTextAreaElement>(null);
  const composerId = useId();
  const hintId = useId();
  const length = [...draft].length;
  const tooLong = length > MAX_CHARS;

  useEffect(() => {
    // keyboard users land in the composer; phones do not get their keyboard popped up
    if (window.matchMedia('(min-width: 768px)').matches) input.current?.focus();
  }, []);

  function send() {
    const content = draft.trim();
    if (!content || [...content].length > MAX_CHARS) return;
    onSend(content);
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
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
        aria-describedby={hintId}
        aria-invalid={tooLong || undefined}
        maxLength={MAX_CHARS * 2}
        data-testid="composer"
      />
      <button type="submit" className="btn btn-primary send-button" disabled={!draft.trim() || tooLong}>
        Send
      </button>
      <p id={hintId} className={`composer-hint ${tooLong ? 'is-error' : ''}`}>
        {tooLong ? `${length} / ${MAX_CHARS} characters — too long` : 'Enter to send · Shift+Enter for a new line'}
      </p>
    </form>
  );
}
