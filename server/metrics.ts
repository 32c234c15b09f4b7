/**
 * The service's Prometheus metrics: one registry per service instance, built in the
 * composition root and handed to the modules that count something. Per-message work is one
 * counter increment or histogram observation with no per-room or per-user labels; gauges
 * that mirror state (connections, dependencies, the Kafka queue) are read only when scraped.
 *
 * Adding a count elsewhere is one line: `metrics.limitRefusals.inc({ limit: 'rooms_per_hour' })`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Transport = 'stomp' | 'socketio';
export type DependencyName = 'mysql' | 'redis' | 'kafka' | 'smtp';
export type DependencyState = 'up' | 'down' | 'embedded';

/** latency buckets in seconds: 1 ms … 10 s */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];
const TRANSPORTS: readonly Transport[] = ['stomp', 'socketio'];
/** the limits counted today; others appear when first counted */
const KNOWN_LIMITS = ['body_size', 'trpc_batch', 'send_rate', 'inquiry_address', 'inquiry_user', 'user_connections', 'user_send_rate', 'rooms_per_hour'] as const;

export class Metrics {
  readonly registry = new Registry();

  /** messages newly committed to MySQL (repeats of a clientMsgId are not counted again) */
  readonly messagesStored = new Counter({
    name: 'chat_messages_stored_total',
    help: 'Messages committed to MySQL',
    registers: [this.registry],
  });

  readonly storeBatchSize = new Histogram({
    name: 'chat_store_batch_size',
    help: 'Messages per group-commit transaction',
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });

  /** from a SEND (or message:send) reaching the pipeline to its durable store, i.e. the RECEIPT */
  readonly receiptLatency = new Histogram({
    name: 'chat_receipt_latency_seconds',
    help: 'Time from a message send to its durable store (when the RECEIPT/ack goes out)',
    labelNames: ['transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** from a message's commit time (its createdAt) to its hand-over to this instance's subscribers */
  readonly deliveryLatency = new Histogram({
    name: 'chat_delivery_latency_seconds',
    help: 'Time from a message being stored to its delivery to local subscribers; path=local|bus',
    labelNames: ['path'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** refusals by the limit that refused: body_size, trpc_batch, inquiry_address, inquiry_user, … */
  readonly limitRefusals = new Counter({
    name: 'chat_limit_refusals_total',
    help: 'Requests refused by an abuse limit, by limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly slowConsumerCutoffs = new Counter({
    name: 'chat_slow_consumer_cutoffs_total',
    help: 'Connections cut because they stopped reading',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  /** the receipt series of each transport, bound once so the hot path passes no label object */
  readonly receipt = {
    stomp: this.receiptLatency.labels({ transport: 'stomp' }),
    socketio: this.receiptLatency.labels({ transport: 'socketio' }),
  };
  private readonly localDelivery = this.deliveryLatency.labels({ path: 'local' });
  private readonly busDelivery = this.deliveryLatency.labels({ path: 'bus' });

  private readonly connectionSources = new Map<Transport, () => number>();
  private dependencySource: (() => Promise<Record<DependencyName, DependencyState>>) | null = null;
  private busQueueSource: (() => number) | null = null;

  constructor() {
    // process CPU/memory/GC and the event-loop lag (nodejs_eventloop_lag_*)
    collectDefaultMetrics({ register: this.registry });
    // known series start at 0, so rate() and increase() see their first event
    for (const limit of KNOWN_LIMITS) this.limitRefusals.inc({ limit }, 0);
    for (const transport of TRANSPORTS) {
      this.slowConsumerCutoffs.inc({ transport }, 0);
      this.receiptLatency.zero({ transport });
    }
    for (const path of ['local', 'bus']) this.deliveryLatency.zero({ path });

    const sources = this.connectionSources;
    new Gauge({
      name: 'chat_connections',
      help: 'Open client connections by transport',
      labelNames: ['transport'] as const,
      registers: [this.registry],
      collect() {
        for (const [transport, count] of sources) this.set({ transport }, count());
      },
    });

    const self = this;
    new Gauge({
      name: 'chat_dependency_up',
      help: 'Dependency state: 1 up, 0 down, -1 embedded (running without it)',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        if (!self.dependencySource) return;
        const states = await self.dependencySource();
        for (const [dependency, state] of Object.entries(states)) this.set({ dependency }, state === 'up' ? 1 : state === 'down' ? 0 : -1);
      },
    });

    new Gauge({
      name: 'chat_bus_queue_length',
      help: 'Room events waiting to be produced to Kafka (grows while Kafka is slow or down)',
      registers: [this.registry],
      collect() {
        this.set(self.busQueueSource?.() ?? 0);
      },
    });
  }

  /** the live connection count of one transport, read when scraped */
  countConnections(transport: Transport, count: () => number): void {
    this.connectionSources.set(transport, count);
  }

  /** dependency states, read when scraped */
  watchDependencies(states: () => Promise<Record<DependencyName, DependencyState>>): void {
    this.dependencySource = states;
  }

  watchBusQueue(length: () => number): void {
    this.busQueueSource = length;
  }

  /** one committed batch: count, batch size, and the local hand-over that follows at once */
  stored(messages: ReadonlyArray<{ createdAt: Date }>): void {
    if (messages.length === 0) return;
    this.messagesStored.inc(messages.length);
    this.storeBatchSize.observe(messages.length);
    const now = Date.now();
    for (const m of messages) this.localDelivery.observe(Math.max(0, now - m.createdAt.getTime()) / 1000);
  }

  /** a message event from another instance, about to be handed to local subscribers */
  deliveredFromBus(event: { type: string; createdAt?: string }): void {
    if (event.type !== 'message' || !event.createdAt) return;
    // instances' clocks may differ a little: a negative age counts as zero
    this.busDelivery.observe(Math.max(0, Date.now() - Date.parse(event.createdAt)) / 1000);
  }

  /** the Prometheus text exposition */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** seconds since a start taken with performance.now() */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
