import { propagation, context, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry NodeSDK for `serviceName` with W3C tracecontext and baggage
 * propagation. Export follows the standard OTEL_* variables; with no OTEL_TRACES_EXPORTER and no
 * OTEL_EXPORTER_OTLP_ENDPOINT set, spans are made (so context propagates) but not exported.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (sdk) return;
  process.env['OTEL_SERVICE_NAME'] ??= serviceName;
  const exporting = Boolean(env['OTEL_TRACES_EXPORTER'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  sdk = new NodeSDK({
    serviceName,
    // With no exporter configured, spans are still made (a no-op processor keeps the tracer
    // provider real) so traceparent and baggage propagate; they are just not sent anywhere.
    ...(exporting ? {} : { spanProcessors: [new tracing.NoopSpanProcessor()] }),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });
  sdk.start();
}

/** Flushes and stops the SDK. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}

/** Registers the W3C propagators without the SDK (tests and tools). */
export function registerPropagators(): void {
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
}

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const recordGetter: TextMapGetter<Record<string, string | string[] | Buffer | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return value;
  },
};

/** traceparent, tracestate and baggage of `ctx` as plain headers. */
export function injectTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers, recordSetter);
  return headers;
}

/** A context continued from traceparent / baggage headers (Kafka, HTTP, stored job rows). */
export function extractTraceHeaders(
  headers: Record<string, string | string[] | Buffer | undefined>,
  ctx: Context = context.active(),
): Context {
  return propagation.extract(ctx, headers, recordGetter);
}

/** The tracer of Fairway's own spans. */
export const tracer = () => trace.getTracer('fairway');

/** Runs `fn` in a new active span that ends when `fn` settles, tagged with `tenant.id`. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: 2, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
