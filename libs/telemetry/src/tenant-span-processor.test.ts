import { context, propagation, trace, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import { TENANT_SPAN_ATTRIBUTE, TenantSpanProcessor } from './tenant-span-processor';

describe('TenantSpanProcessor', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new TenantSpanProcessor([new SimpleSpanProcessor(exporter)])] });
  const tracer = provider.getTracer('test');
  const acme = tenantContext('acme' as TenantId, 'jwt');

  beforeAll(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  afterAll(() => context.disable());
  beforeEach(() => exporter.reset());

  const attributeOf = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name)?.attributes[TENANT_SPAN_ATTRIBUTE];

  it('tags a span started inside a tenant context', () => {
    runWithTenant(acme, () => tracer.startSpan('inside').end());
    tracer.startSpan('outside').end();
    expect(attributeOf('inside')).toBe('acme');
    expect(attributeOf('outside')).toBeUndefined();
  });

  it('tags a span from the tenant.id baggage of its parent context', () => {
    const carrier = { baggage: 'tenant.id=globex,other=1' };
    const parent = new W3CBaggagePropagator().extract(ROOT_CONTEXT, carrier, {
      get: (c, k) => c[k as 'baggage'],
      keys: (c) => Object.keys(c),
    });
    expect(propagation.getBaggage(parent)?.getEntry('tenant.id')?.value).toBe('globex');
    tracer.startSpan('from-baggage', {}, parent).end();
    expect(attributeOf('from-baggage')).toBe('globex');
  });

  it('tags an open ancestor that started before the tenant was known', () => {
    const request = tracer.startSpan('request');
    const middle = tracer.startSpan('router', {}, trace.setSpan(ROOT_CONTEXT, request));
    runWithTenant(acme, () => tracer.startSpan('handler', {}, trace.setSpan(context.active(), middle)).end());
    middle.end();
    request.end();
    expect(attributeOf('handler')).toBe('acme');
    expect(attributeOf('router')).toBe('acme');
    expect(attributeOf('request')).toBe('acme');
  });

  it('tags spans of a request that ended before its tenant was known, before they are exported', () => {
    const request = tracer.startSpan('request');
    const inRequest = trace.setSpan(ROOT_CONTEXT, request);
    tracer.startSpan('tenant-lookup', {}, inRequest).end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    runWithTenant(acme, () => tracer.startSpan('handler', {}, inRequest).end());
    request.end();
    expect(
      exporter
        .getFinishedSpans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['handler', 'request', 'tenant-lookup']);
    expect(attributeOf('tenant-lookup')).toBe('acme');
  });

  it('learns the tenant from a span that was given it while it ran, when no span started inside the tenant', () => {
    const server = tracer.startSpan('http-server');
    const inServer = trace.setSpan(ROOT_CONTEXT, server);
    const request = tracer.startSpan('request', {}, inServer);
    tracer.startSpan('tenant-lookup', {}, trace.setSpan(ROOT_CONTEXT, request)).end();
    const handler = tracer.startSpan('request handler', {}, inServer);
    // Authentication decided: the edge's request span names the tenant, then ends.
    request.setAttribute(TENANT_SPAN_ATTRIBUTE, 'acme');
    request.end();
    handler.end();
    server.end();
    expect(
      exporter
        .getFinishedSpans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['http-server', 'request', 'request handler', 'tenant-lookup']);
    for (const name of ['http-server', 'request', 'request handler', 'tenant-lookup']) expect(attributeOf(name)).toBe('acme');
  });

  it('tags a sibling local root of the same trace (a span continued from the same traceparent)', () => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true });
    const httpSpan = tracer.startSpan('http', {}, remote);
    const manual = tracer.startSpan('manual', {}, remote);
    runWithTenant(acme, () => tracer.startSpan('handler', {}, trace.setSpan(ROOT_CONTEXT, manual)).end());
    manual.end();
    httpSpan.end();
    expect(attributeOf('http')).toBe('acme');
    expect(attributeOf('manual')).toBe('acme');
  });

  it('exports a request that never learnt a tenant as it is', () => {
    const request = tracer.startSpan('refused');
    tracer.startSpan('refused-lookup', {}, trace.setSpan(ROOT_CONTEXT, request)).end();
    request.end();
    expect(attributeOf('refused')).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });

  it('never overwrites a tenant a span already has', () => {
    runWithTenant(acme, () => tracer.startSpan('explicit', { attributes: { [TENANT_SPAN_ATTRIBUTE]: 'initech' } }).end());
    expect(attributeOf('explicit')).toBe('initech');
  });

  it("never takes the tenant from an inbound HTTP request's baggage: its spans get the authenticated tenant", () => {
    const carrier = { traceparent: `00-${'d'.repeat(32)}-${'e'.repeat(16)}-01`, baggage: 'tenant.id=victim' };
    const getter = { get: (c: typeof carrier, k: string) => c[k as keyof typeof carrier], keys: (c: typeof carrier) => Object.keys(c) };
    const fromClient = new W3CBaggagePropagator().extract(ROOT_CONTEXT, carrier, getter);
    // As the http instrumentation opens it: a server span with the client's baggage in its parent context.
    const server = tracer.startSpan('GET /v1/jobs', { kind: SpanKind.SERVER, attributes: { 'http.method': 'GET' } }, fromClient);
    const inServer = trace.setSpan(fromClient, server);
    tracer.startSpan('router', {}, inServer).end();
    tracer.startSpan('tenant-lookup', {}, inServer).end();
    expect(server.isRecording() && (server as unknown as { attributes: Record<string, unknown> }).attributes[TENANT_SPAN_ATTRIBUTE]).toBeUndefined();
    server.setAttribute(TENANT_SPAN_ATTRIBUTE, 'acme');
    runWithTenant(acme, () => tracer.startSpan('handler', {}, inServer).end());
    server.end();
    for (const name of ['GET /v1/jobs', 'router', 'tenant-lookup', 'handler']) expect(attributeOf(name)).toBe('acme');
  });

  it('exports a refused inbound HTTP request without the tenant its client baggage named', () => {
    const fromClient = new W3CBaggagePropagator().extract(
      ROOT_CONTEXT,
      { baggage: 'tenant.id=victim' },
      { get: (c, k) => c[k as 'baggage'], keys: (c) => Object.keys(c) },
    );
    const server = tracer.startSpan('POST /v1/jobs', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST' } }, fromClient);
    tracer.startSpan('api-key-lookup', {}, trace.setSpan(fromClient, server)).end();
    server.end();
    expect(attributeOf('POST /v1/jobs')).toBeUndefined();
    expect(attributeOf('api-key-lookup')).toBeUndefined();
  });

  it('still trusts the baggage of a call between services (a non-HTTP server span)', () => {
    const fromService = new W3CBaggagePropagator().extract(
      ROOT_CONTEXT,
      { baggage: 'tenant.id=globex' },
      { get: (c, k) => c[k as 'baggage'], keys: (c) => Object.keys(c) },
    );
    tracer.startSpan('fairway.worker.v1.Worker/Run', { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc' } }, fromService).end();
    expect(attributeOf('fairway.worker.v1.Worker/Run')).toBe('globex');
  });
});
