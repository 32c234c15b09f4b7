/**
 * The address a request comes from, for per-client limits. Behind a reverse proxy
 * (TRUST_PROXY) it is the last X-Forwarded-For entry — the one our proxy appended; the entries
 * before it are whatever the client chose to send. Otherwise the socket's peer address,
 * since any client can write an X-Forwarded-For header.
 */
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const list = (Array.isArray(header) ? header.join(',') : header ?? '').split(',');
    const last = list[list.length - 1]?.trim();
    if (last) return normalise(last);
  }
  return normalise(req.socket.remoteAddress ?? 'unknown');
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is the IPv4 address; IPv6 counts by its /64, what one host is usually given */
function normalise(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  if (!lower.includes(':')) return lower;
  return `${ipv6Groups(lower).slice(0, 4).join(':')}::/64`;
}

function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}
