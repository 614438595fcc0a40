/**
 * Telemetry for every service: the OpenTelemetry NodeSDK with W3C tracecontext and baggage,
 * structured pino logs with tenant and trace ids, and prom-client metrics.
 */
export { createLogger, REDACTED_PATHS, type Logger } from './logger';
export {
  startTelemetry,
  stopTelemetry,
  registerPropagators,
  injectTraceHeaders,
  extractTraceHeaders,
  inSpan,
  tracer,
} from './tracing';
export { createMetricsRegistry, serveMetrics } from './metrics';
