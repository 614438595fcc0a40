import '@fairway/telemetry/register';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { createPool, onQueryTimeout, ReadReplica, TenantDataRouter } from '@fairway/db';
import { clientCredentials, RemoteKeyProvider } from '@fairway/grpc';
import { tenantKeyCipher } from '@fairway/records';
import { createKafka, ensureTopics, startCommandPublisher, topicNames } from '@fairway/kafka';
import { createLogger, createMetricsRegistry, queryTimeoutCounter, replicaMetrics, serveMetrics, stopTelemetry, tenantLabeller } from '@fairway/telemetry';
import { Counter, Histogram } from 'prom-client';
import { appendAudit, AuthFailureAuditor } from '@fairway/audit';
import { AdmissionController } from './admission';
import { PgApiKeyLookup } from './api-keys';
import { createEdgeApp } from './app';
import { loadEdgeConfig } from './config';
import { RedisIdempotencyStore } from './idempotency';
import { TenantDirectory } from './tenant-directory';
import { TenantLimits } from './tenant-limits';
import { TokenVerifier } from '@fairway/auth';
import { TenantCache, tenantCacheOptions } from '@fairway/tenant-cache';

function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
}

async function main(): Promise<void> {
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
  const tenantLabel = tenantLabeller(registry);
  // fairway_query_timeouts_total: every tenant transaction a query time limit ended (libs/db).
  onQueryTimeout(queryTimeoutCounter(registry));
  const accepted = new Counter({
    name: 'fairway_edge_commands_accepted_total',
    help: 'Commands acknowledged by Kafka and answered 202',
    labelNames: ['tenant'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'fairway_edge_auth_refusals_total',
    help: 'Requests refused by tenant resolution, authentication or limits (reason: no-credential, bad-token, unknown-tenant, header-mismatch, rate-limit, ...)',
    labelNames: ['reason', 'code', 'tenant'],
    registers: [registry],
  });
  const limiterFallbacks = new Counter({
    name: 'fairway_edge_limiter_fallbacks_total',
    help: 'Admissions decided per replica because Redis could not be reached',
    registers: [registry],
  });
  const sends = new Histogram({
    name: 'fairway_edge_kafka_send_seconds',
    help: 'Duration of one group-commit send',
    labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });

  // Auto-pipelining folds the admission scripts of concurrent requests into one write per tick; no
  // offline queue and a command timeout, so a Redis outage becomes a fast per-replica fallback.
  const redis = new Redis(config.REDIS_URL, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  await redis.connect().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'redis not reachable at start; limits fall back to per replica'));

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'fairway-edge', logger: log });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  // Idempotent producer, acks from all in-sync replicas: a retried send never duplicates a command.
  // Group commit (one send in flight, the next batch accumulating), each send's commands coalesced
  // into one record per tenant; on the HTTP thread unless EDGE_KAFKA_THREAD moves it to its own.
  const publisher = await startCommandPublisher({
    brokers: config.KAFKA_BROKERS,
    clientId: 'fairway-edge',
    topic: topics.commands,
    thread: config.EDGE_KAFKA_THREAD,
    sendTimeoutMs: config.EDGE_PUBLISH_TIMEOUT,
    logger: log,
    onSend: (_size, ms, error) => sends.observe({ outcome: error ? 'error' : 'ok' }, ms / 1000),
    // Without its Kafka thread the edge can accept nothing: exit, and let the supervisor restart it.
    onThreadExit: (err) => {
      log.fatal({ err }, 'the Kafka thread stopped; exiting so this replica is restarted');
      process.exit(1);
    },
  });

  // Authentication failures are audited in aggregate (one entry per reason per interval, with a
  // count and sample addresses), through audit_append: a flood of bad credentials writes no row each.
  const authFailures = new AuthFailureAuditor({
    append: (entry) => appendAudit(pool, entry),
    intervalMs: config.AUTH_FAILURE_AUDIT_INTERVAL,
    actor: 'edge',
    onError: (err) => log.warn({ err }, 'authentication failures not audited; kept for the next interval'),
  });
  authFailures.start();
  const tokens = new TokenVerifier({ ...config.tokens, cacheTtlMs: config.TOKEN_CACHE_TTL });
  // Hot reads (catalog entries, record lookups, final job status) through Redis, keyed by the
  // request's tenant scope; with Redis down they fail open to PostgreSQL (docs/data-isolation.md).
  const cache = config.REDIS_CACHE_ENABLED
    ? new TenantCache(redis, {
        ...tenantCacheOptions(config),
        registry,
        onError: (err, operation) => log.warn({ err: err.message, operation }, 'tenant cache: redis failed; reading from PostgreSQL'),
      })
    : undefined;
  const tenants = new TenantDirectory(pool, config.TENANT_CACHE_TTL, cache);
  // GET /v1/jobs reads on the hot standby when one is configured and within REPLICA_MAX_LAG;
  // fairway_replica_fallbacks_total counts the lists that ran on the primary instead.
  const reads = config.DATABASE_REPLICA_URL
    ? new ReadReplica({
        primaryPool: pool,
        replicaPool: createPool({
          connectionString: config.DATABASE_REPLICA_URL,
          max: config.DATABASE_POOL_MAX,
          applicationName: 'fairway-edge-replica',
          onError: (err) => log.warn({ err }, 'idle replica connection failed'),
        }),
        replicaUrl: config.DATABASE_REPLICA_URL,
        maxLagMs: config.REPLICA_MAX_LAG,
        ...replicaMetrics(registry),
      })
    : undefined;
  const data = new TenantDataRouter({
    catalogPool: pool,
    catalogUrl: config.DATABASE_URL,
    servers: config.TENANT_DB_SERVERS,
    applicationName: 'fairway-edge-data',
  });
  await data.start();
  // The edge holds no key-encryption key: tenants' data keys are unwrapped by the control plane's
  // KeyService over mutual TLS (authorised per tenant) and cached briefly here.
  const keys = await RemoteKeyProvider.connect({
    address: config.KEY_SERVICE_ADDRESS,
    credentials: clientCredentials(config.security, { expectServer: 'control-plane' }),
  });
  const app = createEdgeApp({
    publisher,
    pool,
    log,
    bodyLimit: config.EDGE_BODY_LIMIT,
    ...(config.EDGE_TRUST_PROXY === undefined ? {} : { trustProxy: config.EDGE_TRUST_PROXY }),
    data,
    cipher: tenantKeyCipher(pool, keys),
    ...(cache ? { cache } : {}),
    ...(reads ? { reads } : {}),
    idempotency: new RedisIdempotencyStore(redis, pool, { ttlMs: config.IDEMPOTENCY_TTL, keyPrefix: config.EDGE_REDIS_PREFIX }),
    auth: {
      tokens,
      tenants,
      apiKeys: new PgApiKeyLookup(pool, {
        cacheTtlMs: config.TENANT_CACHE_TTL,
        touchIntervalMs: config.API_KEY_TOUCH_INTERVAL,
        onError: (err) => log.warn({ err }, 'api key last_used_at not recorded'),
      }),
      ...(config.EDGE_BASE_DOMAIN ? { baseDomain: config.EDGE_BASE_DOMAIN } : {}),
      admission: new AdmissionController({
        redis,
        keyPrefix: config.EDGE_REDIS_PREFIX,
        leaseMs: config.EDGE_REQUEST_TIMEOUT,
        onFallback: () => limiterFallbacks.inc(),
      }),
      limits: new TenantLimits(config.EDGE_PLAN_LIMITS, config.EDGE_TENANT_LIMITS),
      onRefusal: (reason, tenant, code, client) => {
        refused.inc({ reason, code, tenant: tenantLabel.label(tenant) });
        // A failed authentication goes to the global chain: the tenant it named is only a claim.
        if (code === 'UNAUTHENTICATED' || code === 'AUTHENTICATION_THROTTLED') authFailures.record({ reason, remote: client });
      },
    },
    onAccepted: (tenant) => accepted.inc({ tenant: tenantLabel.label(tenant) }),
    isReady: () => publisher.connected,
  });

  const server = await listen(app, config.EDGE_PORT, config.EDGE_HOST);
  server.requestTimeout = config.EDGE_REQUEST_TIMEOUT;
  server.keepAliveTimeout = 65_000;
  const metrics = config.METRICS_PORT === undefined ? undefined : await serveMetrics(registry, config.METRICS_PORT);
  log.info({ port: config.EDGE_PORT, metricsPort: config.METRICS_PORT, url: `http://${config.EDGE_HOST}:${config.EDGE_PORT}` }, 'ready');

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await publisher.close();
    await authFailures.stop();
    keys.close();
    metrics?.close();
    cache?.close();
    redis.disconnect();
    await data.close();
    await pool.end();
    await stopTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`edge failed to start: ${(err as Error).message}`);
  process.exit(1);
});
