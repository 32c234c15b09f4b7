import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { projectRoot } from '../../server/paths.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tokenFor } from '../helpers/tokens.js';

let srv: TestServer;
let port: number;

beforeAll(async () => {
  srv = await startTestServer();
  port = srv.service.port;
});
afterAll(async () => {
  await srv?.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * writes each request on one TCP connection after the previous answer, as a client keeping it
 * alive does, or all at once (`pipelined`)
 */
function exchange(requests: string[], opts: { pipelined?: boolean; timeoutMs?: number } = {}): Promise<RawResponse[]> {
  const count = requests.length;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(opts.pipelined ? requests.join('') : requests[0]!));
    let buffer: Buffer = Buffer.alloc(0);
    const out: RawResponse[] = [];
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`got ${out.length} responses: ${buffer.toString()}`))), timeoutMs);
    const parse = () => {
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        let body: Buffer;
        let rest: Buffer;
        if (headers['transfer-encoding'] === 'chunked') {
          const chunks: Buffer[] = [];
          let at = end + 4;
          for (;;) {
            const eol = buffer.indexOf('\r\n', at);
            if (eol < 0) return;
            const size = parseInt(buffer.subarray(at, eol).toString(), 16);
            if (buffer.length < eol + 2 + size + 2) return;
            chunks.push(buffer.subarray(eol + 2, eol + 2 + size));
            at = eol + 2 + size + 2;
            if (size === 0) break;
          }
          body = Buffer.concat(chunks);
          rest = buffer.subarray(at);
        } else {
          const length = Number(headers['content-length'] ?? NaN);
          if (!Number.isFinite(length)) throw new Error(`response without a length: ${statusLine}`);
          if (buffer.length < end + 4 + length) return;
          body = buffer.subarray(end + 4, end + 4 + length);
          rest = buffer.subarray(end + 4 + length);
        }
        out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: body.toString() });
        buffer = rest;
        if (out.length === count) {
          clearTimeout(timer);
          socket.end();
          resolve(out);
          return;
        }
        if (!opts.pipelined) socket.write(requests[out.length]!);
      }
    };
    socket.on('data', (d) => {
      buffer = Buffer.concat([buffer, d]);
      try {
        parse();
      } catch (err) {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
    });
    socket.on('error', reject);
  });
}

const h2c = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA\r\n';

describe('clients that offer an h2c upgrade on plain http (Java HttpClient, Spring RestClient, curl --http2)', () => {
  it('get the ordinary /readyz answer instead of an empty 404', async () => {
    const [res] = await exchange([`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${h2c}User-Agent: Java-http-client/17\r\n\r\n`]);
    expect(res!.status).toBe(200);
    expect(JSON.parse(res!.body)).toMatchObject({ status: 'ready', mysql: 'up' });
  });

  it('get tRPC answers for a query and for a mutation with a body, on one kept-alive connection', async () => {
    const token = await tokenFor('h2c-buyer');
    const input = encodeURIComponent('{}');
    const body = JSON.stringify({ productId: 'h2c-1', sellerId: 'h2c-seller' });
    const [open, list] = await exchange([
      `POST /api/trpc/rooms.open HTTP/1.1\r\nHost: x\r\n${h2c}Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      `GET /api/trpc/rooms.list?input=${input} HTTP/1.1\r\nHost: x\r\n${h2c}Authorization: Bearer ${token}\r\n\r\n`,
    ]);
    expect(open!.status).toBe(200);
    const room = JSON.parse(open!.body).result.data;
    expect(room).toMatchObject({ productId: 'h2c-1', buyerId: 'h2c-buyer', sellerId: 'h2c-seller' });
    expect(list!.status).toBe(200);
    expect(JSON.parse(list!.body).result.data.rooms.map((r: { id: string }) => r.id)).toContain(room.id);
  });

  it('are answered request after request on one connection, each offering the upgrade again', async () => {
    const responses = await exchange(Array.from({ length: 25 }, () => `GET /healthz HTTP/1.1\r\nHost: x\r\n${h2c}\r\n`));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 25 }, () => 200));
  });

  it('get their answers in order when they pipeline requests behind a slow one', async () => {
    const token = await tokenFor('h2c-pipeliner');
    const body = JSON.stringify({ productId: 'h2c-2', sellerId: 'h2c-seller' });
    const responses = await exchange(
      [
        `POST /api/trpc/rooms.open HTTP/1.1\r\nHost: x\r\n${h2c}Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        `GET /api/trpc/rooms.list?input=%7B%7D HTTP/1.1\r\nHost: x\r\n${h2c}Authorization: Bearer ${token}\r\n\r\n`,
        `GET /healthz HTTP/1.1\r\nHost: x\r\n${h2c}\r\n`,
      ],
      { pipelined: true },
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(JSON.parse(responses[0]!.body).result.data.productId).toBe('h2c-2');
    expect(JSON.parse(responses[1]!.body).result.data.rooms.map((r: { productId: string }) => r.productId)).toEqual(['h2c-2']);
  });

  it('still get tRPC errors in the usual shape', async () => {
    const [res] = await exchange([`GET /api/trpc/rooms.list?input=%7B%7D HTTP/1.1\r\nHost: x\r\n${h2c}\r\n`]);
    expect(res!.status).toBe(401);
    expect(JSON.parse(res!.body).error.data.code).toBe('UNAUTHORIZED');
  });

  it('leave WebSocket upgrades alone: /ws-stomp still opens and unknown paths are still refused', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws-stomp`, ['v12.stomp']);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    expect(ws.protocol).toBe('v12.stomp');
    ws.close();
    const refused = new WebSocket(`ws://127.0.0.1:${port}/nowhere`);
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).once('error', () => resolve(-1)));
    expect(status).toBe(404);
  });

  it("serve Java's own java.net.http.HttpClient with its default settings", async () => {
    const token = await tokenFor('java-buyer');
    const output = await new Promise<string>((resolve, reject) => {
      const java = spawn('java', [join(projectRoot(), 'test/fixtures/JavaHttpClient.java'), srv.url, token], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      java.stdout.on('data', (d) => (out += d));
      java.stderr.on('data', (d) => (err += d));
      java.once('error', reject);
      java.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`java exited ${code}: ${err}${out}`))));
    });
    const lines = Object.fromEntries(
      output
        .trim()
        .split('\n')
        .map((l) => {
          const [label, status, ...body] = l.split(' ');
          return [label, { status: Number(status), body: JSON.parse(body.join(' ')) }];
        }),
    );
    expect(lines.readyz).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(lines['rooms.open']).toMatchObject({ status: 200, body: { result: { data: { buyerId: 'java-buyer', sellerId: 'java-seller' } } } });
    expect(lines['rooms.list'].status).toBe(200);
  }, 60_000);
});
