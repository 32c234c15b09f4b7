/**
 * A lean STOMP 1.2 client over `ws` for load generation: frames are built and parsed as plain
 * strings, no stompjs in the hot loop. Handles several frames packed into one WebSocket message
 * (RabbitMQ may do that) and heart-beat EOLs.
 */
import WebSocket from 'ws';

export interface Frame {
  command: string;
  headers: Record<string, string>;
  body: string;
}

/** parse one frame (without the trailing NUL); header values are not unescaped (not needed here) */
export function parseFrame(s: string): Frame | null {
  let start = 0;
  while (start < s.length && (s.charCodeAt(start) === 10 || s.charCodeAt(start) === 13)) start++;
  if (start >= s.length) return null;
  const headEnd = s.indexOf('\n\n', start);
  const head = headEnd < 0 ? s.slice(start) : s.slice(start, headEnd);
  const body = headEnd < 0 ? '' : s.slice(headEnd + 2);
  const lines = head.split('\n');
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.indexOf(':');
    if (c > 0) {
      const k = line.slice(0, c);
      if (!(k in headers)) headers[k] = line.slice(c + 1).replace(/\r$/, '');
    }
  }
  return { command: lines[0]!.replace(/\r$/, ''), headers, body };
}

export function frame(command: string, headers: Record<string, string>, body = ''): string {
  let s = command + '\n';
  for (const k in headers) s += k + ':' + headers[k] + '\n';
  return s + '\n' + body + '\0';
}

export interface StompConnOptions {
  url: string;
  connectHeaders: Record<string, string>;
  localAddress?: string;
  protocols?: string[];
  timeoutMs?: number;
  onFrame(f: Frame, raw: string): void;
  onClose?(code: number, reason: string): void;
}

/** opens the socket, sends CONNECT and resolves on CONNECTED (rejects on ERROR/close/timeout) */
export function connectStomp(opts: StompConnOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opts.url, opts.protocols ?? ['v12.stomp'], {
      perMessageDeflate: false,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      handshakeTimeout: opts.timeoutMs ?? 30_000,
    });
    let connected = false;
    const timer = setTimeout(() => {
      if (!connected) {
        ws.terminate();
        reject(new Error('CONNECT timed out'));
      }
    }, opts.timeoutMs ?? 30_000);
    ws.on('open', () => ws.send(frame('CONNECT', { 'accept-version': '1.2', ...opts.connectHeaders })));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      void isBinary;
      const text = data.toString('utf8');
      // one or more frames, NUL-terminated; a bare EOL is a heart-beat
      let from = 0;
      for (;;) {
        const nul = text.indexOf('\0', from);
        const part = nul < 0 ? text.slice(from) : text.slice(from, nul);
        if (part.length > 0) {
          const f = parseFrame(part);
          if (f) {
            if (!connected) {
              if (f.command === 'CONNECTED') {
                connected = true;
                clearTimeout(timer);
                resolve(ws);
              } else if (f.command === 'ERROR') {
                clearTimeout(timer);
                reject(new Error(`STOMP ERROR: ${f.headers.message ?? ''} ${f.body}`));
                ws.close();
                return;
              }
            } else opts.onFrame(f, part);
          }
        }
        if (nul < 0) break;
        from = nul + 1;
        if (from >= text.length) break;
      }
    });
    ws.on('error', (err) => {
      if (!connected) {
        clearTimeout(timer);
        reject(err);
      }
    });
    ws.on('close', (code, reason) => {
      if (!connected) {
        clearTimeout(timer);
        reject(new Error(`closed before CONNECTED (${code} ${reason.toString()})`));
      }
      opts.onClose?.(code, reason.toString());
    });
  });
}

/** runs async tasks with a concurrency bound */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}
