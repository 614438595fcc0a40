import type { NextFunction, Request, Response } from 'express';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { TENANT_BAGGAGE_KEY } from '@fairway/tenant-context';
import { extractTraceHeaders, tracer } from '@fairway/telemetry';

/**
 * `ctx` without a `tenant.id` baggage entry. At the public edge baggage comes from the client, and
 * the tenant is the credential's, never the caller's say-so: an entry left in would tag spans and
 * travel on (Kafka, gRPC) as if the edge had vouched for it. authenticate puts the authenticated
 * tenant back (the span attribute), and the command carries it (withTenantBaggage).
 */
export function withoutClientTenant(ctx: Context): Context {
  const baggage = propagation.getBaggage(ctx);
  if (baggage?.getEntry(TENANT_BAGGAGE_KEY) === undefined) return ctx;
  return propagation.setBaggage(ctx, baggage.removeEntry(TENANT_BAGGAGE_KEY));
}

/**
 * Makes sure each request runs inside a server span that continues the caller's W3C trace, so the
 * command published to Kafka carries a traceparent that joins the whole journey. A deployed edge
 * loads the http instrumentation (@fairway/telemetry/register), which already opened that span:
 * it is used as it is (authenticate names its tenant), rather than a second server span per request.
 * Without it, this opens one. Either way the rest of the request runs without the client's tenant
 * baggage (see {@link withoutClientTenant}).
 */
export function traceRequests(req: Request, res: Response, next: NextFunction): void {
  if (trace.getSpan(context.active())?.isRecording() === true) {
    // Only a request that sent tenant baggage pays for a new context (the hot path does not).
    const active = context.active();
    const clean = withoutClientTenant(active);
    if (clean === active) next();
    else context.with(clean, () => next());
    return;
  }
  const parent = withoutClientTenant(extractTraceHeaders(req.headers));
  const span = tracer().startSpan(`${req.method} ${req.path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
  // A span that records nothing (no SDK, or not sampled) still carries the trace context onwards,
  // but needs no attributes and no end: no listener for it. Its tenant is set by authenticate,
  // which runs inside it.
  if (span.isRecording()) {
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  }
  context.with(trace.setSpan(parent, span), () => next());
}
