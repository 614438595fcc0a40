/**
 * Telemetry for every service: the OpenTelemetry NodeSDK with W3C tracecontext and baggage and
 * auto-instrumentation, structured pino logs with tenant and trace ids, and prom-client metrics
 * with a bounded tenant label.
 */
export { createLogger, REDACTED_PATHS, type Logger } from './logger';
export {
  startTelemetry,
  stopTelemetry,
  telemetryStarted,
  exportRequested,
  registerPropagators,
  injectTraceHeaders,
  extractTraceHeaders,
  inSpan,
  spansRecorded,
  tracer,
} from './tracing';
export { TenantSpanProcessor, TENANT_SPAN_ATTRIBUTE } from './tenant-span-processor';
export { BufferedCounter } from './buffered-counter';
export { createMetricsRegistry, serveMetrics, type MetricsRegistryOptions } from './metrics';
export {
  TenantLabeller,
  tenantLabeller,
  setTenantGauge,
  tenantLabelLimitFromEnv,
  OTHER_TENANT_LABEL,
  NO_TENANT_LABEL,
  INVALID_TENANT_LABEL,
  DEFAULT_TENANT_LABEL_LIMIT,
  TENANT_LABEL_LIMIT_ENV,
  FOLDED_COUNTER_NAME,
  type TenantLabellerOptions,
} from './tenant-labels';
export {
  queryTimeoutCounter,
  replicaMetrics,
  QUERY_TIMEOUTS_METRIC,
  REPLICA_FALLBACKS_METRIC,
  REPLICA_LAG_METRIC,
  type QueryTimeoutSample,
} from './database-metrics';
export { TenantQuotaExporter, TENANT_QUOTA_METRIC, type ExportedTenantQuota } from './tenant-quota-metrics';
