import { INVALID_SPAN_CONTEXT, propagation, context, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, type tracing } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler } from '@opentelemetry/sdk-trace-base';
// sdk-node builds its exporters from OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* only when it is
// given no span processors; we give it one (the tenant tagger), so we ask its own env reader for
// the exporting processors instead of re-implementing the OTEL_* rules. The package has no
// "exports" map and the function is stable across 0.20x; pinned by package-lock.
import { getSpanProcessorsFromEnv } from '@opentelemetry/sdk-node/build/src/utils';
import { TenantSpanProcessor } from './tenant-span-processor';

let sdk: NodeSDK | undefined;
/** False once {@link startTelemetry} chose to record no span (nothing exports them). */
let recording = true;

/** Paths of requests that are probes or scrapes: never traced, they would drown the real work. */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz', '/livez']);

/** Whether the OTEL_* variables ask for spans to be exported anywhere. */
export function exportRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim();
  if (exporter === 'none') return false;
  return Boolean(exporter || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/**
 * The auto-instrumentations of a service: inbound and outbound HTTP, Express and gRPC always (they
 * carry traceparent and baggage across each hop, through non-recording spans when nothing records),
 * and pg only when spans are recorded. A pg span propagates nothing (no context goes to the server),
 * so with nothing recording the instrumentation was pure cost, and it was the largest one the SDK
 * put on the job path: it builds each query's attributes and a span and binds its callbacks before
 * the sampler drops it. Measured in bench:dispatch (100 tenants x 200 no-op jobs, 2026-12-07, two
 * runs each, load 4-6): scheduler 0.36-0.38 -> 0.30-0.32 ms CPU per job, workers 0.27-0.29 ->
 * 0.24-0.25 ms.
 */
export function instrumentations(recording: boolean) {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      // An outgoing request with no trace around it is housekeeping (the OTLP exporter itself).
      requireParentforOutgoingSpans: true,
    }),
    // Middleware spans end before authentication has found the tenant, so they could never carry
    // tenant.id; routers and handlers (inside the tenant scope) are kept.
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
    new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch'] }),
    // Queries outside any trace are the scheduler's polling and lease maintenance: not traced.
    ...(recording ? [new PgInstrumentation({ requireParentSpan: true })] : []),
  ];
}

/**
 * Starts the OpenTelemetry NodeSDK for `serviceName` with W3C tracecontext and baggage
 * propagation and auto-instrumentation of http, express, @grpc/grpc-js and (when spans are
 * recorded) pg ({@link instrumentations}). Every span gets
 * `tenant.id` from the tenant context or the `tenant.id` baggage entry ({@link TenantSpanProcessor}).
 *
 * Export follows the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_EXPORTER, OTEL_BSP_*). With none of them set (and no
 * OTEL_TRACES_SAMPLER), spans are not recorded: trace context still propagates (HTTP and gRPC
 * hops get a non-recording span id from the instrumentation, logs carry trace ids), but no span is
 * built only to be dropped — on the job path that was a span, its attributes and the tenant
 * tagger's bookkeeping per job in the scheduler and in the worker, for nothing; there the job's
 * assignment carries the edge's span context on ({@link spansRecorded}).
 *
 * Instrumentation patches modules as they are required: a module loaded before this call is not
 * traced. Services therefore load `@fairway/telemetry/register` first (or run node with
 * `--require dist/libs/telemetry/src/register.js`); calling this again later is a no-op.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (sdk) return;
  process.env['OTEL_SERVICE_NAME'] ??= serviceName;
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  const exporting: tracing.SpanProcessor[] = exportRequested(env) ? getSpanProcessorsFromEnv() : [];
  const recordNothing = exporting.length === 0 && !env['OTEL_TRACES_SAMPLER'];
  recording = !recordNothing;
  sdk = new NodeSDK({
    serviceName: process.env['OTEL_SERVICE_NAME'],
    ...(recordNothing ? { sampler: new AlwaysOffSampler() } : {}),
    // The tenant tagger sits in front of the exporting processors (it may hold a span back until
    // its request's tenant is known). Alone it still keeps the tracer provider real, so with no
    // exporter traceparent and baggage propagate (through non-recording spans).
    spanProcessors: [new TenantSpanProcessor(exporting)],
    instrumentations: instrumentations(!recordNothing),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });
  sdk.start();
}

/**
 * Whether Fairway's own spans are recorded in this process: false when {@link startTelemetry} found
 * nothing to export them to (and no sampler asked for), true otherwise, also where the SDK was not
 * started here (a test's own tracer provider sees every span). The job path asks it before it
 * builds a span per job: with nothing recorded, a job's hops pass the span context they received
 * on (same trace id, the caller's span id) instead of minting a non-recording span each.
 */
export function spansRecorded(): boolean {
  return recording;
}

/** Whether {@link startTelemetry} has run in this process. */
export function telemetryStarted(): boolean {
  return sdk !== undefined;
}

/** Flushes and stops the SDK. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
  recording = true;
}

/** Registers the W3C propagators without the SDK (tests and tools). */
export function registerPropagators(): void {
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
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
export function extractTraceHeaders(headers: Record<string, string | string[] | Buffer | undefined>, ctx: Context = context.active()): Context {
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
  if (!recording) {
    // Nothing records spans: no span is built per call; `fn` runs in `parent` and sees its span.
    const span = trace.getSpan(parent) ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return parent === context.active() ? fn(span) : context.with(parent, () => fn(span));
  }
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
