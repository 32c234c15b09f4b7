/** `/healthz` (process alive) and `/readyz` (each dependency's state; 503 while MySQL is down). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DependencyStatus } from '../presence/presence.js';

export interface Readiness {
  status: 'ready' | 'degraded' | 'unavailable';
  instance: string;
  dependencies: { mysql: 'up' | 'down'; redis: DependencyStatus; kafka: DependencyStatus; smtp: DependencyStatus };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

export function createHealthRoutes(readiness: () => Promise<Readiness>) {
  return async function healthRoutes(_req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (pathname === '/readyz') {
      const r = await readiness();
      // each dependency also at the top level, for probes that read `.redis` directly
      sendJson(res, r.dependencies.mysql === 'up' ? 200 : 503, { ...r.dependencies, ...r });
      return true;
    }
    return false;
  };
}
