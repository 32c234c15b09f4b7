/**
 * The kafkajs plumbing every Kafka user of this service shares (the room bus, the account-events
 * consumer): the client factory with kafkajs' logs routed into pino, topic creation, and the
 * reconnect loop — single-flight attempts, jittered backoff, and an outage logged loudly once.
 */
import { Kafka, logLevel, type Admin, type logCreator } from 'kafkajs';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';

const RETRY_MIN_MS = 250;
// each failing attempt already spends ≈3 s in kafkajs' own retries, so this keeps recovery within seconds
const RETRY_MAX_MS = 2_000;

/**
 * kafkajs logs into pino. Only warn and above are produced at all (the kafkajs log level is WARN);
 * while `quiet()` says the caller reports the outage itself, kafkajs' per-retry connection
 * errors go to debug so one outage is one loud line, not thousands.
 */
export function pinoLogCreator(logger: Logger, quiet: () => boolean = () => false): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
      const fields = { kafkajs: namespace, ...extra };
      // per-attempt connection chatter is summed up by the caller's own outage line
      const chatter = namespace === 'Connection' || namespace === 'BrokerPool';
      if (chatter || quiet() || level > logLevel.WARN) logger.debug(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else logger.warn(fields, message);
    };
}

/** A kafkajs client for this service's brokers; fails fast per attempt, the callers retry forever. */
export function createKafka(env: Env, logger: Logger, opts: { clientId: string; quiet?: () => boolean }): Kafka {
  if (!env.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is not set');
  return new Kafka({
    clientId: opts.clientId,
    brokers: env.KAFKA_BROKERS.split(','),
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    // a few quick retries inside kafkajs (≈3 s in all); longer outages are the caller's loop
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger, opts.quiet),
  });
}

/** Creates the topics that are missing; topics that exist are left as they are. */
export async function ensureTopics(admin: Admin, topics: string[], partitions: number): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  // createTopics answers false (no throw) when another instance created them first
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
  });
}

export function retryDelay(failures: number): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 10));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export interface ReconnectOptions {
  logger: Logger;
  /** one connection attempt; a throw counts as `lost(err)` */
  attempt(): Promise<void>;
  /** after every attempt: the owner decides whether it is up (`recovered()`) or needs `retry()` */
  afterAttempt(): void;
  /** the loud line of an outage, and the line when it ends */
  outage: string;
  recovery: string;
  /** fields for both lines (brokers, group, queue length…) */
  context(): object;
}

/**
 * Single-flight connection attempts with backoff. An outage is logged once at error level,
 * later failures at debug, and its end once at warn.
 */
export class ReconnectLoop {
  private connecting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;
  private reported = false;

  constructor(private readonly o: ReconnectOptions) {}

  /** true while an outage has been reported and not yet recovered from */
  get down(): boolean {
    return this.reported;
  }

  get attempting(): boolean {
    return this.connecting !== null;
  }

  connect(): Promise<void> {
    this.connecting ??= this.o
      .attempt()
      .catch((err: unknown) => this.lost(err))
      .finally(() => {
        this.connecting = null;
        if (!this.stopped) this.o.afterAttempt();
      });
    return this.connecting;
  }

  /** logs the outage (loudly the first time) without scheduling anything */
  report(err: unknown, fields: object = {}): void {
    if (this.stopped) return;
    if (!this.reported) {
      this.reported = true;
      this.o.logger.error({ err, ...this.o.context(), ...fields }, this.o.outage);
    } else {
      this.o.logger.debug({ err, ...fields }, 'kafka still unreachable');
    }
  }

  /** reports the failure and tries again later */
  lost(err: unknown, fields: object = {}): void {
    this.report(err, fields);
    this.retry();
  }

  retry(): void {
    // while an attempt runs, its completion decides whether another one is needed
    if (this.stopped || this.timer || this.connecting) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, retryDelay(this.failures++));
    this.timer.unref();
  }

  recovered(): void {
    this.failures = 0;
    if (this.reported) this.o.logger.warn(this.o.context(), this.o.recovery);
    this.reported = false;
  }

  /** no more attempts; resolves once the running one (if any) settled */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.connecting?.catch(() => undefined);
  }
}
