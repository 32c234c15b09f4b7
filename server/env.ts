/**
 * Configuration: the only module that reads process.env. Every variable is declared and
 * validated here once at start; the rest of the service reads the parsed object.
 * Local defaults are safe for a developer machine and are logged at start (secrets masked).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { projectRoot } from './paths.js';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** public origin of the web page; used by next-auth and the Origin check of cookie upgrades */
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  /** extra origins allowed to open cookie-authenticated sockets, comma separated */
  ALLOWED_ORIGINS: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INSTANCE_ID: z.string().min(1).max(64).optional(),
  /** serve the Next.js web page from this process (off for headless API nodes and tests) */
  WEB: bool.default(true),

  DATABASE_URL: url(['mysql:']).default('mysql://root@127.0.0.1:3306/reuse_chat'),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('reuse-chat:'),
  /** comma separated host:port list; unset → single instance on an in-process bus */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'must be host:port[,host:port…]')
    .optional(),
  KAFKA_CLIENT_ID: z.string().default('reuse-chat'),
  /** prepended to every topic and group name; lets test runs share one broker */
  KAFKA_TOPIC_PREFIX: z.string().default(''),
  KAFKA_PARTITIONS: positiveInt.default(6),
  /** how long room events wait to share one produce request (0 → the next event-loop tick) */
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).max(50).default(2),
  /** unset → mail is written as .eml files under MAIL_DIR */
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_DIR: z.string().default('var/mail'),
  MAIL_FROM: z.string().default('Re:Use Chat <no-reply@reuse.local>'),
  SUPPORT_EMAIL: z.string().email().default('support@reuse.local'),
  MAIL_MAX_ATTEMPTS: positiveInt.default(8),
  MAIL_RETRY_BASE_MS: positiveInt.default(2000),

  AUTH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** lets a local production build (`npm start`) use the generated development secret */
  AUTH_SECRET_LOCAL_FALLBACK: bool.default(false),
  /** the marketplace's OAuth/OIDC provider for the web sign-in (all three, or none) */
  OAUTH_ISSUER: url(['https:', 'http:']).optional(),
  OAUTH_CLIENT_ID: z.string().optional(),
  OAUTH_CLIENT_SECRET: z.string().optional(),
  OAUTH_NAME: z.string().default('Re:Use account'),
  WEB_SESSION_MAX_AGE_SECONDS: positiveInt.default(7 * 24 * 3600),
  /** lifetime of the socket tokens issued to signed-in web users */
  SOCKET_TOKEN_TTL_SECONDS: positiveInt.default(600),
  /** lets the sign-in page's demo provider accept any user name; off in production */
  DEMO_SIGN_IN: bool.optional(),

  STOMP_MAX_FRAME_BYTES: positiveInt.default(64 * 1024),
  STOMP_MAX_HEADERS: positiveInt.default(64),
  STOMP_MAX_SUBSCRIPTIONS: positiveInt.default(100),
  /** the server's preferred heart-beat, both ways: the slowest it offers and accepts (0 = none) */
  STOMP_HEARTBEAT_MS: z.coerce.number().int().min(0).default(10_000),
  /** the fastest heart-beat a client may negotiate, both ways */
  STOMP_HEARTBEAT_MIN_MS: z.coerce.number().int().min(100).default(1_000),
  /** per-connection bytes buffered for a slow reader before it is disconnected */
  SLOW_CONSUMER_BYTES: positiveInt.default(4 * 1024 * 1024),
  SEND_RATE_PER_SECOND: positiveInt.default(20),
  SEND_BURST: positiveInt.default(40),
  INQUIRY_RATE_PER_HOUR: positiveInt.default(10),
  /** open connections one user may hold at once, all transports and instances together */
  USER_MAX_CONNECTIONS: positiveInt.default(20),
  /** messages (and read marks, typing) per second one user may send across all connections */
  USER_SEND_RATE_PER_SECOND: positiveInt.default(30),
  USER_SEND_BURST: positiveInt.default(100),
  /** rooms one user may create per hour (reopening an existing room does not count) */
  USER_ROOMS_PER_HOUR: positiveInt.default(30),
  SESSION_TTL_SECONDS: positiveInt.default(60),
  /** how long an instance trusts a room's member list before asking MySQL again (kept while MySQL is down) */
  ROOM_ACCESS_TTL_MS: positiveInt.default(15_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),

  /** largest request body any HTTP route reads; larger ones get 413 before they are read */
  HTTP_MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** calls one tRPC batch request may hold */
  TRPC_MAX_BATCH: positiveInt.default(20),
  /** behind a reverse proxy: take the client address from the last X-Forwarded-For entry */
  TRUST_PROXY: bool.default(false),
  /** bearer token GET /metrics requires; unset → /metrics answers loopback callers only */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** photos on local disk (relative paths are under the project root) unless S3_BUCKET is set */
  UPLOAD_DIR: z.string().min(1).default('var/uploads'),
  /** largest accepted upload, in bytes; bigger bodies get 413 before they are read in full */
  UPLOAD_MAX_BYTES: positiveInt.default(10 * 1024 * 1024),
  /** largest accepted image, in pixels (width × height): a small file that decodes huge is refused */
  UPLOAD_MAX_PIXELS: positiveInt.default(40_000_000),
  /** how long signed image URLs stay valid at least (they are valid up to twice as long) */
  UPLOAD_URL_TTL_SECONDS: positiveInt.default(3600),
  /** how long after sending a sender may still delete their message */
  MESSAGE_DELETE_WINDOW_SECONDS: positiveInt.default(600),
  /** S3-compatible storage for photos; set the bucket to use it */
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3–63 of a-z 0-9 . -)')
    .optional(),
  /** unset → AWS's own endpoint for S3_REGION */
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** unset (both) → the AWS SDK's default credential chain */
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** path-style addressing (http://host/bucket/key), needed by most self-hosted stores; defaults to on with S3_ENDPOINT */
  S3_FORCE_PATH_STYLE: bool.optional(),
});

export type Env = z.infer<typeof schema> & {
  AUTH_SECRET: string;
  INSTANCE_ID: string;
  DEMO_SIGN_IN: boolean;
  /** which values came from defaults, for the start-up log */
  defaulted: string[];
  authSecretSource: 'env' | 'generated';
};

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads, validates and completes the configuration. Throws ConfigError naming each bad variable. */
export function loadEnv(source: Readonly<Record<string, string | undefined>> = process.env): Env {
  // empty strings count as unset, as in most .env tooling
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.');
        const value = raw[name];
        const shown = value === undefined || /SECRET|PASS|TOKEN/i.test(name) ? '' : ` (got ${JSON.stringify(value)})`;
        return `${name}: ${i.message}${shown}`;
      }),
    );
  }
  const env = parsed.data;
  const oauthSet = [env.OAUTH_ISSUER, env.OAUTH_CLIENT_ID, env.OAUTH_CLIENT_SECRET].filter(Boolean).length;
  if (oauthSet !== 0 && oauthSet !== 3) {
    throw new ConfigError(['OAUTH_ISSUER, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET: set all three or none']);
  }
  const s3Set = [env.S3_ENDPOINT, env.S3_ACCESS_KEY_ID, env.S3_SECRET_ACCESS_KEY, env.S3_FORCE_PATH_STYLE].some((v) => v !== undefined);
  if (s3Set && !env.S3_BUCKET) {
    throw new ConfigError(['S3_BUCKET: required when S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY or S3_FORCE_PATH_STYLE is set']);
  }
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError(['S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither']);
  }
  const defaulted = Object.keys(schema.shape).filter((k) => raw[k] === undefined);

  let authSecret = env.AUTH_SECRET;
  let authSecretSource: Env['authSecretSource'] = 'env';
  if (!authSecret) {
    if (env.NODE_ENV === 'production' && !env.AUTH_SECRET_LOCAL_FALLBACK) {
      throw new ConfigError(['AUTH_SECRET: required in production (at least 32 characters)']);
    }
    authSecret = localSecret();
    authSecretSource = 'generated';
  }
  return {
    ...env,
    AUTH_SECRET: authSecret,
    INSTANCE_ID: env.INSTANCE_ID ?? `${process.pid}-${randomBytes(3).toString('hex')}`,
    DEMO_SIGN_IN: env.DEMO_SIGN_IN ?? (env.NODE_ENV !== 'production' || authSecretSource === 'generated'),
    defaulted,
    authSecretSource,
  };
}

/** A development secret generated once and kept in an ignored local file, so sessions survive restarts. */
function localSecret(): string {
  const file = join(projectRoot(), '.local', 'auth-secret');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved.length >= 32) return saved;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The configuration as it is safe to log: secrets and passwords masked. */
export function describeEnv(env: Env): Record<string, unknown> {
  const mask = (u: string | undefined) => {
    if (!u) return u;
    try {
      const parsed = new URL(u);
      if (parsed.password) parsed.password = '***';
      return parsed.toString();
    } catch {
      return '***';
    }
  };
  return {
    NODE_ENV: env.NODE_ENV,
    HOST: env.HOST,
    PORT: env.PORT,
    INSTANCE_ID: env.INSTANCE_ID,
    WEB: env.WEB,
    DATABASE_URL: mask(env.DATABASE_URL),
    REDIS_URL: mask(env.REDIS_URL),
    REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX,
    KAFKA_BROKERS: env.KAFKA_BROKERS ?? '(unset: in-process bus, single instance)',
    SMTP_URL: env.SMTP_URL ? mask(env.SMTP_URL) : `(unset: mail written to ${env.MAIL_DIR})`,
    SUPPORT_EMAIL: env.SUPPORT_EMAIL,
    METRICS_TOKEN: env.METRICS_TOKEN ? '(set)' : '(unset: /metrics for loopback callers only)',
    UPLOADS: env.S3_BUCKET
      ? `s3://${env.S3_BUCKET} at ${env.S3_ENDPOINT ?? `AWS ${env.S3_REGION}`}`
      : `(S3_BUCKET unset: local disk ${env.UPLOAD_DIR})`,
    UPLOAD_MAX_BYTES: env.UPLOAD_MAX_BYTES,
    AUTH_SECRET: env.authSecretSource === 'generated' ? '(generated, kept in .local/auth-secret)' : '(set)',
    defaults: env.defaulted,
  };
}
