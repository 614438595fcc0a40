import type { NextFunction, Request, Response } from 'express';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { extractTraceHeaders, tracer } from '@fairway/telemetry';

/**
 * Makes sure each request runs inside a server span that continues the caller's W3C trace, so the
 * command published to Kafka carries a traceparent that joins the whole journey. A deployed edge
 * loads the http instrumentation (@fairway/telemetry/register), which already opened that span:
 * it is used as it is (authenticate names its tenant), rather than a second server span per request.
 * Without it, this opens one.
 */
export function traceRequests(req: Request, res: Response, next: NextFunction): void {
  if (trace.getSpan(context.active())?.isRecording() === true) {
    next();
    return;
  }
  const parent = extractTraceHeaders(req.headers);
  const span = tracer().startSpan(
    `${req.method} ${req.path}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
    parent,
  );
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
