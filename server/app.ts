/**
 * The composition root: builds every dependency from the parsed configuration, mounts the
 * transports on one HTTP server, and closes everything in reverse order on shutdown.
 * The only place with mutable wiring; modules get what they need passed in.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Authenticator } from './auth/authenticate.js';
import { allowedOrigins, createCookieAuth, type CookieAuth } from './auth/session-cookie.js';
import { TokenService } from './auth/tokens.js';
import { MemoryRoomBus, type RoomBus } from './bus/room-bus.js';
import { ChatService } from './chat/service.js';
import { MysqlAvailability } from './db/availability.js';
import { openDatabase, type Database } from './db/client.js';
import type { Env } from './env.js';
import { enforceBodyLimit } from './http/body-limit.js';
import { createHealthRoutes, sendJson, type Readiness } from './http/health.js';
import { createMetricsRoute } from './http/metrics-route.js';
import { isWebSocketUpgrade, PlainUpgrades } from './http/plain-upgrade.js';
import type { Logger } from './logger.js';
import { InquiryService } from './inquiries/service.js';
import { FileMailTransport, SmtpMailTransport, type MailTransport } from './mail/transport.js';
import { Metrics } from './metrics.js';
import type { Presence } from './presence/presence.js';
import { RedisPresence } from './presence/redis-presence.js';

/** the Next.js app, when this process serves the web page */
export interface WebHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> | void;
  close(): Promise<void>;
}

/** a transport mounted on the shared HTTP server */
export interface Mount {
  /** answers the request and returns true when it owns the path */
  request?(req: IncomingMessage, res: ServerResponse, pathname: string): boolean | Promise<boolean>;
  /** true for paths whose requests carry their own, larger body limit (uploads) */
  boundsOwnBody?(pathname: string): boolean;
  /** takes over the upgrade and returns true when it owns the path (synchronously) */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string): boolean;
  close(): Promise<void>;
}

export interface Service {
  server: Server;
  port: number;
  url: string;
  env: Env;
  chat: ChatService;
  tokens: TokenService;
  database: Database;
  /** MySQL up/down as the pipeline sees it (one log line per change) */
  availability: MysqlAvailability;
  bus: RoomBus;
  presence: Presence;
  mail: MailTransport;
  inquiries: InquiryService;
  logger: Logger;
  /** Prometheus metrics; transports mounted later register their counts here */
  metrics: Metrics;
  /** the web page's next-auth session cookie → user */
  cookieAuth: CookieAuth;
  /** token or cookie → user, for every transport */
  auth: Authenticator;
  readiness(): Promise<Readiness>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  env: Env;
  logger: Logger;
  web?: WebHandler | null;
  /** transports, added by the caller so tests can mount exactly what they exercise */
  mounts?: Array<(service: Service) => Mount | Promise<Mount>>;
}

export async function startService(opts: ServiceOptions): Promise<Service> {
  const { env, logger } = opts;
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) {
      try {
        await c.close();
      } catch (err) {
        logger.warn({ err, component: c.name }, 'close failed');
      }
    }
  };

  try {
    const metrics = new Metrics();
    const database = await openDatabase({
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      logger: logger.child({ module: 'db' }),
    });
    closers.push({ name: 'mysql', close: () => database.close() });
    const availability = new MysqlAvailability(() => database.ping(), logger.child({ module: 'mysql' }));
    closers.push({ name: 'mysql-availability', close: async () => availability.close() });

    const presence = await createPresence(env, logger);
    closers.push({ name: 'presence', close: () => presence.close() });

    const bus = await createBus(env, logger);
    closers.push({ name: 'bus', close: () => bus.close() });

    const mail: MailTransport = env.SMTP_URL
      ? new SmtpMailTransport(env.SMTP_URL, logger.child({ module: 'mail' }))
      : new FileMailTransport(env.MAIL_DIR);
    if (!env.SMTP_URL) logger.warn({ dir: env.MAIL_DIR }, 'SMTP_URL is not set: mail is written as .eml files');
    closers.push({ name: 'mail', close: () => mail.close() });

    const tokens = new TokenService(env.AUTH_SECRET);
    const chat = new ChatService({
      db: database.db,
      pool: database.pool,
      storePool: database.storePool,
      bus,
      presence,
      logger: logger.child({ module: 'chat' }),
      instanceId: env.INSTANCE_ID,
      metrics,
      limits: {
        maxConnections: env.USER_MAX_CONNECTIONS,
        sendRatePerSecond: env.USER_SEND_RATE_PER_SECOND,
        sendBurst: env.USER_SEND_BURST,
        roomsPerHour: env.USER_ROOMS_PER_HOUR,
      },
      redis: presence.redis,
      availability,
      accessTtlMs: env.ROOM_ACCESS_TTL_MS,
    });
    closers.push({ name: 'chat', close: () => chat.close() });

    // the user service's account events (one consumer group shared by all instances)
    const { startAccountEvents } = await import('./bus/account-events.js');
    const accountEvents = await startAccountEvents({
      env,
      logger: logger.child({ module: 'account-events' }),
      pool: database.pool,
      onChanged: () => chat.forgetAccess(),
    });
    closers.push({ name: 'account-events', close: () => accountEvents.close() });

    const inquiries = new InquiryService({
      pool: database.pool,
      mail,
      logger: logger.child({ module: 'inquiries' }),
      supportEmail: env.SUPPORT_EMAIL,
      mailFrom: env.MAIL_FROM,
      maxAttempts: env.MAIL_MAX_ATTEMPTS,
      retryBaseMs: env.MAIL_RETRY_BASE_MS,
      ratePerHour: env.INQUIRY_RATE_PER_HOUR,
      redis: presence.redis,
      onRefused: (limit) => metrics.limitRefusals.inc({ limit }),
    });
    inquiries.start();
    closers.push({ name: 'inquiries', close: () => inquiries.close() });

    const readiness = async (): Promise<Readiness> => {
      const mysql = (await database.ping()) ? 'up' : 'down';
      const dependencies = { mysql, redis: presence.status(), kafka: bus.status(), smtp: mail.status() } as const;
      const degraded = Object.values(dependencies).includes('down');
      return {
        status: mysql === 'down' ? 'unavailable' : degraded ? 'degraded' : 'ready',
        instance: env.INSTANCE_ID,
        dependencies,
      };
    };
    const health = createHealthRoutes(readiness);
    metrics.watchDependencies(async () => (await readiness()).dependencies);
    metrics.watchBusQueue(() => bus.queueLength?.() ?? 0);
    const metricsRoute = createMetricsRoute(metrics, env.METRICS_TOKEN);
    const bodyLimit = {
      maxBytes: env.HTTP_MAX_BODY_BYTES,
      exempt: (pathname: string) => mounts.some((m) => m.boundsOwnBody?.(pathname) ?? false),
      onRefused: () => metrics.limitRefusals.inc({ limit: 'body_size' }),
    };
    const mounts: Mount[] = [];
    const web = opts.web ?? null;

    const server = createServer((req, res) => {
      plainUpgrades.track(req, res);
      // every route, Next's included, reads its body through this bound (uploads have their own)
      if (!enforceBodyLimit(req, res, bodyLimit)) return;
      void route(req, res).catch((err) => {
        logger.error({ err, url: req.url }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    async function route(req: IncomingMessage, res: ServerResponse) {
      const pathname = pathOf(req.url);
      if (await health(req, res, pathname)) return;
      if (await metricsRoute(req, res, pathname)) return;
      for (const m of mounts) if (m.request && (await m.request(req, res, pathname))) return;
      if (web) return web.handle(req, res);
      sendJson(res, 404, { error: 'not found' });
    }

    const plainUpgrades = new PlainUpgrades(server);
    // one upgrade owner, dispatching by path synchronously; unknown paths are refused
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // `Upgrade: h2c` and the like: answered as the plain HTTP/1.1 request it also is
      if (!isWebSocketUpgrade(req)) return plainUpgrades.serve(req, socket, head);
      socket.on('error', () => socket.destroy());
      const pathname = pathOf(req.url);
      for (const m of mounts) if (m.upgrade?.(req, socket, head, pathname)) return;
      if (web && pathname.startsWith('/_next/')) {
        void web.upgrade(req, socket, head);
        return;
      }
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    server.keepAliveTimeout = 65_000;

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(env.PORT, env.HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const sockets = new Set<Duplex>();
    server.on('connection', (s) => {
      // a connection handed back after a declined h2c upgrade is already tracked
      if (sockets.has(s)) return;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });

    let closing: Promise<void> | undefined;
    const cookieAuth = createCookieAuth({ secret: env.AUTH_SECRET, allowedOrigins: allowedOrigins(env, port) });
    const service: Service = {
      server,
      port,
      url: `http://127.0.0.1:${port}`,
      env,
      chat,
      tokens,
      database,
      availability,
      bus,
      presence,
      mail,
      inquiries,
      logger,
      metrics,
      cookieAuth,
      auth: new Authenticator(tokens, cookieAuth),
      readiness,
      close: () =>
        (closing ??= (async () => {
          // stop accepting, tell live sockets goodbye, finish in-flight writes, then close pools
          const stopped = new Promise<void>((r) => server.close(() => r()));
          server.closeIdleConnections();
          for (const m of [...mounts].reverse()) await m.close().catch((err) => logger.warn({ err }, 'mount close failed'));
          if (web) await web.close().catch(() => undefined);
          await closeAll();
          server.closeAllConnections();
          for (const s of sockets) s.destroy();
          await stopped;
        })()),
    };

    for (const make of opts.mounts ?? []) mounts.push(await make(service));
    logger.info({ port, instance: env.INSTANCE_ID, web: Boolean(web) }, 'listening');
    return service;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function pathOf(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  return (q >= 0 ? url!.slice(0, q) : url) || '/';
}

async function createPresence(env: Env, logger: Logger): Promise<RedisPresence> {
  const log = logger.child({ module: 'presence' });
  const presence = new RedisPresence(
    { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX, instanceId: env.INSTANCE_ID, ttlSeconds: env.SESSION_TTL_SECONDS },
    log,
  );
  // give Redis a moment to answer so the start-up log tells the truth
  const deadline = Date.now() + 1500;
  while (presence.status() !== 'up' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (presence.status() !== 'up') {
    log.warn({ url: env.REDIS_URL }, 'REDIS IS UNREACHABLE: sessions are kept in this process only; presence of users on other instances is unknown until Redis answers');
  }
  return presence;
}

async function createBus(env: Env, logger: Logger): Promise<RoomBus> {
  if (!env.KAFKA_BROKERS) {
    logger.warn('KAFKA_BROKERS is not set: in-process bus, this instance cannot share rooms with others');
    return new MemoryRoomBus();
  }
  const { KafkaRoomBus } = await import('./bus/kafka-bus.js');
  return KafkaRoomBus.start(env, logger.child({ module: 'kafka' }));
}

