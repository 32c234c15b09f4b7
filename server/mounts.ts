/** The transports every instance mounts on its HTTP server, in dispatch order. */
import type { Mount, Service } from './app.js';
import { StompChatApplication } from './transports/stomp.js';
import { createSocketIoBridge, SOCKET_IO_PATH } from './transports/socketio.js';
import { createStompEndpoint } from './stomp/index.js';
import { createTrpcHandler, TRPC_PATH } from './trpc/http.js';

export function chatMounts(): Array<(service: Service) => Mount | Promise<Mount>> {
  return [trpcMount, stompMount, socketIoMount];
}

function socketIoMount(service: Service): Mount {
  const bridge = createSocketIoBridge({
    chat: service.chat,
    auth: service.auth,
    logger: service.logger.child({ module: 'socket.io' }),
    sendRatePerSecond: service.env.SEND_RATE_PER_SECOND,
    sendBurst: service.env.SEND_BURST,
    maxPayloadBytes: service.env.STOMP_MAX_FRAME_BYTES,
  });
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
      tokens: service.tokens,
      auth: service.auth,
      socketTokenTtlSeconds: service.env.SOCKET_TOKEN_TTL_SECONDS,
    },
    service.logger.child({ module: 'trpc' }),
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

function stompMount(service: Service): Mount {
  const { env, chat, auth } = service;
  const logger = service.logger.child({ module: 'stomp' });
  const app = new StompChatApplication({
    chat,
    auth,
    logger,
    sendRatePerSecond: env.SEND_RATE_PER_SECOND,
    sendBurst: env.SEND_BURST,
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
      slowConsumerBytes: env.SLOW_CONSUMER_BYTES,
    },
  });
  return {
    upgrade(req, socket, head, pathname) {
      if (pathname !== '/ws-stomp') return false;
      endpoint.handleUpgrade(req, socket, head);
      return true;
    },
    close: () => endpoint.close(),
  };
}
