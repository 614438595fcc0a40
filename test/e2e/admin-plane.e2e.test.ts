import path from 'node:path';
import { eventually, uniqueTenantId } from '@fairway/db/testing';
import { stack, token } from './support/stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
const { operatorToken } = require(path.join(__dirname, '..', '..', 'scripts', 'lib', 'token.cjs')) as { operatorToken: (o?: object) => Promise<string> };

async function admin(method: string, route: string, bearer?: string, body?: unknown) {
  const res = await fetch(`${stack().adminUrl}${route}`, {
    method,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function edge(route: string, authorization: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${stack().edgeUrl}${route}`, {
    method: init.method ?? 'GET',
    headers: { authorization, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the operators' admin API, served by the control plane of the running stack", () => {
  const id = uniqueTenantId('ops');
  let operator: string;

  beforeAll(async () => {
    operator = await operatorToken({ subject: 'e2e-operator' });
  });

  it('refuses a missing token and a tenant token (another issuer, audience and key: 401), and takes an operator token', async () => {
    expect((await admin('GET', '/admin/v1/tenants')).status).toBe(401);
    expect((await admin('GET', '/admin/v1/tenants', await token('acme'))).status).toBe(401);
    expect((await admin('GET', '/admin/v1/tenants', operator)).status).toBe(200);
  });

  it('onboards a tenant, issues it an API key the public API accepts, suspends, resumes and offboards it, auditing each step', async () => {
    const created = await admin('POST', '/admin/v1/tenants', operator, { id, displayName: 'Ops E2E' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id, status: 'active' });
    // The list is paged (#18): follow nextAfter through the whole catalog.
    const listed: string[] = [];
    for (let after: unknown = ''; typeof after === 'string';) {
      const page = await admin('GET', `/admin/v1/tenants?limit=1000${after ? `&after=${after}` : ''}`, operator);
      listed.push(...(page.body['tenants'] as Array<{ id: string }>).map((t) => t.id));
      after = page.body['nextAfter'];
    }
    expect(listed).toContain(id);

    const issued = await admin('POST', `/admin/v1/tenants/${id}/api-keys`, operator);
    expect(issued.status).toBe(201);
    const apiKey = `ApiKey ${String(issued.body['key'])}`;
    const accepted = await edge('/v1/jobs', apiKey, { method: 'POST', body: { type: 'synthetic', params: { ms: 1 } } });
    expect(accepted.status).toBe(202);

    expect((await admin('POST', `/admin/v1/tenants/${id}/suspend`, operator)).body['status']).toBe('suspended');
    // The edge's tenant and key caches learn of a change within seconds (eventually's 10 s default).
    const suspended = await eventually('the edge to refuse the suspended tenant', () => edge('/v1/jobs', apiKey), { until: (r) => r.status !== 200 });
    expect(suspended.body['code']).toBe('TENANT_SUSPENDED');
    expect((await admin('POST', `/admin/v1/tenants/${id}/resume`, operator)).body['status']).toBe('active');
    expect((await eventually('the edge to accept the resumed tenant', () => edge('/v1/jobs', apiKey), { until: (r) => r.status === 200 })).status).toBe(200);

    expect((await admin('DELETE', `/admin/v1/tenants/${id}/api-keys/${String(issued.body['id'])}`, operator)).status).toBe(200);
    expect((await eventually('the edge to refuse the revoked key', () => edge('/v1/jobs', apiKey), { until: (r) => r.status !== 200 })).body['code']).toBe(
      'UNAUTHENTICATED',
    );

    expect((await admin('DELETE', `/admin/v1/tenants/${id}`, operator)).body['status']).toBe('deleted');
    expect((await admin('GET', `/admin/v1/tenants/${id}`, operator)).body['status']).toBe('deleted');

    const audit = await admin('GET', `/admin/v1/audit?tenant=${id}&actor=e2e-operator`, operator);
    const actions = (audit.body['entries'] as Array<{ action: string }>).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['tenant.create', 'key.issue', 'tenant.suspend', 'tenant.resume', 'key.revoke', 'tenant.delete']));
    expect((await admin('GET', `/admin/v1/audit/verify?tenant=${id}`, operator)).body).toMatchObject({ ok: true });
  });

  it("reads and changes a tenant's quota, the stats and an explanation through the scheduler's SchedulerAdmin", async () => {
    const tenant = uniqueTenantId('quota');
    expect((await admin('POST', '/admin/v1/tenants', operator, { id: tenant })).status).toBe(201);
    const set = await admin('PUT', `/admin/v1/tenants/${tenant}/quota`, operator, { weight: 3, maxInFlight: 5 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ tenantId: tenant, weight: 3, maxInFlight: 5 });
    expect((await admin('GET', `/admin/v1/tenants/${tenant}/quota`, operator)).body).toMatchObject({ weight: 3, maxInFlight: 5 });
    const stats = await admin('GET', '/admin/v1/stats', operator);
    expect(stats.status).toBe(200);
    expect(Array.isArray(stats.body['tenants'])).toBe(true);
    const explained = await admin('GET', `/admin/v1/tenants/${tenant}/explain`, operator);
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({ tenantId: tenant, state: expect.any(String) });
    const audit = await admin('GET', `/admin/v1/audit?tenant=${tenant}&action=quota.set`, operator);
    expect(audit.body['entries']).toEqual([expect.objectContaining({ actor: 'e2e-operator', after: expect.objectContaining({ weight: 3 }) })]);
  });
});
