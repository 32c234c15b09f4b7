/**
 * Mounts the root router at /api/trpc on the shared HTTP server (plain JSON, no transformer).
 * A batch request holds at most `maxBatch` calls: a larger one is refused as a whole, before
 * any of its calls runs (one request must not open hundreds of rooms).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { isUnavailable } from '../db/availability.js';
import type { Logger } from '../logger.js';
import { createContext, type TrpcServices } from './context.js';
import { appRouter } from './root.js';

export const TRPC_PATH = '/api/trpc';
/** what a 503 (MySQL unavailable) tells clients to wait before retrying, in seconds */
const RETRY_AFTER_SECONDS = 5;

export interface TrpcHttpOptions {
  /** calls one batch request may hold */
  maxBatch: number;
  /** body bound tRPC applies itself too (the server-wide bound runs first) */
  maxBodyBytes: number;
  /** told when a batch is refused, e.g. to count refusals */
  onBatchRefused?: () => void;
}

export function createTrpcHandler(services: TrpcServices, logger: Logger, opts: TrpcHttpOptions) {
  const handler = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PATH}/`,
    maxBatchSize: opts.maxBatch,
    maxBodySize: opts.maxBodyBytes,
    createContext: ({ req }) => createContext(services, req),
    responseMeta({ errors }) {
      // a dependency outage: clients back off instead of retrying at once
      if (errors.some((e) => e.code === 'SERVICE_UNAVAILABLE')) return { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } };
      return {};
    },
    onError({ error, path }) {
      // only the unexpected is a bug worth a log line; the rest is the caller's mistake
      if (error.code === 'INTERNAL_SERVER_ERROR' && !isUnavailable(error.cause)) logger.error({ err: error.cause ?? error, path }, 'tRPC procedure failed');
    },
  });
  return (req: IncomingMessage, res: ServerResponse) => {
    const calls = batchSize(req.url);
    if (calls > opts.maxBatch) {
      opts.onBatchRefused?.();
      refuseBatch(res, `a batch holds at most ${opts.maxBatch} calls (this one has ${calls}); nothing was run`);
      return;
    }
    handler(req, res);
  };
}

/** the number of calls in `/api/trpc/a,b,c?batch=1`; 1 for a single call */
function batchSize(url: string | undefined): number {
  if (!url) return 1;
  const parsed = new URL(url, 'http://local');
  if (parsed.searchParams.get('batch') !== '1') return 1;
  return parsed.pathname.slice(TRPC_PATH.length + 1).split(',').length;
}

/** the same error shape tRPC itself answers with, so clients read it like any other */
function refuseBatch(res: ServerResponse, message: string): void {
  const body = JSON.stringify({ error: { message, code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400, path: null } } });
  res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
