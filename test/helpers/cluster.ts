/** Several real service processes sharing one MySQL database, Redis prefix and Kafka topic prefix. */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { KAFKA_BROKERS } from './services.js';
import { dropDatabase, startChildServer, testEnvVars, uniqueName, type ChildServer } from './server.js';

export interface Cluster {
  dbName: string;
  prefix: string;
  vars: (instance: string) => Record<string, string>;
  nodes: ChildServer[];
  start(instance: string, extra?: Record<string, string>): Promise<ChildServer>;
  stop(): Promise<void>;
}

export async function startCluster(names: string[], extra: Record<string, string> = {}): Promise<Cluster> {
  const dbName = uniqueName('cluster');
  const prefix = `test-${inject('runId')}-${randomBytes(3).toString('hex')}-`;
  const redisPrefix = `test:${inject('runId')}:${randomBytes(3).toString('hex')}:`;
  const vars = (instance: string) =>
    testEnvVars(dbName, {
      KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: '3',
      REDIS_KEY_PREFIX: redisPrefix,
      INSTANCE_ID: instance,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...extra,
    });
  const nodes: ChildServer[] = [];
  const cluster: Cluster = {
    dbName,
    prefix,
    vars,
    nodes,
    async start(instance, more = {}) {
      const node = await startChildServer({ ...vars(instance), ...more }, { timeoutMs: 60_000 });
      nodes.push(node);
      return node;
    },
    /** stops every instance, then drops the cluster's database and Kafka topics */
    async stop() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => null)));
      await dropDatabase(dbName);
      const admin = new Kafka({ clientId: 'test-cluster-cleanup', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    },
  };
  // the first node creates the database and topics; the others join after it
  await cluster.start(names[0]!);
  await Promise.all(names.slice(1).map((n) => cluster.start(n)));
  return cluster;
}
