/**
 * `GET /metrics`: the Prometheus exposition. With METRICS_TOKEN set, callers must send
 * `Authorization: Bearer <METRICS_TOKEN>`; without it, only loopback callers (a sidecar, an
 * operator on the host) are answered, so an unconfigured instance never shows its internals
 * to the internet.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken } from '../auth/tokens.js';
import type { Metrics } from '../metrics.js';
import { sendJson } from './health.js';

export const METRICS_PATH = '/metrics';

export function createMetricsRoute(metrics: Metrics, token: string | undefined) {
  return async function metricsRoute(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname !== METRICS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'use GET' });
      return true;
    }
    if (token) {
      if (!sameSecret(bearerToken(req.headers.authorization), token)) {
        res.setHeader('www-authenticate', 'Bearer');
        sendJson(res, 401, { error: 'send Authorization: Bearer <METRICS_TOKEN>' });
        return true;
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      sendJson(res, 403, { error: '/metrics answers loopback callers only while METRICS_TOKEN is unset' });
      return true;
    }
    const body = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
