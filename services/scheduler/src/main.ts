import '@fairway/telemetry/register';
import { createPool } from '@fairway/db';
import { addHealthService, bindServiceServer, createServiceServer, FAIRWAY_TRUST_POLICIES, loadSchedulerAdminProto, shutdownServer } from '@fairway/grpc';
import { createIdempotentProducer, createKafka, ensureTopics, GroupCommitPublisher, JobEventLog, topicNames } from '@fairway/kafka';
import { createLogger, createMetricsRegistry, serveMetrics, setTenantGauge, stopTelemetry } from '@fairway/telemetry';
import { quotaMetricValues } from '@fairway/quota';
import { addSchedulerAdmin, schedulerAdminHandlers } from './admin';
import { CatalogListener } from './catalog-listener';
import { loadSchedulerConfig } from './config';
import { FairDispatcher } from './fair-dispatcher';
import { CommandIngestor } from './ingest';
import { JobStore } from './job-store';
import { schedulerMetrics, throttleReason } from './metrics';
import { createPolicy, slotsForCapacity } from './policy';
import { WorkerPools } from './worker-pool';

async function main(): Promise<void> {
  const config = loadSchedulerConfig();
  const log = createLogger('scheduler', config.LOG_LEVEL).child({ replica: config.REPLICA_ID });
  const topics = topicNames(config.FAIRWAY_TOPIC_PREFIX);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: `fairway-scheduler:${config.REPLICA_ID}`,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  const store = new JobStore(pool, config.REPLICA_ID);
  const registry = createMetricsRegistry('scheduler');
  const metrics = schedulerMetrics(registry);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `fairway-scheduler-${config.REPLICA_ID}`, logger: log });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  const [eventsTopic] = (await admin.fetchTopicMetadata({ topics: [topics.jobEvents] })).topics;
  await admin.disconnect();
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const deadLetters = new GroupCommitPublisher({ producer, topic: topics.commandsDeadLetter });
  const eventPublisher = new GroupCommitPublisher({ producer, topic: topics.jobEvents });
  const events = new JobEventLog({
    publisher: eventPublisher,
    partitions: Math.max(1, eventsTopic?.partitions.length ?? 1),
    lingerMs: config.JOB_EVENTS_LINGER,
    onError: (err, count) => log.warn({ err, events: count }, 'job events not published'),
  });

  // Tiers given as shares follow the capacity the connected workers advertise.
  const shares = Object.fromEntries(Object.entries(config.tiers).map(([name, tier]) => [name, 'share' in tier ? tier.share : undefined]));
  const sharedTiers = Object.values(shares).some((share) => share !== undefined);
  let resize: (total: number) => void = () => undefined;
  const workers = new WorkerPools(config.workerPools, config.security, {
    streamsPerAddress: config.WORKER_STREAMS,
    onCapacity: (capacity) => {
      metrics.workerCapacity.set(capacity.total);
      log.info({ capacity: capacity.total, workers: capacity.workers.map((w) => `${w.workerId}@${w.address}:${w.capacity}`) }, 'worker capacity changed');
      if (sharedTiers && capacity.total > 0) resize(capacity.total);
    },
    onStreamError: (address, err) => log.warn({ address, err: err.message }, 'worker stream failed; reconnecting'),
  });
  const dispatcher = new FairDispatcher(
    createPolicy(config.SCHEDULER_POLICY, config.tiers),
    store,
    workers,
    log,
    {
      window: config.SCHEDULER_WINDOW,
      claimAhead: config.SCHEDULER_CLAIM_AHEAD,
      jobTimeoutMs: config.JOB_TIMEOUT,
      leaseMarginMs: config.LEASE_MARGIN,
      retryBaseDelayMs: config.RETRY_BASE_DELAY,
      retryMaxDelayMs: config.RETRY_MAX_DELAY,
    },
    {
      onStateChange: (job, state, error) => {
        metrics.transitions.inc(metrics.tenant.label(job.tenantId), state);
        metrics.inFlight.set(dispatcher.active);
        // Job events follow the database; a lost event never loses a job (the row is the truth).
        events.publish({ jobId: job.id, tenantId: job.tenantId, state, attempt: job.attempt, error, at: new Date().toISOString() });
      },
      onDispatched: (job, tier, waitMs) => {
        metrics.dispatched.inc(metrics.tenant.label(job.tenantId), tier);
        if (job.attempt === 1) metrics.wait.observe({ tenant: metrics.tenant.label(job.tenantId) }, Math.max(0, waitMs) / 1000);
      },
      onQuota: (quota) => {
        if ('removed' in quota) {
          metrics.quotas.remove(quota.tenantId);
          return;
        }
        metrics.quotas.set(quota.tenantId, quotaMetricValues(quota));
      },
    },
  );

  resize = (total) => {
    const slots = slotsForCapacity(config.tiers, total);
    for (const [tier, n] of Object.entries(slots)) dispatcher.setTierSlots(tier, n);
    log.info({ capacity: total, slots }, "tiers resized to the workers' capacity");
  };
  workers.start();

  // Live quotas: loaded once, then followed through LISTEN/NOTIFY; a reconnect reloads them all.
  const reloadQuotas = async (tenantId?: string) => {
    const quotas = await store.loadQuotas(tenantId);
    for (const quota of quotas) dispatcher.applyQuota(quota);
    if (tenantId && quotas.length === 0) dispatcher.clearQuota(tenantId);
  };
  await reloadQuotas();
  const listener = new CatalogListener(config.DATABASE_URL, log, {
    onQuota: (tenantId) => void reloadQuotas(tenantId).catch((err: unknown) => log.warn({ err, tenant: tenantId }, 'quota reload failed')),
    onTenantStatus: (tenantId) =>
      void store
        .tenantStatuses([tenantId])
        .then((statuses) => dispatcher.tenantStatusChanged(tenantId, statuses.get(tenantId) ?? 'deleted'))
        .catch((err: unknown) => log.warn({ err, tenant: tenantId }, 'tenant status reload failed')),
    onResync: () => void reloadQuotas().catch((err: unknown) => log.warn({ err }, 'quota reload failed')),
  });
  await listener.start();

  const ingestor = new CommandIngestor(store, deadLetters, log, (jobs) => dispatcher.ingested(jobs), {
    onIngested: (tenant, count) => metrics.ingested.inc({ tenant: metrics.tenant.label(tenant) }, count),
    onDeadLettered: () => metrics.deadLettered.inc(),
    onLag: (partition, lag) => metrics.ingestLag.set({ partition: String(partition) }, lag),
  });
  const consumer = kafka.consumer({
    groupId: config.SCHEDULER_GROUP_ID ?? `${config.FAIRWAY_TOPIC_PREFIX}.scheduler`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    // How long the broker holds an empty fetch. A command that arrives meanwhile is answered at
    // once (minBytes 1), so this costs no latency; it only sets how often an idle consumer asks
    // again. A bare kafkajs consumer on six idle partitions (2026-12-07, two
    // 15-s runs each) cost 67-77 ms of its CPU and 43-47 ms of the broker's a second at 50 ms,
    // 38-55 and 20-26 at 500 ms. Heartbeats still go every second between fetches.
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  // Ready means the consumer group has been joined and the queues of the assigned partitions are
  // rebuilt from PostgreSQL, not merely that the broker port is open.
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const partitions = event.payload.memberAssignment[topics.commands] ?? [];
    metrics.ownedPartitions.set(partitions.length);
    dispatcher.assign(partitions).then(
      () => log.info({ memberId: event.payload.memberId, partitions }, 'ready'),
      (err: unknown) => log.error({ err }, 'could not rebuild the queues of the assigned partitions'),
    );
  });

  const maintenance = setInterval(() => {
    dispatcher.maintain().catch((err: unknown) => log.warn({ err }, 'maintenance failed'));
    const counts = [...dispatcher.tenantCounts()];
    setTenantGauge(
      metrics.queueDepth,
      metrics.tenant,
      counts.map(([tenant, c]) => [tenant, c.queued] as const),
    );
    setTenantGauge(
      metrics.tenantInFlight,
      metrics.tenant,
      counts.map(([tenant, c]) => [tenant, c.running] as const),
    );
    for (const [tenant, c] of counts) {
      if (c.queued === 0) continue;
      const reason = throttleReason(dispatcher.waitState(tenant));
      if (reason) metrics.throttled.inc({ tenant: metrics.tenant.label(tenant), reason });
    }
  }, config.MAINTENANCE_INTERVAL);
  const health = setInterval(() => {
    workers
      .checkHealth()
      .then((down) => {
        if (down.length > 0) log.warn({ down }, 'workers out of rotation (health check)');
      })
      .catch(() => undefined);
  }, config.HEALTH_CHECK_INTERVAL);
  await workers.checkHealth();

  const adminServer = createServiceServer(config.security, FAIRWAY_TRUST_POLICIES.scheduler);
  addSchedulerAdmin(
    adminServer,
    loadSchedulerAdminProto().fairway.scheduler.v1.SchedulerAdmin.service,
    schedulerAdminHandlers(store, dispatcher, config.REPLICA_ID, () => ({ ...workers.capacity(), shares })),
  );
  addHealthService(adminServer);
  await bindServiceServer(adminServer, `${config.SCHEDULER_ADMIN_HOST}:${config.SCHEDULER_ADMIN_PORT}`, config.security);

  await ingestor.run(consumer, topics.commands, config.SCHEDULER_INGEST_CONCURRENCY);
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await serveMetrics(registry, config.METRICS_PORT);
  log.info(
    {
      topic: topics.commands,
      policy: config.SCHEDULER_POLICY,
      tiers: dispatcher.tierUsage(),
      workers: config.workerPools,
      admin: `${config.SCHEDULER_ADMIN_HOST}:${config.SCHEDULER_ADMIN_PORT}`,
    },
    'consuming commands',
  );

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    clearInterval(maintenance);
    clearInterval(health);
    await consumer.disconnect();
    await dispatcher.stop();
    await listener.stop();
    await events.flush();
    await Promise.all([deadLetters.close(), eventPublisher.close()]);
    await producer.disconnect();
    await shutdownServer(adminServer, 2_000);
    workers.close();
    metricsServer?.close();
    await pool.end();
    await stopTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`scheduler failed to start: ${(err as Error).message}`);
  process.exit(1);
});
