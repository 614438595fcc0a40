import pino, { type Logger } from 'pino';
import { trace } from '@opentelemetry/api';
import { currentTenant } from '@fairway/tenant-context';

/** Paths pino replaces with "[redacted]" on every line: credentials never reach a log. */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  'apiKey',
  'password',
  'secret',
  '*.password',
  '*.secret',
  '*.token',
];

/**
 * A structured JSON logger for `service`. Every line carries the tenant of the current context and
 * the active trace and span ids, so a line can be joined to its trace.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
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
  });
}

export type { Logger };
