import { describe, expect, it } from 'vitest';
import { ConfigError, describeEnv, loadEnv } from '../../server/env.js';

const secret = 'x'.repeat(40);

describe('configuration', () => {
  it('starts on the documented local defaults', () => {
    const env = loadEnv({ AUTH_SECRET: secret });
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBe('mysql://root@127.0.0.1:3306/reuse_chat');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.KAFKA_BROKERS).toBeUndefined();
    expect(env.SMTP_URL).toBeUndefined();
    expect(env.defaulted).toContain('PORT');
  });

  it('names the variable and the value in a start-up error', () => {
    expect(() => loadEnv({ AUTH_SECRET: secret, PORT: 'eighty' })).toThrow(ConfigError);
    try {
      loadEnv({ AUTH_SECRET: secret, PORT: 'eighty', DATABASE_URL: 'postgres://x/y', KAFKA_BROKERS: 'kafka' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/PORT: .*"eighty"/);
      expect(message).toMatch(/DATABASE_URL: must be a URL starting with mysql:\/\//);
      expect(message).toMatch(/KAFKA_BROKERS: must be host:port/);
    }
  });

  it('bounds requests by default and keeps the metrics token out of errors and logs', () => {
    const env = loadEnv({ AUTH_SECRET: secret });
    expect(env.HTTP_MAX_BODY_BYTES).toBe(1024 * 1024);
    expect(env.TRPC_MAX_BATCH).toBe(20);
    expect(env.TRUST_PROXY).toBe(false);
    expect(env.METRICS_TOKEN).toBeUndefined();
    expect(() => loadEnv({ AUTH_SECRET: secret, METRICS_TOKEN: 'tiny-token' })).toThrow(/METRICS_TOKEN: must be at least 16 characters$/m);
    const token = 'a-long-enough-metrics-token';
    expect(JSON.stringify(describeEnv(loadEnv({ AUTH_SECRET: secret, METRICS_TOKEN: token })))).not.toContain(token);
  });

  it('bounds STOMP heart-beats by a 1 s floor and a 10 s preference unless told otherwise', () => {
    const env = loadEnv({ AUTH_SECRET: secret });
    expect([env.STOMP_HEARTBEAT_MIN_MS, env.STOMP_HEARTBEAT_MS]).toEqual([1000, 10_000]);
    expect(loadEnv({ AUTH_SECRET: secret, STOMP_HEARTBEAT_MIN_MS: '250' }).STOMP_HEARTBEAT_MIN_MS).toBe(250);
    expect(() => loadEnv({ AUTH_SECRET: secret, STOMP_HEARTBEAT_MIN_MS: '10' })).toThrow(/STOMP_HEARTBEAT_MIN_MS/);
  });

  it('refuses to run in production without AUTH_SECRET', () => {
    expect(() => loadEnv({ NODE_ENV: 'production' })).toThrow(/AUTH_SECRET: required in production/);
  });

  it('refuses a short AUTH_SECRET and never prints it', () => {
    try {
      loadEnv({ AUTH_SECRET: 'short-secret' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/AUTH_SECRET: must be at least 32 characters/);
      expect((err as Error).message).not.toContain('short-secret');
    }
  });

  it('generates and keeps a development secret when none is given', () => {
    const a = loadEnv({});
    const b = loadEnv({});
    expect(a.authSecretSource).toBe('generated');
    expect(a.AUTH_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(b.AUTH_SECRET).toBe(a.AUTH_SECRET);
  });

  it('masks passwords when the configuration is logged', () => {
    const env = loadEnv({ AUTH_SECRET: secret, DATABASE_URL: 'mysql://chat:hunter2@db:3306/reuse', SMTP_URL: 'smtp://u:pw@mail:25' });
    const shown = JSON.stringify(describeEnv(env));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain(':pw@');
    expect(shown).not.toContain(secret);
  });
});
