/**
 * KafkaRoomBus: the RoomBus across instances, on Kafka.
 *   `${prefix}chat.room-events`   key = room id, value = JSON RoomEnvelope (one room's events keep
 *                                 their order because one key always lands on one partition)
 *   `${prefix}chat.notifications` key = recipient id, value = JSON OfflineNotification, read by the
 *                                 marketplace's push service
 *   `${prefix}chat.reports`       key = room id, value = JSON ModerationReport, read by the
 *                                 marketplace's moderation service
 * Every instance reads every room event through a consumer group of its own
 * (`${prefix}chat-fanout-${INSTANCE_ID}`), starting at the latest offset, and deletes that group
 * when it closes. Each room event carries its producing instance in the record header `origin`;
 * an instance skips its own events on that header, before decoding the value (it delivered them
 * locally when they were committed). They are still fetched: one room's events must share one
 * partition to keep their order, so an instance cannot be kept off the partitions it writes to.
 *
 * Kafka is fan-out here, not the system of record: a message is committed to MySQL before it is
 * published, and a client that missed events resyncs with `x-since` / `history.since` (and the
 * hub fills per-room seq gaps from the database). So this bus favours latency and never makes a
 * caller wait on the broker: `publish()` only queues; the queue goes out as one request per linger
 * window (`KAFKA_LINGER_MS` after the first publish that found it idle), one request in flight.
 * While Kafka is unreachable the queue is bounded (oldest dropped), `status()` is 'down', and the
 * producer, the admin client and the consumer are reconnected in the background.
 * Client setup and the reconnect loop are shared with the account-events consumer (kafka-client.ts).
 *
 * Longer than our other files on purpose: the producer queue, the consumer and the connection
 * state share one outage state (status(), what is queued, what is retried), and the hot path
 * (enqueue → one send per tick → deliverBatch) reads best in one place.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Env } from '../env.js';
import type { Logger } from '../logger.js';
import type { DependencyStatus } from '../presence/presence.js';
import { createKafka, ensureTopics, ReconnectLoop } from './kafka-client.js';
import type { ModerationReport, OfflineNotification, RoomBus, RoomEnvelope } from './room-bus.js';

/** envelopes kept while Kafka is unreachable; older ones are dropped (they are in MySQL) */
const MAX_QUEUED = 10_000;
/**
 * One request carries at most this much, so that no partition's record batch can reach the
 * broker's default `message.max.bytes` (1 MiB) even after a long outage filled the queue.
 */
const MAX_REQUEST_BYTES = 512 * 1024;
const MAX_REQUEST_RECORDS = 2_000;
/** a single record larger than this can never be sent; it is dropped instead of blocking the queue */
const MAX_RECORD_BYTES = 512 * 1024;
/** a record that failed this many sends while the broker answered is given up (poison record) */
const MAX_SEND_ATTEMPTS = 8;
/** how long start() waits for the first connection before carrying on in the background */
const START_WAIT_MS = 6_000;
/** how long close() keeps flushing queued envelopes */
const CLOSE_FLUSH_MS = 2_000;
/** with nothing sent for this long, the broker is probed so status() notices an outage while idle */
const IDLE_PROBE_MS = 5_000;
/** how often the fan-out consumer's offsets are committed */
const COMMIT_EVERY_MS = 5_000;
/** record header naming the instance that produced a room event */
const ORIGIN_HEADER = 'origin';

export function roomEventsTopic(env: Pick<Env, 'KAFKA_TOPIC_PREFIX'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}chat.room-events`;
}

export function notificationsTopic(env: Pick<Env, 'KAFKA_TOPIC_PREFIX'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}chat.notifications`;
}

export function reportsTopic(env: Pick<Env, 'KAFKA_TOPIC_PREFIX'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}chat.reports`;
}

export function fanoutGroupId(env: Pick<Env, 'KAFKA_TOPIC_PREFIX' | 'INSTANCE_ID'>): string {
  return `${env.KAFKA_TOPIC_PREFIX}chat-fanout-${env.INSTANCE_ID}`;
}

/** Decodes a room-events value; null when it is not a RoomEnvelope (checked by hand: this is the hot path). */
/** true when a room-events record was produced by `origin` (its `origin` header), read without decoding the value */
export function producedBy(headers: IHeaders | undefined, origin: Buffer): boolean {
  const h = headers?.[ORIGIN_HEADER];
  return Buffer.isBuffer(h) ? h.equals(origin) : h === origin.toString();
}

export function decodeEnvelope(value: Buffer | null): RoomEnvelope | null {
  if (!value || value.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const e = parsed as Partial<RoomEnvelope>;
  if (typeof e.roomId !== 'string' || typeof e.origin !== 'string') return null;
  if (!Array.isArray(e.members) || !e.members.every((m) => typeof m === 'string')) return null;
  if (e.seq !== undefined && typeof e.seq !== 'number') return null;
  if (typeof e.event !== 'object' || e.event === null || typeof e.event.type !== 'string') return null;
  return e as RoomEnvelope;
}

interface QueuedRecord {
  topic: string;
  message: Message;
  bytes: number;
  attempts: number;
}

export class KafkaRoomBus implements RoomBus {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private consumer: Consumer | null = null;
  private readonly handlers: Array<(envelope: RoomEnvelope) => void> = [];
  private readonly roomTopic: string;
  private readonly notifyTopic: string;
  private readonly reportTopic: string;
  private readonly groupId: string;

  private queue: QueuedRecord[] = [];
  private dropped = 0;
  private flushScheduled = false;
  private readonly ownOrigin: Buffer;
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    void this.flush();
  };
  private flushing: Promise<void> | null = null;

  private producerUp = false;
  private lastSendOk = true;
  private lastSendAt = 0;
  private consumerRunning = false;
  private readonly loop: ReconnectLoop;
  private readonly probeTimer: NodeJS.Timeout;
  /** next offset per partition delivered since the last commit */
  private readonly consumed = new Map<number, string>();
  private readonly commitTimer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly env: Env,
    private readonly logger: Logger,
  ) {
    this.roomTopic = roomEventsTopic(env);
    this.notifyTopic = notificationsTopic(env);
    this.reportTopic = reportsTopic(env);
    this.groupId = fanoutGroupId(env);
    this.ownOrigin = Buffer.from(env.INSTANCE_ID);
    this.loop = new ReconnectLoop({
      logger,
      // single flight: admin + topics → producer → consumer; whatever is still missing is retried
      attempt: () => this.connectOnce(),
      afterAttempt: () => {
        if (this.producerUp && this.consumerRunning) {
          this.loop.recovered();
          this.scheduleFlush();
        } else {
          // a failure during this attempt (or a send that failed meanwhile) left something down
          this.loop.retry();
        }
      },
      outage: `KAFKA IS UNREACHABLE: room events of other instances are not delivered and new ones are queued (up to ${MAX_QUEUED}) until it answers; retrying in the background`,
      recovery: 'kafka is reachable again: room fan-out resumed',
      context: () => ({ brokers: env.KAFKA_BROKERS, queued: this.queue.length }),
    });
    this.kafka = createKafka(env, logger, {
      clientId: `${env.KAFKA_CLIENT_ID}-${env.INSTANCE_ID}`,
      // while not up, this bus reports the outage itself (loudly, once): kafkajs' per-retry errors are debug
      quiet: () => !this.producerUp || this.loop.down || this.closed,
    });
    this.producer = this.kafka.producer({
      // topics are created deliberately at start; a typo'd prefix must not create stray topics
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // one request in flight (see flush) keeps one room's events in order across retries
      maxInFlightRequests: 1,
      idempotent: false,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
    });
    this.admin = this.kafka.admin();
    this.probeTimer = setInterval(() => void this.probeIfIdle(), IDLE_PROBE_MS);
    this.probeTimer.unref();
    this.commitTimer = setInterval(() => void this.commitConsumed(), COMMIT_EVERY_MS);
    this.commitTimer.unref();
  }

  /**
   * Connects (topics, producer, consumer) and resolves — also when Kafka is unreachable: the bus
   * then starts 'down', says so once, and keeps retrying in the background.
   */
  static async start(env: Env, logger: Logger): Promise<KafkaRoomBus> {
    const bus = new KafkaRoomBus(env, logger);
    const connected = bus.loop.connect();
    const waited = await Promise.race([connected.then(() => 'settled' as const), sleep(START_WAIT_MS, 'timeout' as const, { ref: false })]);
    if (waited === 'timeout' && bus.status() !== 'up') {
      logger.warn({ brokers: env.KAFKA_BROKERS, waitedMs: START_WAIT_MS }, 'kafka is not ready yet: starting without it, connecting in the background');
    } else if (bus.status() === 'up') {
      logger.info({ brokers: env.KAFKA_BROKERS, group: bus.groupId, topic: bus.roomTopic }, 'kafka room bus connected');
    }
    return bus;
  }

  // ---------------------------------------------------------------- RoomBus

  publish(envelope: RoomEnvelope): void {
    this.enqueue(this.roomTopic, envelope.roomId, envelope, envelope.origin);
  }

  notify(notification: OfflineNotification): void {
    this.enqueue(this.notifyTopic, notification.recipientId, notification);
  }

  report(report: ModerationReport): void {
    this.enqueue(this.reportTopic, report.roomId, report);
  }

  onEvent(handler: (envelope: RoomEnvelope) => void): void {
    this.handlers.push(handler);
  }

  queueLength(): number {
    return this.queue.length;
  }

  status(): DependencyStatus {
    return this.producerUp && this.lastSendOk ? 'up' : 'down';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    clearInterval(this.commitTimer);
    const stopping = this.loop.stop();

    // what was published before close still reaches the other instances, if Kafka lets it soon
    const deadline = Date.now() + CLOSE_FLUSH_MS;
    while (this.producerUp && (this.queue.length > 0 || this.flushing) && Date.now() < deadline) {
      await Promise.race([this.flushing ?? this.flush(), sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false })]);
    }
    if (this.queue.length > 0) {
      this.logger.warn({ unsent: this.queue.length }, 'closing with room events not sent to kafka (they are stored in MySQL)');
    }
    this.queue = [];

    await stopping;
    const consumer = this.consumer;
    this.consumer = null;
    this.consumerRunning = false;
    await consumer?.disconnect().catch((err) => this.logger.debug({ err }, 'consumer disconnect failed'));
    await this.producer.disconnect().catch((err) => this.logger.debug({ err }, 'producer disconnect failed'));
    this.producerUp = false;
    if (!this.loop.down) {
      // best effort: a group left behind holds no members and expires with its offsets
      await withTimeout(this.admin.deleteGroups([this.groupId]), 2_000).catch((err) =>
        this.logger.debug({ err, group: this.groupId }, 'fan-out consumer group not deleted'),
      );
    }
    await this.admin.disconnect().catch(() => undefined);
  }

  // ---------------------------------------------------------------- producing

  private enqueue(topic: string, key: string, value: RoomEnvelope | OfflineNotification | ModerationReport, origin?: string): void {
    if (this.closed) return;
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json) + Buffer.byteLength(key);
    if (bytes > MAX_RECORD_BYTES) {
      this.logger.error({ topic, key, bytes }, 'record too large for kafka: dropped');
      return;
    }
    const message: Message = origin === undefined ? { key, value: json } : { key, value: json, headers: { [ORIGIN_HEADER]: origin } };
    this.queue.push({ topic, message, bytes, attempts: 0 });
    if (this.queue.length > MAX_QUEUED) this.dropOldest();
    this.scheduleFlush(true);
  }

  private dropOldest(): void {
    const excess = this.queue.length - MAX_QUEUED;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    // one warning per thousand drops: the outage itself was already reported
    if (this.dropped % 1000 === 0) {
      this.logger.warn({ dropped: this.dropped + excess, queued: this.queue.length }, 'kafka queue full: dropping the oldest room events (clients resync from MySQL)');
    }
    this.dropped += excess;
  }

  /**
   * One request per linger window: the publishes of the next `KAFKA_LINGER_MS` join the first, so
   * requests stay few (each costs encoding, a queue entry and a socket write) whatever the rate.
   * Without `linger` (records that already waited for a send in flight, or a reconnect) the
   * request goes out on the next tick. Local subscribers never wait for this.
   */
  private scheduleFlush(linger = false): void {
    if (this.flushScheduled || this.flushing || !this.producerUp) return;
    this.flushScheduled = true;
    if (linger && this.env.KAFKA_LINGER_MS > 0) setTimeout(this.flushNow, this.env.KAFKA_LINGER_MS);
    else setImmediate(this.flushNow);
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.producerUp || this.queue.length === 0) return Promise.resolve();
    this.flushing = this.sendOnce().finally(() => {
      this.flushing = null;
      // what was queued during the send goes out in the next request
      if (this.queue.length > 0) this.scheduleFlush();
    });
    return this.flushing;
  }

  private async sendOnce(): Promise<void> {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < MAX_REQUEST_RECORDS) {
      const r = this.queue[n]!;
      if (n > 0 && bytes + r.bytes > MAX_REQUEST_BYTES) break;
      bytes += r.bytes;
      n++;
    }
    const batch = this.queue.splice(0, n);
    const byTopic = new Map<string, Message[]>();
    for (const r of batch) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push(r.message);
    }
    try {
      await this.producer.sendBatch({
        // acks 1: the leader has it. Waiting for all replicas (-1) buys nothing here — the message
        // is already durable in MySQL, and an event lost in a leader failover shows up as a seq gap
        // that the receiving hub fills from the database — while adding a replication round trip.
        acks: 1,
        timeout: 5_000,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      this.lastSendOk = true;
      this.lastSendAt = Date.now();
    } catch (err) {
      this.lastSendOk = false;
      // back to the front, in order; records that keep failing while the broker answers are dropped
      const retry = batch.filter((r) => ++r.attempts < MAX_SEND_ATTEMPTS);
      if (retry.length < batch.length) {
        this.logger.error({ err, dropped: batch.length - retry.length }, 'kafka refused room events repeatedly: dropped');
      }
      this.queue = retry.concat(this.queue);
      this.dropOldest();
      this.connectionLost(err, 'send');
    }
  }

  // ---------------------------------------------------------------- connection

  /** never throws: failures are reported through connectionLost */
  private async connectOnce(): Promise<void> {
    if (this.closed) return;
    try {
      await this.admin.connect();
      await ensureTopics(this.admin, [this.roomTopic, this.notifyTopic, this.reportTopic], this.env.KAFKA_PARTITIONS);
      if (!this.producerUp) {
        await this.producer.connect();
        this.producerUp = true;
        // a fresh connection is evidence enough; the next send confirms it
        this.lastSendOk = true;
        this.lastSendAt = Date.now();
        this.scheduleFlush();
      }
    } catch (err) {
      this.connectionLost(err, 'connect');
      return;
    }
    if (this.consumerRunning || this.closed) return;
    try {
      await this.startConsumer();
    } catch (err) {
      this.connectionLost(err, 'consumer');
    }
  }

  private connectionLost(err: unknown, during: string): void {
    if (this.closed) return;
    this.loop.report(err, { during });
    if (during !== 'consumer') {
      this.producerUp = false;
      void this.producer.disconnect().catch(() => undefined);
    }
    this.loop.retry();
  }

  /** while nothing is sent, a metadata request tells whether the broker still answers */
  private async probeIfIdle(): Promise<void> {
    if (Date.now() - this.lastSendAt < IDLE_PROBE_MS) return;
    await this.probe();
  }

  private async probe(): Promise<void> {
    if (this.closed || !this.producerUp || this.flushing || this.loop.attempting) return;
    try {
      await this.admin.fetchTopicMetadata({ topics: [this.roomTopic] });
      this.lastSendAt = Date.now();
    } catch (err) {
      this.lastSendOk = false;
      this.connectionLost(err, 'probe');
    }
  }

  // ---------------------------------------------------------------- consuming

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      // the broker answers a fetch as soon as one byte is there (minBytes 1), so the long poll
      // adds no latency; a short one only burns CPU in the broker and here polling an idle topic
      maxWaitTimeInMs: 500,
      minBytes: 1,
      // the group has exactly one member (this instance): short timeouts cost nothing
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.consumer !== consumer) return;
      // kafkajs restarts itself after retriable errors (usually a lost broker: probe it now, so
      // status() and the log say so without waiting for a send); after the others it stays stopped
      if (payload.restart) {
        void this.probe();
        return;
      }
      this.consumerRunning = false;
      this.consumer = null;
      void consumer.disconnect().catch(() => undefined);
      this.connectionLost(payload.error, 'consumer');
    });
    // resolves on the first completed fetch: the offsets are then resolved to "latest", so
    // anything published after start() returned is received
    const positioned = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.FETCH, () => {
        remove();
        resolve();
      });
    });
    // current before run(): a failed group join inside run() surfaces only as a CRASH event
    this.consumer = consumer;
    this.consumerRunning = true;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.roomTopic], fromBeginning: false });
      await consumer.run({
        // kafkajs' auto-commit sends an OffsetCommit after every batch, in the fetch loop: a
        // round trip added to every hop. The group starts at the latest offset and is deleted on
        // close, so offsets only matter for kafkajs' own restarts: committed every few seconds
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: (payload) => this.deliverBatch(payload),
      });
    } catch (err) {
      if (this.consumer === consumer) {
        this.consumer = null;
        this.consumerRunning = false;
      }
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    await Promise.race([positioned, sleep(5_000, undefined, { ref: false })]);
  }

  private async deliverBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    // handlers are synchronous and quick, so the whole batch is delivered before the offset
    // moves on (eachBatchAutoResolve); stopping half-way would skip the rest on resolve
    const own = this.ownOrigin;
    for (const message of batch.messages) {
      if (producedBy(message.headers, own)) continue;
      const envelope = decodeEnvelope(message.value);
      if (!envelope) {
        this.logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset }, 'malformed room event skipped');
        continue;
      }
      for (const handler of this.handlers) {
        try {
          handler(envelope);
        } catch (err) {
          // one failing subscriber must not make kafkajs re-deliver the batch to everyone
          this.logger.error({ err, roomId: envelope.roomId }, 'room event handler failed');
        }
      }
    }
    this.consumed.set(batch.partition, (BigInt(batch.lastOffset()) + 1n).toString());
    await heartbeat();
  }

  /** commits the offsets delivered since the last commit (off the fetch loop) */
  private async commitConsumed(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || !this.consumerRunning || this.consumed.size === 0) return;
    const offsets = [...this.consumed].map(([partition, offset]) => ({ topic: this.roomTopic, partition, offset }));
    this.consumed.clear();
    await consumer.commitOffsets(offsets).catch((err) => this.logger.debug({ err }, 'fan-out offsets not committed'));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    sleep(ms, undefined, { ref: false }).then(() => {
      throw new Error(`timed out after ${ms} ms`);
    }),
  ]);
}
