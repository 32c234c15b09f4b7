/**
 * Requests that offer an upgrade to something other than WebSocket — `Upgrade: h2c` with
 * `Connection: Upgrade, HTTP2-Settings`, as sent on plain http by Java's `HttpClient`, Spring's
 * `RestClient` and `curl --http2` — are ordinary HTTP/1.1 requests too, and a server may ignore
 * the offer (RFC 9110 §7.8). Node's http server hands every request with an Upgrade header to
 * the 'upgrade' event and stops parsing the connection; this gives such a request back to the
 * HTTP server, without its upgrade headers, so it is answered like any other (body, keep-alive
 * and later requests on the connection included).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** True when the client asks for the WebSocket protocol (the only upgrade this server speaks). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.split(',').some((p) => p.trim().toLowerCase() === 'websocket');
}

const UPGRADE_TOKENS = new Set(['upgrade', 'http2-settings']);

/**
 * Hands declined upgrades back to the HTTP server. It remembers each connection's latest
 * response: a client that pipelines an h2c request behind one still being answered gets that
 * answer first, since the re-injected connection starts a fresh response queue.
 */
export class PlainUpgrades {
  private readonly latest = new WeakMap<object, ServerResponse>();

  constructor(private readonly server: Server) {}

  /** Called for every request the HTTP server answers. */
  track(req: IncomingMessage, res: ServerResponse): void {
    this.latest.set(req.socket, res);
  }

  serve(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pending = this.latest.get(socket);
    if (pending === undefined || pending.writableFinished || pending.destroyed) {
      serveAsPlainRequest(this.server, req, socket, head);
      return;
    }
    // unread bytes stay buffered in the socket (nobody listens for 'data' after an upgrade)
    const go = () => {
      pending.off('finish', go).off('close', go);
      if (!socket.destroyed) serveAsPlainRequest(this.server, req, socket, head);
    };
    pending.once('finish', go).once('close', go);
  }
}

/**
 * Rebuilds the request head without `Upgrade`, `HTTP2-Settings` and their `Connection` tokens,
 * puts it back in front of the unread bytes and injects the socket into `server` as a new
 * connection (node:http documents emitting 'connection' for exactly this).
 */
export function serveAsPlainRequest(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion === '1.0' ? '1.0' : '1.1'}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    if (lower === 'connection') {
      const kept = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !UPGRADE_TOKENS.has(t.toLowerCase()));
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // node:http decodes header bytes as latin1; encoding them the same way restores them exactly
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  server.emit('connection', socket);
}
