import '@fairway/telemetry/register';
import type { Server } from 'node:http';
import { AuditCheckpointer, parseCheckpointPrivateKey } from '@fairway/audit';
import { TokenVerifier } from '@fairway/auth';
import { createPool, TenantDataRouter } from '@fairway/db';
import {
  addHealthService,
  bindServiceServer,
  clientCredentials,
  createServiceServer,
  FAIRWAY_TRUST_POLICIES,
  loadKeyServiceProto,
  loadTenantCatalogProto,
  shutdownServer,
} from '@fairway/grpc';
import { JobRetention } from '@fairway/job-store';
import { MoveSweeper } from '@fairway/tenant-move';
import { createLogger, createMetricsRegistry, serveMetrics, stopTelemetry } from '@fairway/telemetry';
import { Counter } from 'prom-client';
import { createAdminApp } from './admin-app';
import { catalogServiceHandlers } from './catalog-service';
import { createConsoleApp } from './console/console-app';
import { PrometheusReader } from './console/prometheus';
import { loadControlPlaneConfig } from './config';
import { keyServiceHandlers } from './key-service';
import { SchedulerAdminGateway } from './scheduler-admin-client';
import { TenantCatalog } from './tenant-catalog';
import { connectTenantCache } from './tenant-cache';

/**
 * The admin plane: the only process that holds the database owner role and the key-encryption key.
 * It serves the tenant catalog to tenantctl and data keys to the edge and workers (gRPC, mutual
 * TLS, per-method authorisation), and the operators' admin API on its own port.
 */
async function main(): Promise<void> {
  const config = loadControlPlaneConfig();
  const log = createLogger('control-plane', config.LOG_LEVEL);
  const ownerPool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'fairway-control-plane',
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  // Re-encryption reads and rewrites tenants' values as the application role, under RLS.
  const appPool = createPool({
    connectionString: config.appDatabaseUrl,
    max: 4,
    applicationName: 'fairway-control-plane-data',
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  const data = new TenantDataRouter({
    catalogPool: appPool,
    catalogUrl: config.appDatabaseUrl,
    servers: config.appTenantDbServers,
    applicationName: 'fairway-control-plane-data',
  });
  await data.start();

  const registry = createMetricsRegistry('control-plane');
  const keyCalls = new Counter({
    name: 'fairway_control_plane_key_calls_total',
    help: 'KeyService wraps and unwraps by outcome',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
  const adminRefused = new Counter({
    name: 'fairway_admin_refusals_total',
    help: 'Admin API requests refused by operator authentication',
    labelNames: ['reason'],
    registers: [registry],
  });

  // The edge's cache of tenants' hot reads: invalidated on status changes, purged on deletion.
  const cache = await connectTenantCache(config, registry, log);
  const catalog = new TenantCatalog({ ownerPool, ownerUrl: config.DATABASE_URL, servers: config.TENANT_DB_SERVERS }, log, cache?.cache);
  const server = createServiceServer(config.security, FAIRWAY_TRUST_POLICIES['control-plane']);
  server.addService(loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog.service, catalogServiceHandlers(catalog));
  server.addService(
    loadKeyServiceProto().fairway.keys.v1.KeyService.service,
    keyServiceHandlers(config.keys, (method, outcome) => keyCalls.inc({ method, outcome })),
  );
  addHealthService(server);
  const grpcPort = await bindServiceServer(server, `${config.CONTROL_PLANE_HOST}:${config.CONTROL_PLANE_PORT}`, config.security);

  const scheduler = new SchedulerAdminGateway(config.SCHEDULER_ADMIN_ADDRESS, undefined, clientCredentials(config.security, { expectServer: 'scheduler' }));
  const tokens = new TokenVerifier({ ...config.operatorTokens, cacheTtlMs: config.TOKEN_CACHE_TTL });
  // Live moves between isolation models: this replica runs the moves it starts and resumes any
  // whose runner (on any replica) stopped beating.
  const moveDeps = { ownerPool, ownerUrl: config.DATABASE_URL, servers: config.TENANT_DB_SERVERS };
  const moves = new MoveSweeper(moveDeps, {
    staleAfterMs: config.TENANT_MOVE_STALE_AFTER,
    run: { rowsPerSecond: config.TENANT_MOVE_ROWS_PER_SECOND, maxDuty: config.TENANT_MOVE_MAX_DUTY },
    onFinished: (status) =>
      (status.state === 'done' ? log.info.bind(log) : log.error.bind(log))(
        { tenant: status.tenantId, moveId: status.id, state: status.state, fenceMs: status.fenceMs, error: status.error },
        'tenant move finished',
      ),
    onError: (err, moveId) => log.error({ err, moveId }, 'tenant move stopped; another replica resumes it once its heartbeat is stale'),
  });
  moves.start();
  const adminApp = createAdminApp({
    tokens,
    catalog,
    scheduler,
    ownerPool,
    keys: { provider: config.keys, appPool, data },
    ...(config.backupKeys
      ? {
          backup: {
            ownerPool,
            ownerUrl: config.DATABASE_URL,
            servers: config.TENANT_DB_SERVERS,
            provider: config.keys,
            keyring: config.backupKeys,
          },
        }
      : {}),
    moves: {
      deps: moveDeps,
      sweeper: moves,
      graceMs: config.TENANT_MOVE_GRACE,
      minGraceMs: config.NODE_ENV === 'production' ? 60_000 : 0,
    },
    log,
    onRefusal: (reason) => adminRefused.inc({ reason }),
  });
  const adminServer = await new Promise<Server>((resolve, reject) => {
    const s = adminApp.listen(config.ADMIN_PORT, config.ADMIN_HOST, () => resolve(s));
    s.once('error', reject);
  });
  adminServer.requestTimeout = config.ADMIN_REQUEST_TIMEOUT;
  // The console: the same operator tokens, catalog and scheduler as the admin API, on a port of its own.
  const consolePort = config.CONSOLE_PORT;
  const consoleServer =
    consolePort === undefined
      ? undefined
      : await new Promise<Server>((resolve, reject) => {
          const app = createConsoleApp({
            tokens,
            catalog,
            scheduler,
            ownerPool,
            log,
            onRefusal: (reason) => adminRefused.inc({ reason }),
            prometheus: config.PROMETHEUS_URL === undefined ? undefined : new PrometheusReader(config.PROMETHEUS_URL),
            secureCookies: config.NODE_ENV === 'production',
            adminUrl: `http://${config.ADMIN_HOST}:${config.ADMIN_PORT}`,
          });
          const s = app.listen(consolePort, config.CONSOLE_HOST, () => resolve(s));
          s.once('error', reject);
        });
  if (consoleServer) consoleServer.requestTimeout = config.ADMIN_REQUEST_TIMEOUT;
  // Signed checkpoints of every chain head, outside the database: a chain the owner deletes or cuts
  // back is then detected by `tenantctl audit verify --checkpoints`.
  const checkpoints =
    config.AUDIT_CHECKPOINT_KEY && config.AUDIT_CHECKPOINT_FILE
      ? new AuditCheckpointer(ownerPool, {
          key: parseCheckpointPrivateKey(config.AUDIT_CHECKPOINT_KEY),
          file: config.AUDIT_CHECKPOINT_FILE,
          intervalMs: config.AUDIT_CHECKPOINT_INTERVAL,
          onError: (err) => log.error({ err, file: config.AUDIT_CHECKPOINT_FILE }, 'audit checkpoint not written; retried at the next interval'),
        })
      : undefined;
  if (checkpoints) checkpoints.start();
  else if (config.NODE_ENV === 'production')
    log.warn('AUDIT_CHECKPOINT_KEY and AUDIT_CHECKPOINT_FILE are not set: a deleted or truncated audit chain cannot be detected (docs/security.md)');
  // Finished jobs, their effects and stored results are kept JOB_RETENTION, then deleted in batches (#18).
  const retention = new JobRetention(ownerPool, {
    retentionMs: config.JOB_RETENTION,
    intervalMs: config.JOB_RETENTION_INTERVAL,
    onTick: (removed) => log.info(removed, 'finished jobs past JOB_RETENTION deleted'),
    onError: (err) => log.error({ err }, 'job retention failed; retried at the next interval'),
  });
  retention.start();
  const metrics = config.METRICS_PORT === undefined ? undefined : await serveMetrics(registry, config.METRICS_PORT);
  log.info(
    {
      port: grpcPort,
      address: `${config.CONTROL_PLANE_HOST}:${grpcPort}`,
      adminPort: config.ADMIN_PORT,
      adminUrl: `http://${config.ADMIN_HOST}:${config.ADMIN_PORT}`,
      ...(config.CONSOLE_PORT === undefined ? {} : { consoleUrl: `http://${config.CONSOLE_HOST}:${config.CONSOLE_PORT}/console/` }),
    },
    'ready',
  );

  const stop = async () => {
    await Promise.all([
      shutdownServer(server, config.SHUTDOWN_TIMEOUT),
      new Promise<void>((resolve) => adminServer.close(() => resolve())),
      new Promise<void>((resolve) => (consoleServer ? consoleServer.close(() => resolve()) : resolve())),
    ]);
    scheduler.close();
    // Runs stop at their next step, as after a crash; another replica (or the next start) resumes them.
    await moves.stop();
    await checkpoints?.stop();
    await retention.stop();
    metrics?.close();
    cache?.close();
    await data.close();
    await Promise.all([ownerPool.end(), appPool.end()]);
    await stopTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`control plane failed to start: ${(err as Error).message}`);
  process.exit(1);
});
