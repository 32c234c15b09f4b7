/**
 * Line illustrations for the demo catalogue: inline SVG, so they look the same everywhere
 * (emoji depend on the fonts a machine happens to have) and need no image host.
 */
import type { ReactNode } from 'react';
import type { ProductIconName } from '../_lib/catalogue';

const PATHS: Record<ProductIconName, ReactNode> = {
  bike: (
    <>
      <circle cx="5.5" cy="16" r="3.5" />
      <circle cx="18.5" cy="16" r="3.5" />
      <path d="M5.5 16 9 9h7l2.5 7M9 9l3.5 7H5.5M12.5 16 16 9M8 6.5h3M15 6.5h2.5L16 9" />
    </>
  ),
  camera: (
    <>
      <rect x="2.5" y="7" width="19" height="12.5" rx="2" />
      <path d="M8 7 9.5 4.5h5L16 7" />
      <circle cx="12" cy="13" r="3.6" />
      <path d="M5.5 10h1.5" />
    </>
  ),
  lamp: (
    <>
      <path d="M6 20.5h8M10 20.5 7 12l6-6" />
      <path d="m11.5 4.5 5 5 2.8-2.8-5-5z" />
      <path d="M17.5 11.5a2.5 2.5 0 0 1-3.5-3.5" />
    </>
  ),
  armchair: (
    <>
      <path d="M5 11V7a3 3 0 0 1 3-3h8a3 3 0 0 1 3 3v4" />
      <path d="M3 13a2 2 0 0 1 4 0v2h10v-2a2 2 0 0 1 4 0v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" />
      <path d="M6 19v2M18 19v2" />
    </>
  ),
  headphones: (
    <>
      <path d="M4 15v-3a8 8 0 0 1 16 0v3" />
      <rect x="3" y="14" width="4.5" height="7" rx="1.5" />
      <rect x="16.5" y="14" width="4.5" height="7" rx="1.5" />
    </>
  ),
  plant: (
    <>
      <path d="M7 14h10l-1.3 7H8.3z" />
      <path d="M12 14V8" />
      <path d="M12 10C12 6 9.5 3.5 5.5 3.5 5.5 7.5 8 10 12 10z" />
      <path d="M12 12c0-3.5 2.2-5.5 6-5.5 0 3.5-2.2 5.5-6 5.5z" />
    </>
  ),
};

export function ProductIcon({ name, size = 64, colour = '#1c2430' }: { name: ProductIconName; size?: number; colour?: string }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke={colour}
      strokeWidth={1.4}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {PATHS[name]}
    </svg>
  );
}

export function ChatBubblesIcon({ size = 48 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.4} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M14 9a5 5 0 0 0-5-5H7a5 5 0 0 0-2.6 9.3L4 16l2.8-1.6c.1 0 .1 0 .2 0h2a5 5 0 0 0 5-5.4z" />
      <path d="M14.5 8.5H17a4.5 4.5 0 0 1 2.4 8.3l.4 2.7-2.6-1.5H15a4.5 4.5 0 0 1-4.3-3.2" />
    </svg>
  );
}
