/** The transports every instance mounts on its HTTP server, in dispatch order. */
import { availableParallelism } from 'node:os';
import type { Mount, Service } from './app.js';
import { StompChatApplication } from './transports/stomp.js';
import { createSocketIoBridge, SOCKET_IO_PATH } from './transports/socketio.js';
import { createStompEndpoint, type StompEndpoint } from './stomp/index.js';
import { createSockJsEndpoint } from './stomp/sockjs.js';
import { createTrpcHandler, TRPC_PATH } from './trpc/http.js';
import { createUploadRoutes } from './uploads/http.js';
import { ImagePool } from './uploads/image-pool.js';
import { roomMembership, UploadService } from './uploads/service.js';
import { UPLOADS_PATH, UrlSigner } from './uploads/signed-urls.js';
import { createUploadStorage } from './uploads/storage.js';

export function chatMounts(): Array<(service: Service) => Mount | Promise<Mount>> {
  return [trpcMount, uploadsMount, stompMount, socketIoMount];
}

/**
 * Photo uploads and signed image reads under /api/uploads. They carry their own body limit
 * (UPLOAD_MAX_BYTES), so a general HTTP body limit must leave this path to them.
 */
async function uploadsMount(service: Service): Promise<Mount> {
  const { env } = service;
  const logger = service.logger.child({ module: 'uploads' });
  const storage = await createUploadStorage(env, logger);
  const workers = Math.max(1, availableParallelism());
  const images = new ImagePool({ size: workers, maxPixels: env.UPLOAD_MAX_PIXELS, logger });
  const uploads = new UploadService({
    db: service.database.db,
    storage,
    images,
    signer: new UrlSigner(env.AUTH_SECRET, env.UPLOAD_URL_TTL_SECONDS),
    isMember: roomMembership(service.database.db),
    logger,
  });
  const routes = createUploadRoutes({
    uploads,
    auth: service.auth,
    maxBytes: env.UPLOAD_MAX_BYTES,
    // one photo decoding per worker and one being received for each
    concurrentUploads: workers * 2,
    logger,
  });
  return {
    request: (req, res, pathname) => routes(req, res, pathname),
    boundsOwnBody: (pathname) => pathname === UPLOADS_PATH || pathname.startsWith(`${UPLOADS_PATH}/`),
    close: async () => {
      await images.close();
      await storage.close();
    },
  };
}

function socketIoMount(service: Service): Mount {
  const bridge = createSocketIoBridge({
    chat: service.chat,
    auth: service.auth,
    logger: service.logger.child({ module: 'socket.io' }),
    sendRatePerSecond: service.env.SEND_RATE_PER_SECOND,
    sendBurst: service.env.SEND_BURST,
    maxPayloadBytes: service.env.STOMP_MAX_FRAME_BYTES,
    metrics: service.metrics,
  });
  service.metrics.countConnections('socketio', () => bridge.socketCount());
  const owns = (pathname: string) => pathname === SOCKET_IO_PATH || pathname.startsWith(`${SOCKET_IO_PATH}/`);
  return {
    request(req, res, pathname) {
      if (!owns(pathname)) return false;
      bridge.handleRequest(req, res);
      return true;
    },
    upgrade(req, socket, head, pathname) {
      if (!owns(pathname)) return false;
      bridge.handleUpgrade(req, socket, head);
      return true;
    },
    close: () => bridge.close(),
  };
}

function trpcMount(service: Service): Mount {
  const handler = createTrpcHandler(
    {
      chat: service.chat,
      inquiries: service.inquiries,
      reports: service.reports,
      tokens: service.tokens,
      authenticator: service.auth,
      socketTokenTtlSeconds: service.env.SOCKET_TOKEN_TTL_SECONDS,
      trustProxy: service.env.TRUST_PROXY,
    },
    service.logger.child({ module: 'trpc' }),
    {
      maxBatch: service.env.TRPC_MAX_BATCH,
      maxBodyBytes: service.env.HTTP_MAX_BODY_BYTES,
      onBatchRefused: () => service.metrics.limitRefusals.inc({ limit: 'trpc_batch' }),
    },
  );
  return {
    request(req, res, pathname) {
      if (pathname !== TRPC_PATH && !pathname.startsWith(`${TRPC_PATH}/`)) return false;
      handler(req, res);
      return true;
    },
    close: async () => undefined,
  };
}

/** raw STOMP over WebSocket at exactly this path; SockJS below it */
const STOMP_PATH = '/ws-stomp';

function stompMount(service: Service): Mount {
  const { env, chat, auth } = service;
  const logger = service.logger.child({ module: 'stomp' });
  const app = new StompChatApplication({
    chat,
    auth,
    logger,
    sendRatePerSecond: env.SEND_RATE_PER_SECOND,
    sendBurst: env.SEND_BURST,
    metrics: service.metrics,
  });
  const endpoint = createStompEndpoint({
    app,
    logger,
    limits: {
      maxFrameBytes: env.STOMP_MAX_FRAME_BYTES,
      maxHeaders: env.STOMP_MAX_HEADERS,
      maxSubscriptions: env.STOMP_MAX_SUBSCRIPTIONS,
      heartbeatSendMs: env.STOMP_HEARTBEAT_MS,
      heartbeatReceiveMs: env.STOMP_HEARTBEAT_MS,
      heartbeatMinMs: env.STOMP_HEARTBEAT_MIN_MS,
      slowConsumerBytes: env.SLOW_CONSUMER_BYTES,
    },
    onSlowConsumer: () => service.metrics.slowConsumerCutoffs.inc({ transport: 'stomp' }),
    // a tenth of the fastest heart-beat: beats leave on time; an idle tick costs nothing
    heartbeatTickMs: Math.min(1000, Math.max(20, Math.floor(env.STOMP_HEARTBEAT_MIN_MS / 10))),
  });
  // the same sessions over SockJS, below the raw endpoint's path
  const sockJs = createSockJsEndpoint({
    prefix: STOMP_PATH,
    endpoint: endpoint as StompEndpoint<unknown>,
    maxMessageBytes: Math.max(4 * env.STOMP_MAX_FRAME_BYTES, 1024 * 1024),
    logger,
  });
  service.metrics.countConnections('stomp', () => endpoint.sessionCount());
  return {
    request: (req, res, pathname) => sockJs.handleRequest(req, res, pathname),
    upgrade(req, socket, head, pathname) {
      if (pathname === STOMP_PATH) {
        endpoint.handleUpgrade(req, socket, head);
        return true;
      }
      return sockJs.handleUpgrade(req, socket, head, pathname);
    },
    close: () => endpoint.close(),
  };
}
