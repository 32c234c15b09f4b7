/**
 * Finds web links in message text so the page can make them clickable. Only http and https
 * become links (no `javascript:`, `data:`, `file:`…); everything else stays text, and the
 * text is never interpreted as markup.
 */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// a scheme or a bare www., up to whitespace or an angle bracket
const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;
// punctuation that ends a sentence rather than the address
const TRAILING = /[.,;:!?'")\]}]+$/;

/** `href` for a candidate, or null when it is not a safe http(s) address */
export function safeHref(candidate: string): string | null {
  const withScheme = /^www\./i.test(candidate) ? `https://${candidate}` : candidate;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname || url.username || url.password) return null;
  return url.href;
}

function trimTrailing(candidate: string): string {
  let s = candidate.replace(TRAILING, '');
  // keep a closing parenthesis that belongs to the address: https://en.wikipedia.org/wiki/Bike_(disambiguation)
  const rest = candidate.slice(s.length);
  if (rest.startsWith(')') && (s.match(/\(/g)?.length ?? 0) > (s.match(/\)/g)?.length ?? 0)) s += ')';
  return s;
}

export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(CANDIDATE)) {
    const start = m.index ?? 0;
    const raw = trimTrailing(m[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}
