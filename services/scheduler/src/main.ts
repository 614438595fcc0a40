import { createPool } from '@fairway/db';
import { createIdempotentProducer, createKafka, ensureTopics, GroupCommitPublisher, topicNames } from '@fairway/kafka';
import { createLogger, createMetricsRegistry, serveMetrics, startTelemetry } from '@fairway/telemetry';
import { Counter, Gauge } from 'prom-client';
import { loadSchedulerConfig } from './config';
import { Dispatcher } from './dispatcher';
import { CommandIngestor } from './ingest';
import { JobStore } from './job-store';
import { WorkerPool } from './worker-pool';

async function main(): Promise<void> {
  startTelemetry('fairway-scheduler');
  const config = loadSchedulerConfig();
  const log = createLogger('scheduler', config.LOG_LEVEL);
  const topics = topicNames(config.FAIRWAY_TOPIC_PREFIX);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'fairway-scheduler',
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  const store = new JobStore(pool);

  const registry = createMetricsRegistry('scheduler');
  const ingested = new Counter({ name: 'fairway_scheduler_ingested_total', help: 'Commands made durable', labelNames: ['tenant'], registers: [registry] });
  const deadLettered = new Counter({ name: 'fairway_scheduler_dead_lettered_total', help: 'Commands sent to the dead-letter topic', registers: [registry] });
  const transitions = new Counter({ name: 'fairway_scheduler_job_transitions_total', help: 'Job state changes', labelNames: ['tenant', 'state'], registers: [registry] });
  const inFlight = new Gauge({ name: 'fairway_scheduler_in_flight', help: 'Jobs running now on this replica', registers: [registry] });

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'fairway-scheduler', logger: log });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();

  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const deadLetters = new GroupCommitPublisher({ producer, topic: topics.commandsDeadLetter });
  const events = new GroupCommitPublisher({ producer, topic: topics.jobEvents });

  const workers = new WorkerPool(config.WORKER_ADDRESSES);
  const dispatcher = new Dispatcher(store, workers, log, {
    slots: config.SCHEDULER_SLOTS,
    jobTimeoutMs: config.JOB_TIMEOUT,
    leaseMarginMs: config.LEASE_MARGIN,
    retryBaseDelayMs: config.RETRY_BASE_DELAY,
    retryMaxDelayMs: config.RETRY_MAX_DELAY,
    onStateChange: (job, state, error) => {
      transitions.inc({ tenant: job.tenantId, state });
      inFlight.set(dispatcher.active);
      // Job events follow the database; a lost event never loses a job (the row is the truth).
      events
        .publish({
          key: job.tenantId,
          value: JSON.stringify({ jobId: job.id, tenantId: job.tenantId, state, attempt: job.attempt, error, at: new Date().toISOString() }),
          headers: { 'fairway-tenant-id': job.tenantId, 'fairway-job-id': job.id },
        })
        .catch((err: unknown) => log.warn({ err, jobId: job.id }, 'job event not published'));
    },
  });

  const ingestor = new CommandIngestor(store, deadLetters, log, () => dispatcher.wake(), {
    onIngested: (tenant, count) => ingested.inc({ tenant }, count),
    onDeadLettered: () => deadLettered.inc(),
  });
  const consumer = kafka.consumer({
    groupId: config.SCHEDULER_GROUP_ID ?? `${config.FAIRWAY_TOPIC_PREFIX}.scheduler`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  // Ready means the consumer group has been joined, not merely that the broker port is open.
  consumer.on(consumer.events.GROUP_JOIN, (event) =>
    log.info({ memberId: event.payload.memberId, assigned: event.payload.memberAssignment, slots: config.SCHEDULER_SLOTS }, 'ready'),
  );

  // Leases of a crashed replica expire and their jobs return to the queue; retries whose back-off
  // has passed become runnable. Both are found here, then the dispatcher is woken.
  const maintenance = setInterval(() => {
    store
      .requeueExpiredLeases()
      .then((requeued) => {
        if (requeued > 0) log.info({ requeued }, 'requeued jobs whose lease expired');
        dispatcher.wake();
      })
      .catch((err: unknown) => log.warn({ err }, 'lease maintenance failed'));
  }, config.MAINTENANCE_INTERVAL);

  await ingestor.run(consumer, topics.commands);
  dispatcher.wake();
  const metrics = config.METRICS_PORT === undefined ? undefined : await serveMetrics(registry, config.METRICS_PORT);
  log.info({ topic: topics.commands, workers: config.WORKER_ADDRESSES }, 'consuming commands');

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    clearInterval(maintenance);
    await consumer.disconnect();
    await dispatcher.stop();
    await Promise.all([deadLetters.close(), events.close()]);
    await producer.disconnect();
    workers.close();
    metrics?.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`scheduler failed to start: ${(err as Error).message}`);
  process.exit(1);
});
