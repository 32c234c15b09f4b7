'use client';
/**
 * Where the message list is scrolled. It opens at the "Unread messages" divider when there is
 * one, else at the newest message; afterwards it sticks to the bottom only when it already was
 * there (a "New messages" button otherwise). Older pages are prepended with the reading
 * position kept (browser scroll anchoring is off, we do it here).
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';

const NEAR_BOTTOM_PX = 48;
const NEAR_TOP_PX = 120;

export function useStickToBottom(opts: {
  scroller: RefObject<HTMLDivElement | null>;
  /** changes whenever what is shown changes */
  content: unknown[];
  count: number;
  loaded: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder(): Promise<void>;
  /** the element to open at, when there is one */
  openAt: () => HTMLElement | null;
}) {
  const { scroller, content, count, loaded, hasOlder, loadingOlder, loadOlder, openAt } = opts;
  const atBottom = useRef(true);
  const opened = useRef(false);
  const forceBottom = useRef(false);
  const prepend = useRef<{ height: number; top: number } | null>(null);
  const lastCount = useRef(0);
  const [showJump, setShowJump] = useState(false);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) setShowJump(false);
    if (opened.current && el.scrollTop < NEAR_TOP_PX) void loadOlder();
  }, [scroller, loadOlder]);

  const beforePrepend = useCallback(() => {
    const el = scroller.current;
    if (el) prepend.current = { height: el.scrollHeight, top: el.scrollTop };
  }, [scroller]);

  /** the user sent something: show it */
  const toBottom = useCallback(() => {
    forceBottom.current = true;
  }, []);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (!opened.current) {
      if (!loaded) return;
      opened.current = true;
      const target = openAt();
      if (target) {
        el.scrollTop = Math.max(0, target.offsetTop - 8);
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
      } else {
        el.scrollTop = el.scrollHeight;
        atBottom.current = true;
      }
    } else if (prepend.current) {
      const { height, top } = prepend.current;
      prepend.current = null;
      el.scrollTop = el.scrollHeight - height + top;
    } else if (forceBottom.current || atBottom.current) {
      forceBottom.current = false;
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (count > lastCount.current) {
      setShowJump(true);
    }
    lastCount.current = count;
  }, [loaded, ...content]);

  // the first page may not fill a tall screen: keep loading until it scrolls
  useEffect(() => {
    const el = scroller.current;
    if (el && loaded && hasOlder && !loadingOlder && el.scrollHeight <= el.clientHeight + NEAR_TOP_PX) void loadOlder();
  }, [scroller, loaded, hasOlder, loadingOlder, loadOlder, count]);

  // keep the bottom in view when the composer grows or the phone keyboard resizes the view
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [scroller]);

  const jumpToBottom = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    setShowJump(false);
  }, [scroller]);

  return { onScroll, beforePrepend, toBottom, showJump, jumpToBottom };
}
