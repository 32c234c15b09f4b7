/**
 * The request-body bound every HTTP route shares. Runs before any route sees the request:
 * a Content-Length over the limit is answered 413 at once, without reading a byte of the
 * body; a chunked (or lying) body is counted as the socket delivers it and answered 413 the
 * moment it crosses the limit. Either way the connection is closed after the answer, so the
 * rest of the body is never read, and nothing is buffered here: the count happens where the
 * HTTP parser hands each chunk to the request stream, so routes still read the body as usual.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** how long a refused connection may keep delivering before it is cut (the 413 has been sent) */
const LINGER_MS = 2000;

export interface BodyLimitOptions {
  maxBytes: number;
  /** paths that bound their bodies themselves (uploads, with a larger limit) */
  exempt?: (pathname: string) => boolean;
  /** told once per refused request, e.g. to count refusals */
  onRefused?: () => void;
}

/**
 * Returns false when the request was refused (413 sent); otherwise arms the streaming count and
 * returns true. Call it first thing in the request handler.
 */
export function enforceBodyLimit(req: IncomingMessage, res: ServerResponse, opts: BodyLimitOptions): boolean {
  if (opts.exempt?.(pathOf(req.url))) return true;
  let received = 0;
  let refused = false;
  // Node's HTTP parser delivers body chunks through push(); counting there sees every byte as
  // it arrives, whether or not (or how late) a route starts reading, and copies nothing. Once
  // refused, push() answers false to every chunk, which makes the parser stop reading the socket.
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (refused) return false;
    if (chunk === null) return push(null);
    received += (chunk as { length: number }).length;
    if (received <= opts.maxBytes) return push(chunk, encoding);
    refused = true;
    refuse(req, res, opts);
    // end the stream for the route so it stops waiting for a body that will not come
    push(null);
    return false;
  };
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > opts.maxBytes) {
    refused = true;
    refuse(req, res, opts);
    return false;
  }
  return true;
}

function refuse(req: IncomingMessage, res: ServerResponse, opts: BodyLimitOptions): void {
  opts.onRefused?.();
  const socket = req.socket;
  if (!res.headersSent) {
    const body = JSON.stringify({ error: `request body too large: at most ${opts.maxBytes} bytes` });
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
    silence(res);
  }
  // Half-close so the client reads the 413 instead of a reset; nothing more is read from it,
  // and the socket goes after a short linger.
  res.once('finish', () => socket.end());
  if (res.writableFinished) socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function pathOf(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  return (q >= 0 ? url!.slice(0, q) : url) || '/';
}

/**
 * The route that owns this response may still be running (it was reading the body when the
 * limit was crossed) and will try to answer too: its late writes are dropped here instead of
 * failing with "headers already sent" / "write after end" in code that does not expect it.
 */
function silence(res: ServerResponse): void {
  res.on('error', () => undefined);
  const target = res as unknown as Record<string, unknown>;
  target.writeHead = () => res;
  target.setHeader = () => res;
  target.removeHeader = () => undefined;
  target.flushHeaders = () => undefined;
  target.write = () => true;
  target.end = () => res;
}
