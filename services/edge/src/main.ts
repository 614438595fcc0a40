import type { Server } from 'node:http';
import { createPool } from '@fairway/db';
import { createIdempotentProducer, createKafka, ensureTopics, GroupCommitPublisher, topicNames } from '@fairway/kafka';
import { createLogger, createMetricsRegistry, serveMetrics, startTelemetry } from '@fairway/telemetry';
import { Counter, Histogram } from 'prom-client';
import { createEdgeApp } from './app';
import { loadEdgeConfig } from './config';
import { TenantDirectory } from './tenant-directory';

async function main(): Promise<void> {
  startTelemetry('fairway-edge');
  const config = loadEdgeConfig();
  const log = createLogger('edge', config.LOG_LEVEL);
  const topics = topicNames(config.FAIRWAY_TOPIC_PREFIX);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'fairway-edge',
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });

  const registry = createMetricsRegistry('edge');
  const accepted = new Counter({ name: 'fairway_edge_commands_accepted_total', help: 'Commands acknowledged by Kafka and answered 202', labelNames: ['tenant'], registers: [registry] });
  const refused = new Counter({ name: 'fairway_edge_auth_refusals_total', help: 'Requests refused by tenant resolution or authentication', labelNames: ['reason', 'tenant'], registers: [registry] });
  const sends = new Histogram({ name: 'fairway_edge_kafka_send_seconds', help: 'Duration of one group-commit send', labelNames: ['outcome'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry] });

  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: 'fairway-edge',
    logger: log,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  // Idempotent producer, acks from all in-sync replicas: a retried send never duplicates a command.
  const producer = createIdempotentProducer(kafka);
  let connected = false;
  producer.on(producer.events.CONNECT, () => (connected = true));
  producer.on(producer.events.DISCONNECT, () => (connected = false));
  await producer.connect();
  const publisher = new GroupCommitPublisher({
    producer,
    topic: topics.commands,
    sendTimeoutMs: config.EDGE_PUBLISH_TIMEOUT,
    onSend: (_size, ms, error) => sends.observe({ outcome: error ? 'error' : 'ok' }, ms / 1000),
  });

  const app = createEdgeApp({
    publisher,
    pool,
    log,
    bodyLimit: config.EDGE_BODY_LIMIT,
    auth: {
      secret: new TextEncoder().encode(config.JWT_SECRET),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      tenants: new TenantDirectory(pool, config.TENANT_CACHE_TTL),
    },
    onRefusal: (reason, tenant) => refused.inc({ reason, tenant: tenant ?? '_none' }),
    onAccepted: (tenant) => accepted.inc({ tenant }),
    isReady: () => connected,
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.EDGE_PORT, config.EDGE_HOST, () => resolve(s));
    s.once('error', reject);
  });
  server.requestTimeout = config.EDGE_REQUEST_TIMEOUT;
  server.keepAliveTimeout = 65_000;
  const metrics = config.METRICS_PORT === undefined ? undefined : await serveMetrics(registry, config.METRICS_PORT);
  log.info({ port: config.EDGE_PORT, metricsPort: config.METRICS_PORT, url: `http://${config.EDGE_HOST}:${config.EDGE_PORT}` }, 'ready');

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await publisher.close();
    await producer.disconnect();
    metrics?.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`edge failed to start: ${(err as Error).message}`);
  process.exit(1);
});
