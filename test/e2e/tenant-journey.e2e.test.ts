import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { collectMessages } from '@fairway/kafka/testing';
import { uniqueTenantId } from '@fairway/db/testing';
import { api, onboard, stackKafka, token, waitForJob } from './support/stack';

describe('one job, end to end, carrying its tenant on every hop', () => {
  const acme = uniqueTenantId('acme');
  const globex = uniqueTenantId('globex');
  let acmeToken: string;
  let globexToken: string;

  beforeAll(async () => {
    [acmeToken = '', globexToken = ''] = await onboard(acme, globex);
  });

  it('accepts the job with 202 only after Kafka stored it, and the tenant reaches every hop', async () => {
    const accepted = await api('POST', '/v1/jobs', { token: acmeToken, body: { type: 'synthetic', params: { ms: 50 } } });
    expect(accepted.status).toBe(202);
    const id = String(accepted.body['id']);
    expect(accepted.headers.get('location')).toBe(`/v1/jobs/${id}`);

    // Hop 1: an independent consumer sees the command with the tenant in key and headers.
    const { kafka, topics } = stackKafka();
    const messages = await collectMessages(kafka, topics.commands, (seen) => seen.some((m) => m.headers?.['fairway-job-id']?.toString() === id));
    const command = messages.find((m) => m.headers?.['fairway-job-id']?.toString() === id);
    expect(command?.key?.toString()).toBe(acme);
    expect(command?.headers?.['fairway-tenant-id']?.toString()).toBe(acme);
    expect(command?.headers?.['fairway-job-type']?.toString()).toBe('synthetic');
    expect(command?.headers?.['traceparent']?.toString()).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const baggage = propagation.getBaggage(
      new W3CBaggagePropagator().extract(
        ROOT_CONTEXT,
        { baggage: command?.headers?.['baggage']?.toString() ?? '' },
        {
          get: (carrier, key) => carrier[key as 'baggage'],
          keys: (carrier) => Object.keys(carrier),
        },
      ),
    );
    expect(baggage?.getEntry('tenant.id')?.value).toBe(acme);

    // Hops 2-4: the scheduler ran it on a worker, which saw the tenant in gRPC metadata and in
    // baggage, and PostgreSQL saw it as the transaction's app.tenant_id.
    const job = await waitForJob(id, acmeToken);
    expect(job['state']).toBe('succeeded');
    expect(job['tenantId']).toBe(acme);
    expect(job['result']).toMatchObject({ metadataTenant: acme, baggageTenant: acme, dbSessionTenant: acme });
    expect(Date.parse(String(job['startedAt']))).toBeGreaterThanOrEqual(Date.parse(String(job['acceptedAt'])));
    expect(Date.parse(String(job['finishedAt']))).toBeGreaterThanOrEqual(Date.parse(String(job['startedAt'])));
  });

  it("never shows one tenant's job to another: globex gets 404 for acme's job", async () => {
    const accepted = await api('POST', '/v1/jobs', { token: acmeToken, body: { type: 'synthetic', params: { ms: 1 } } });
    const id = String(accepted.body['id']);
    await waitForJob(id, acmeToken);
    const other = await api('GET', `/v1/jobs/${id}`, { token: globexToken });
    expect(other.status).toBe(404);
    expect(other.body['code']).toBe('NOT_FOUND');
  });

  it('maps the same Idempotency-Key to the same job', async () => {
    const headers = { 'idempotency-key': `order-${acme}-1` };
    const first = await api('POST', '/v1/jobs', { token: acmeToken, headers, body: { type: 'synthetic', params: { ms: 1 } } });
    const second = await api('POST', '/v1/jobs', { token: acmeToken, headers, body: { type: 'synthetic', params: { ms: 1 } } });
    expect(first.status).toBe(202);
    expect(second.body['id']).toBe(first.body['id']);
    const job = await waitForJob(String(first.body['id']), acmeToken);
    expect(job['attempts']).toBe(1);
  });
});

describe('bad input gets a clear problem+json error, never a 5xx', () => {
  const tenant = uniqueTenantId('bad');
  let bearer: string;

  beforeAll(async () => {
    [bearer = ''] = await onboard(tenant);
  });

  const cases: Array<[string, () => Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>, number, string]> = [
    ['malformed JSON', () => api('POST', '/v1/jobs', { token: bearer, rawBody: '{"type": "synthetic",' }), 400, 'MALFORMED_JSON'],
    ['a missing token', () => api('POST', '/v1/jobs', { body: { type: 'synthetic', params: { ms: 1 } } }), 401, 'UNAUTHENTICATED'],
    [
      'a token signed with another secret',
      async () => api('POST', '/v1/jobs', { token: await token(tenant, { secret: 'x'.repeat(48) }), body: { type: 'synthetic', params: { ms: 1 } } }),
      401,
      'UNAUTHENTICATED',
    ],
    [
      'an unsigned token (alg none)',
      async () => {
        const claims = Buffer.from(
          JSON.stringify({ tenant_id: tenant, iss: 'fairway-dev', aud: 'fairway-api', exp: Math.floor(Date.now() / 1000) + 60 }),
        ).toString('base64url');
        return api('POST', '/v1/jobs', {
          token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${claims}.`,
          body: { type: 'synthetic', params: { ms: 1 } },
        });
      },
      401,
      'UNAUTHENTICATED',
    ],
    [
      'an expired token',
      async () => api('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', { token: await token(tenant, { expiresIn: '-1m' }) }),
      401,
      'UNAUTHENTICATED',
    ],
    [
      'a token for another audience',
      async () => api('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', { token: await token(tenant, { audience: 'elsewhere' }) }),
      401,
      'UNAUTHENTICATED',
    ],
    [
      'a token for an unknown tenant',
      async () => api('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', { token: await token(uniqueTenantId('ghost')) }),
      401,
      'UNAUTHENTICATED',
    ],
    ['an unknown job type', () => api('POST', '/v1/jobs', { token: bearer, body: { type: 'mine-bitcoin', params: {} } }), 422, 'UNKNOWN_JOB_TYPE'],
    ['invalid job params', () => api('POST', '/v1/jobs', { token: bearer, body: { type: 'synthetic', params: { ms: -5 } } }), 400, 'VALIDATION_FAILED'],
    [
      'a body that is not JSON',
      () => api('POST', '/v1/jobs', { token: bearer, rawBody: 'type=synthetic', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a body over the size limit',
      () => api('POST', '/v1/jobs', { token: bearer, body: { type: 'synthetic', params: { ms: 1 }, pad: 'x'.repeat(200_000) } }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'an X-Tenant-ID naming another tenant',
      () => api('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', { token: bearer, headers: { 'x-tenant-id': 'globex' } }),
      403,
      'TENANT_MISMATCH',
    ],
    ['an unknown route', () => api('GET', '/v1/nothing-here', { token: bearer }), 404, 'ROUTE_NOT_FOUND'],
  ];

  it.each(cases)('refuses %s', async (_name, call, status, code) => {
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code, type: expect.stringContaining('https://'), title: expect.any(String), detail: expect.any(String) });
  });
});
