import pino, { type DestinationStream, type Logger } from 'pino';
import { trace } from '@opentelemetry/api';
import { currentTenant } from '@fairway/tenant-context';

/** Paths pino replaces with "[redacted]" on every line: credentials never reach a log. */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'metadata.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'connectionString',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.apiKey',
  '*.api_key',
  '*.connectionString',
];

/**
 * A structured JSON logger for `service`. Every line carries the tenant of the current context and
 * the active trace and span ids, so a line can be joined to its trace. `destination` defaults to
 * stdout (tests pass a stream to read the lines back).
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const fields: Record<string, string> = {};
      const tenant = currentTenant();
      if (tenant) fields['tenant'] = tenant.tenantId;
      const span = trace.getActiveSpan()?.spanContext();
      if (span && span.traceId !== '00000000000000000000000000000000') {
        fields['trace_id'] = span.traceId;
        fields['span_id'] = span.spanId;
      }
      return fields;
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
