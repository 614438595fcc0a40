import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import { createLogger } from './logger';

/** A logger whose lines are parsed back from memory. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // pino's default stream writes synchronously through write(); a plain Writable is enough.
  return { log: createLogger('test', 'info', stream), lines };
}

const SECRET = 'S3cr3t-value-that-must-never-be-logged';

describe('structured logs', () => {
  beforeAll(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  afterAll(() => context.disable());

  it.each([
    ['an authorization header of a request', { req: { headers: { authorization: `Bearer ${SECRET}` } } }],
    ['a bare authorization header', { headers: { authorization: `Bearer ${SECRET}` } }],
    ['a cookie', { req: { headers: { cookie: `session=${SECRET}` } } }],
    ['an x-api-key header', { req: { headers: { 'x-api-key': SECRET } } }],
    ['nested headers of an error', { err: { headers: { authorization: SECRET } } }],
    ['gRPC metadata', { metadata: { authorization: SECRET } }],
    ['an api key', { apiKey: SECRET }],
    ['a nested api key', { issued: { apiKey: SECRET } }],
    ['an api_key', { api_key: SECRET }],
    ['a password', { password: SECRET }],
    ['a nested password', { user: { password: SECRET } }],
    ['a token', { token: SECRET }],
    ['a secret', { config: { secret: SECRET } }],
    ['a connection string', { connectionString: `postgres://u:${SECRET}@db/x` }],
  ])('redacts %s', (_name, fields) => {
    const { log, lines } = capture();
    log.info(fields, 'with a credential');
    expect(lines).toHaveLength(1);
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain(SECRET);
    expect(text).toContain('[redacted]');
  });

  it('keeps fields that are not credentials', () => {
    const { log, lines } = capture();
    log.info({ jobId: 'j-1', headers: { 'content-type': 'application/json' } }, 'plain');
    expect(lines[0]).toMatchObject({ jobId: 'j-1', headers: { 'content-type': 'application/json' }, service: 'test', msg: 'plain' });
  });

  it('puts the tenant of the current context and the active trace and span ids on each line', () => {
    const { log, lines } = capture();
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
    const active = trace.setSpan(context.active(), trace.wrapSpanContext(spanContext));
    context.with(active, () => runWithTenant(tenantContext('acme' as TenantId, 'jwt'), () => log.info('inside')));
    log.info('outside');
    expect(lines[0]).toMatchObject({ tenant: 'acme', trace_id: spanContext.traceId, span_id: spanContext.spanId, msg: 'inside' });
    expect(lines[1]).not.toHaveProperty('tenant');
    expect(lines[1]).not.toHaveProperty('trace_id');
  });
});
