/** Mounts the root router at /api/trpc on the shared HTTP server (plain JSON, no transformer). */
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Logger } from '../logger.js';
import { createContext, type TrpcServices } from './context.js';
import { appRouter } from './root.js';

export const TRPC_PATH = '/api/trpc';

export function createTrpcHandler(services: TrpcServices, logger: Logger) {
  return createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PATH}/`,
    createContext: ({ req }) => createContext(services, req),
    onError({ error, path }) {
      // only the unexpected is a bug worth a log line; the rest is the caller's mistake
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'tRPC procedure failed');
    },
  });
}
