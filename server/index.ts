/**
 * Entry point: the Next.js custom server. Reads the configuration, prepares Next (unless
 * WEB=false), starts the service on one port, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { startService, type WebHandler } from './app.js';
import { ConfigError, describeEnv, loadEnv, type Env } from './env.js';
import { createLogger } from './logger.js';
import { projectRoot } from './paths.js';
import { chatMounts } from './mounts.js';

type NextFactory = typeof import('next').default;

async function main() {
  let env: Env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const dev = process.argv.includes('--dev');
  const logger = createLogger({ level: env.LOG_LEVEL, pretty: dev && process.stdout.isTTY, base: { instance: env.INSTANCE_ID } });
  logger.info({ config: describeEnv(env) }, 'configuration');

  let web: WebHandler | null = null;
  if (env.WEB) {
    // next-auth and the page read these; the server is the only writer of process.env
    process.env.NEXTAUTH_SECRET = env.AUTH_SECRET;
    process.env.NEXTAUTH_URL ??= env.PUBLIC_URL ?? `http://localhost:${env.PORT}`;
    process.env.REUSE_AUTH_CONFIG = JSON.stringify({
      secret: env.AUTH_SECRET,
      demoSignIn: env.DEMO_SIGN_IN,
      oauth:
        env.OAUTH_ISSUER && env.OAUTH_CLIENT_ID && env.OAUTH_CLIENT_SECRET
          ? { issuer: env.OAUTH_ISSUER, clientId: env.OAUTH_CLIENT_ID, clientSecret: env.OAUTH_CLIENT_SECRET, name: env.OAUTH_NAME }
          : null,
      sessionMaxAgeSeconds: env.WEB_SESSION_MAX_AGE_SECONDS,
    });
    // next is CommonJS: under Node's ESM loader its factory sits one `default` deeper
    const mod = (await import('next')) as unknown as { default: NextFactory | { default: NextFactory } };
    const next = typeof mod.default === 'function' ? mod.default : mod.default.default;
    const app = next({ dev, dir: projectRoot(), hostname: 'localhost', port: env.PORT });
    await app.prepare();
    const handle = app.getRequestHandler();
    const upgrade = app.getUpgradeHandler();
    web = { handle: (req, res) => handle(req, res), upgrade: (req, socket, head) => upgrade(req, socket, head), close: () => app.close() };
  }

  const service = await startService({ env, logger, web, mounts: chatMounts() });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    service.close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
