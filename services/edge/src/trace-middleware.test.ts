import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { extractTraceHeaders, injectTraceHeaders, registerPropagators } from '@fairway/telemetry';
import { traceRequests, withoutClientTenant } from './trace-middleware';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
/** What a client sends: a trace to join, and baggage that claims another tenant. */
const clientHeaders = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, baggage: 'tenant.id=victim,team=blue' };

/** Runs traceRequests on a request with `headers` and returns what `next` saw. */
function throughMiddleware(headers: Record<string, string>): { sent: Record<string, string>; active: ReturnType<typeof trace.getActiveSpan> } {
  const req = { method: 'GET', path: '/v1/jobs', headers } as unknown as Request;
  const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as Response;
  let seen: { sent: Record<string, string>; active: ReturnType<typeof trace.getActiveSpan> } | undefined;
  traceRequests(req, res, () => {
    // What the edge would send on (Kafka headers, gRPC metadata) from inside the request.
    seen = { sent: injectTraceHeaders(), active: trace.getActiveSpan() };
  });
  if (!seen) throw new Error('traceRequests did not call next');
  return seen;
}

describe('traceRequests: a client-sent tenant.id baggage entry never travels past the edge (#16 item 9)', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    registerPropagators();
  });
  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  it('continues the client trace and keeps its other baggage, without tenant.id, when it opens the server span', () => {
    const { sent } = throughMiddleware(clientHeaders);
    expect(sent['traceparent']).toContain(TRACE_ID);
    expect(sent['baggage']).toBe('team=blue');
  });

  it('drops tenant.id from the baggage under the server span the http instrumentation already opened, and opens no second one', () => {
    const provider = new BasicTracerProvider();
    const clientContext = extractTraceHeaders(clientHeaders, ROOT_CONTEXT);
    const instrumentationSpan = provider.getTracer('http').startSpan('GET', { kind: SpanKind.SERVER }, clientContext);
    expect(propagation.getBaggage(clientContext)?.getEntry('tenant.id')?.value).toBe('victim');
    const { sent, active } = context.with(trace.setSpan(clientContext, instrumentationSpan), () => throughMiddleware({}));
    instrumentationSpan.end();
    expect(active).toBe(instrumentationSpan);
    expect(sent['traceparent']).toContain(TRACE_ID);
    expect(sent['baggage']).toBe('team=blue');
  });

  it('sends no baggage at all when tenant.id was the only entry', () => {
    const { sent } = throughMiddleware({ ...clientHeaders, baggage: 'tenant.id=victim' });
    expect(sent['baggage']).toBeUndefined();
  });

  it('withoutClientTenant leaves a context with no tenant.id entry as it is', () => {
    const ctx = extractTraceHeaders({ baggage: 'team=blue' }, ROOT_CONTEXT);
    expect(withoutClientTenant(ctx)).toBe(ctx);
    expect(withoutClientTenant(ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});
