'use client';
/** The half-typed message of each room, kept while the page is open (switching rooms keeps it). */
import { useCallback, useState } from 'react';

const drafts = new Map<string, string>();

export function useDraft(roomId: string): [string, (value: string) => void] {
  const [draft, setDraftState] = useState(() => drafts.get(roomId) ?? '');
  const setDraft = useCallback(
    (value: string) => {
      if (value) drafts.set(roomId, value);
      else drafts.delete(roomId);
      setDraftState(value);
    },
    [roomId],
  );
  return [draft, setDraft];
}
