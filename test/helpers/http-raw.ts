/**
 * HTTP at the socket level, for what fetch hides: a body streamed chunk by chunk (256 MB
 * without holding it in memory), a Content-Length with no body behind it, and exactly when
 * the server answers and hangs up.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** status of the answer, null when the server hung up without one */
  status: number | null;
  /** the answer's body (as far as it arrived) */
  body: string;
  /** body bytes written before the server answered or hung up */
  sent: number;
}

function open(baseUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** the status line and body of what arrived, once the header block is complete */
function parseAnswer(raw: string): { status: number; body: string } | null {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const status = /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1];
  return status ? { status: Number(status), body: raw.slice(end + 4) } : null;
}

/**
 * POSTs `totalBytes` of JSON whitespace as a chunked body (or, with `declare`, a
 * Content-Length of that size and no body), stopping as soon as the server answers or closes.
 */
export async function postLargeBody(baseUrl: string, path: string, totalBytes: number, opts: { declare?: boolean } = {}): Promise<RawAnswer> {
  const socket = await open(baseUrl);
  let raw = '';
  let ended = false;
  let wake: () => void = () => undefined;
  socket.on('data', (d: Buffer) => {
    raw += d.toString('latin1');
    wake();
  });
  const finish = () => {
    ended = true;
    wake();
  };
  socket.on('end', finish);
  socket.on('close', finish);
  socket.on('error', finish);
  const answered = () => ended || parseAnswer(raw) !== null;
  const next = () => new Promise<void>((r) => (wake = r));

  const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json'];
  head.push(opts.declare ? `Content-Length: ${totalBytes}` : 'Transfer-Encoding: chunked');
  socket.write(`${head.join('\r\n')}\r\n\r\n`);

  let sent = 0;
  if (!opts.declare) {
    // one 64 KiB chunk, written again and again: the test holds no more than this
    const payload = Buffer.alloc(64 * 1024, 0x20);
    const framed = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n')]);
    while (!answered() && sent < totalBytes) {
      const flushed = socket.write(framed);
      sent += payload.length;
      if (!flushed) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          socket.once('drain', resolve);
        });
      }
    }
    if (!answered()) socket.write('0\r\n\r\n');
  }
  while (!answered()) await next();
  // the answer's body may still be on its way after its header block
  const parsed = parseAnswer(raw);
  if (parsed && !ended) {
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(raw)?.[1] ?? 0);
    while (!ended && Buffer.byteLength(parseAnswer(raw)!.body, 'latin1') < length) await next();
  }
  socket.destroy();
  const final = parseAnswer(raw);
  return { status: final?.status ?? null, body: final?.body ?? '', sent };
}
