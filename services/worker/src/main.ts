import '@fairway/telemetry/register';
import { createPool, onQueryTimeout, ReadReplica, TenantDataRouter } from '@fairway/db';
import { tenantKeyCipher } from '@fairway/records';
import {
  addHealthService,
  bindServiceServer,
  clientCredentials,
  RemoteKeyProvider,
  createServiceServer,
  FAIRWAY_TRUST_POLICIES,
  loadWorkerProto,
  shutdownServer,
  tenantUnaryHandler,
  type WorkerHandlers,
} from '@fairway/grpc';
import {
  BufferedCounter,
  createLogger,
  createMetricsRegistry,
  queryTimeoutCounter,
  replicaMetrics,
  inSpan,
  serveMetrics,
  stopTelemetry,
  tenantLabeller,
} from '@fairway/telemetry';
import { Histogram } from 'prom-client';
import { loadWorkerConfig } from './config';
import { executeJob } from './executor';
import { boundedExecute } from './execute-call';
import { jobStreamHandler } from './job-stream';
import { SyntheticEffects } from './synthetic-effects';
import { WorkerSlots } from './worker-slots';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const log = createLogger('worker', config.LOG_LEVEL);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: `fairway-worker:${config.WORKER_ID}`,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  // The tenants' data goes through its own pools: an export holds a connection for its effects and
  // artifact while it reads records through the router, and drawing both from one pool could leave
  // every connection held by an export waiting for a second one.
  const dataPool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: `fairway-worker-data:${config.WORKER_ID}`,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  const registry = createMetricsRegistry('worker');
  const tenantLabel = tenantLabeller(registry);
  // fairway_query_timeouts_total: every tenant transaction a query time limit ended (libs/db).
  onQueryTimeout(queryTimeoutCounter(registry));
  // Report jobs read on the hot standby when one is configured (DATABASE_REPLICA_URL) and its lag
  // is within REPLICA_MAX_LAG; otherwise on the primary, counted in fairway_replica_fallbacks_total.
  const replica = config.DATABASE_REPLICA_URL
    ? new ReadReplica({
        primaryPool: dataPool,
        replicaPool: createPool({
          connectionString: config.DATABASE_REPLICA_URL,
          max: config.DATABASE_POOL_MAX,
          applicationName: `fairway-worker-replica:${config.WORKER_ID}`,
          onError: (err) => log.warn({ err }, 'idle replica connection failed'),
        }),
        replicaUrl: config.DATABASE_REPLICA_URL,
        maxLagMs: config.REPLICA_MAX_LAG,
        ...replicaMetrics(registry),
      })
    : undefined;
  const data = new TenantDataRouter({
    ...(replica ? { replica } : {}),
    catalogPool: dataPool,
    catalogUrl: config.DATABASE_URL,
    servers: config.TENANT_DB_SERVERS,
    maxConnections: config.TENANT_DB_MAX_CONNECTIONS,
    applicationName: `fairway-worker-tenant-db:${config.WORKER_ID}`,
    onError: (err) => log.warn({ err }, 'tenant data connection failed'),
  });
  await data.start().catch((err: unknown) => log.warn({ err }, 'could not listen for tenant catalog changes; routes expire by TTL'));
  // Records' sensitive fields and job results are sealed with each tenant's own data key, unwrapped
  // by the control plane's KeyService (the worker holds no key-encryption key) and cached briefly.
  const keys = await RemoteKeyProvider.connect({
    address: config.KEY_SERVICE_ADDRESS,
    credentials: clientCredentials(config.security, { expectServer: 'control-plane' }),
  });
  const cipher = tenantKeyCipher(pool, keys);

  // One per job: counted in a plain map, handed to prom-client at each scrape.
  const executed = new BufferedCounter({
    name: 'fairway_worker_jobs_total',
    help: 'Job attempts executed, by tenant, type and outcome',
    labelNames: ['tenant', 'type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'fairway_worker_job_duration_seconds',
    help: 'Job attempt duration',
    labelNames: ['type'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const deps = { pool, data, workerId: config.WORKER_ID, cipher, statementTimeoutMs: config.JOB_STATEMENT_TIMEOUT };
  // The stream's no-op (synthetic) jobs of one turn share one commit of their effects.
  const streamDeps = { ...deps, effects: new SyntheticEffects(pool) };
  // WORKER_CONCURRENCY bounds the jobs running at once, whether they came on a stream or one by one.
  const slots = new WorkerSlots(config.WORKER_CONCURRENCY);
  const handlers: WorkerHandlers = {
    Execute: tenantUnaryHandler(
      boundedExecute(slots, config.WORKER_ID, async (request, tenant, execution) => {
        const started = performance.now();
        const labels = { tenant: tenantLabel.label(tenant.context.tenantId), type: request.type };
        try {
          const outcome = await inSpan(
            'worker.execute',
            { 'tenant.id': tenant.context.tenantId, 'job.id': request.jobId, 'job.type': request.type, 'job.attempt': request.attempt },
            () => executeJob(deps, request, tenant, execution),
          );
          executed.inc({ ...labels, outcome: outcome.applied ? 'applied' : 'duplicate' });
          log.debug({ jobId: request.jobId, attempt: request.attempt, applied: outcome.applied }, 'job executed');
          return { resultJson: JSON.stringify(outcome.result), applied: outcome.applied };
        } catch (err) {
          executed.inc({ ...labels, outcome: 'error' });
          log.warn({ jobId: request.jobId, attempt: request.attempt, err }, 'job attempt failed');
          throw err;
        } finally {
          duration.observe({ type: request.type }, (performance.now() - started) / 1000);
        }
      }),
    ),
    Run: jobStreamHandler({
      capacity: config.WORKER_CONCURRENCY,
      slots,
      workerId: config.WORKER_ID,
      execute: (job, tenant, parent, execution) =>
        inSpan(
          'worker.execute',
          { 'tenant.id': tenant.context.tenantId, 'job.id': job.jobId, 'job.type': job.type, 'job.attempt': job.attempt },
          () => executeJob(streamDeps, job, tenant, execution),
          parent,
        ),
      onAttempt: ({ job, tenantId, outcome, error, durationMs }) => {
        const tenant = tenantLabel.label(tenantId);
        duration.observe({ type: job.type }, durationMs / 1000);
        if (outcome) {
          executed.inc(tenant, job.type, outcome.applied ? 'applied' : 'duplicate');
          // Per job at debug only: at thousands of jobs a second an info line each is most of the cost.
          log.debug({ jobId: job.jobId, attempt: job.attempt, applied: outcome.applied }, 'job executed');
        } else {
          executed.inc(tenant, job.type, 'error');
          log.warn({ jobId: job.jobId, attempt: job.attempt, error }, 'job attempt failed');
        }
      },
    }),
  };

  // Only the scheduler may call a worker, with its certificate: a client cannot reach a worker
  // directly and claim a tenant.
  const server = createServiceServer(config.security, FAIRWAY_TRUST_POLICIES.worker);
  server.addService(loadWorkerProto().fairway.worker.v1.Worker.service, handlers);
  addHealthService(server);
  const port = await bindServiceServer(server, `${config.WORKER_HOST}:${config.WORKER_PORT}`, config.security);
  const metrics = config.METRICS_PORT === undefined ? undefined : await serveMetrics(registry, config.METRICS_PORT);
  log.info({ port, metricsPort: config.METRICS_PORT, address: `${config.WORKER_HOST}:${port}`, capacity: config.WORKER_CONCURRENCY }, 'ready');

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await shutdownServer(server, config.SHUTDOWN_TIMEOUT);
    metrics?.close();
    keys.close();
    await data.close();
    await Promise.all([pool.end(), dataPool.end()]);
    await stopTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`worker failed to start: ${(err as Error).message}`);
  process.exit(1);
});
