import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import { OPERATOR_TOKENS, TENANT_TOKENS, TokenVerifier } from '@fairway/auth';
import { findTenant, upsertTenant } from '@fairway/db';
import { createTestTenant, dropTestTenants, testAdminUrl, testDatabaseUrls, testPools, uniqueTenantId } from '@fairway/db/testing';
import { bindServer } from '@fairway/grpc';
import type { TenantId } from '@fairway/tenant-context';
import { createLogger } from '@fairway/telemetry';
import { createAdminApp, type AdminDeps } from './admin-app';
import { SchedulerAdminGateway, schedulerAdminService } from './scheduler-admin-client';
import { TenantCatalog } from './tenant-catalog';

const OPERATOR_SECRET = new TextEncoder().encode('operator-int-secret-0123456789-0123456789');
const TENANT_SECRET = new TextEncoder().encode('tenant-int-secret-0123456789-0123456789ab');
const log = createLogger('admin-api-int', 'silent');

function operatorToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(OPERATOR_TOKENS.issuer)
    .setAudience(OPERATOR_TOKENS.audience)
    .setExpirationTime('10m')
    .sign(OPERATOR_SECRET);
}

async function call(base: string, method: string, path: string, options: { auth?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.auth) headers['authorization'] = options.auth;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  const text = await res.text();
  return { status: res.status, link: res.headers.get('link'), body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/**
 * The operators' admin API as the control plane serves it: the real tenant catalog over the test
 * database (provisioning, status changes and deletion, each audited once), the scheduler's admin
 * service as a gRPC server in the test, and tokens of the operators' own issuer and audience.
 */
describe('the admin API on the control plane (real PostgreSQL, gRPC to the scheduler)', () => {
  const pools = testPools();
  const created: string[] = [];
  const servers: Server[] = [];
  let grpcServer: grpc.Server;
  let scheduler: SchedulerAdminGateway;
  let schedulerDown: SchedulerAdminGateway;
  let quotaCalls: Array<Record<string, unknown>>;
  const statsCalls: Array<{ pageSize: number; afterTenantId: string; sort: string }> = [];
  let deps: AdminDeps;
  let admin: string;

  async function listen(app: ReturnType<typeof createAdminApp>): Promise<string> {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  beforeAll(async () => {
    quotaCalls = [];
    grpcServer = new grpc.Server();
    const quota = (tenantId: string) => ({ tenantId, weight: 2, rate: 10, maxInFlight: 4, updatedAt: new Date(0).toISOString(), updatedBy: 'test' });
    grpcServer.addService(schedulerAdminService(), {
      GetTenantQuota: (c: grpc.ServerUnaryCall<{ tenantId: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, quota(c.request.tenantId)),
      SetTenantQuota: (c: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        quotaCalls.push(c.request);
        const { tenantId, clear: _clear, actor, ...limits } = c.request;
        cb(null, { ...quota(String(tenantId)), ...limits, updatedBy: actor });
      },
      ListTenantStats: (c: grpc.ServerUnaryCall<{ pageSize: number; afterTenantId: string; sort: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        statsCalls.push(c.request);
        const all = [
          { tenantId: 'x', queued: 3, inFlight: 1, weight: 1 },
          { tenantId: 'y', queued: 1, inFlight: 1, weight: 1, maxInFlight: 2 },
        ];
        const totals = { tenants: 2, queued: 4, inFlight: 2, busy: 2 };
        // A top-N: the scheduler ranks (here: by in flight, then id) and counts the fleet.
        if (c.request.sort)
          return cb(null, { tenants: [...all].reverse().slice(0, c.request.pageSize), replica: 'test', totals, statsAt: new Date(0).toISOString() });
        // Pages of one, as the scheduler pages by id when page_size is set.
        const rest = all.filter((t) => t.tenantId > c.request.afterTenantId);
        const page = c.request.pageSize > 0 ? rest.slice(0, 1) : all;
        cb(null, { tenants: page, replica: 'test', nextAfterTenantId: c.request.pageSize > 0 && rest.length > 1 ? page[0]?.tenantId : '' });
      },
      ExplainTenant: (c: grpc.ServerUnaryCall<{ tenantId: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { tenantId: c.request.tenantId, state: 'no-tokens', reason: 'out of rate tokens', detailsJson: JSON.stringify({ tokens: 0 }) }),
    });
    const port = await bindServer(grpcServer, '127.0.0.1:0');
    scheduler = new SchedulerAdminGateway(`127.0.0.1:${port}`);
    schedulerDown = new SchedulerAdminGateway('127.0.0.1:1', 1_000);
    deps = {
      tokens: new TokenVerifier({ secret: OPERATOR_SECRET, issuer: OPERATOR_TOKENS.issuer, audience: OPERATOR_TOKENS.audience }),
      catalog: new TenantCatalog({ ownerPool: pools.owner, ownerUrl: testDatabaseUrls().owner }, log),
      scheduler,
      ownerPool: pools.owner,
      log,
    };
    admin = await listen(createAdminApp(deps));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    scheduler.close();
    schedulerDown.close();
    grpcServer.forceShutdown();
    await dropTestTenants(pools.owner, created);
    const superuser = new Client({ connectionString: testAdminUrl() });
    await superuser.connect();
    await superuser.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [created]).catch(() => undefined);
    await superuser.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [created]).catch(() => undefined);
    await superuser.end();
    await pools.end();
  });

  it('admits only operator tokens of the operators issuer and audience: a tenant token, even one claiming the operator role, never reaches it', async () => {
    const id = await createTestTenant(pools.owner, 'adm');
    created.push(id);
    expect((await call(admin, 'GET', '/admin/v1/stats')).status).toBe(401);
    // Signed as the edge's tenants' tokens are: another issuer, audience and key.
    const forTenant = async (claims: Record<string, unknown>) =>
      `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(TENANT_TOKENS.issuer).setAudience(TENANT_TOKENS.audience).setExpirationTime('10m').sign(TENANT_SECRET)}`;
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: await forTenant({ tenant_id: id }) })).status).toBe(401);
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: await forTenant({ role: 'operator', sub: 'mallory' }) })).status).toBe(401);
    // The right issuer and audience but a tenant's claims: refused as well.
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: `Bearer ${await operatorToken({ role: 'operator', tenant_id: id })}` })).status).toBe(403);
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: `Bearer ${await operatorToken({ sub: 'eve' })}` })).status).toBe(403);
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: `Bearer ${await operatorToken({ role: 'operator', sub: 'alice' })}` })).status).toBe(200);
  });

  it('issues and revokes API keys, storing only their hash; every step is audited and the chain verifies', async () => {
    const id = await createTestTenant(pools.owner, 'adm');
    created.push(id);
    const operator = `Bearer ${await operatorToken({ role: 'operator', sub: 'alice' })}`;
    const issued = await call(admin, 'POST', `/admin/v1/tenants/${id}/api-keys`, { auth: operator });
    expect(issued.status).toBe(201);
    const key = String(issued.body['key']);
    expect(key).toMatch(/^fwk_[0-9a-f]{12}_/);
    const stored = await pools.owner.query<{ hash: string }>('SELECT hash FROM api_keys WHERE id = $1', [issued.body['id']]);
    expect(stored.rows[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0]?.hash).not.toContain(key.slice(17));
    const revoked = await call(admin, 'DELETE', `/admin/v1/tenants/${id}/api-keys/${String(issued.body['id'])}`, { auth: operator });
    expect(revoked.status).toBe(200);
    expect(revoked.body['revokedAt']).toEqual(expect.any(String));
    expect((await call(admin, 'DELETE', `/admin/v1/tenants/${id}/api-keys/${randomUUID()}`, { auth: operator })).status).toBe(404);

    const audit = await call(admin, 'GET', `/admin/v1/audit?tenant=${id}&actor=alice`, { auth: operator });
    expect((audit.body['entries'] as Array<{ action: string }>).map((e) => e.action)).toEqual(['key.issue', 'key.revoke']);
    expect(JSON.stringify(audit.body)).not.toContain(key.slice(17));
    expect((await call(admin, 'GET', `/admin/v1/audit/verify?tenant=${id}`, { auth: operator })).body).toMatchObject({ ok: true, entries: 2 });
  });

  it('creates, suspends, resumes and deletes a tenant, each change audited once by the operator who made it', async () => {
    const operator = `Bearer ${await operatorToken({ role: 'operator', sub: 'bob' })}`;
    const id = uniqueTenantId('adm');
    created.push(id);
    const made = await call(admin, 'POST', '/admin/v1/tenants', { auth: operator, body: { id, displayName: 'Admin Test', plan: 'standard' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ id, displayName: 'Admin Test', status: 'active' });
    expect((await call(admin, 'POST', '/admin/v1/tenants', { auth: operator, body: { id: 'Not Valid!' } })).status).toBe(400);
    expect((await call(admin, 'GET', `/admin/v1/tenants/${id}`, { auth: operator })).body['id']).toBe(id);
    expect((await call(admin, 'GET', '/admin/v1/tenants/nobody-here', { auth: operator })).body['code']).toBe('NOT_FOUND');
    expect((await call(admin, 'POST', `/admin/v1/tenants/${id}/suspend`, { auth: operator })).body['status']).toBe('suspended');
    expect((await findTenant(pools.owner, id))?.status).toBe('suspended');
    expect((await call(admin, 'POST', `/admin/v1/tenants/${id}/resume`, { auth: operator })).body['status']).toBe('active');
    expect((await call(admin, 'DELETE', `/admin/v1/tenants/${id}?reason=contract%20ended`, { auth: operator })).body['status']).toBe('deleted');
    // A repeated deletion changes and records nothing.
    expect((await call(admin, 'DELETE', `/admin/v1/tenants/${id}`, { auth: operator })).body['status']).toBe('deleted');

    const audit = await call(admin, 'GET', `/admin/v1/audit?tenant=${id}`, { auth: operator });
    const entries = audit.body['entries'] as Array<{ action: string; actor: string; reason?: string; before?: { status: string }; after?: { status: string } }>;
    expect(entries.map((e) => [e.action, e.actor, e.before?.status, e.after?.status])).toEqual([
      ['tenant.create', 'bob', undefined, 'active'],
      ['tenant.suspend', 'bob', 'active', 'suspended'],
      ['tenant.resume', 'bob', 'suspended', 'active'],
      ['tenant.delete', 'bob', 'active', 'offboarding'],
      ['data-keys.destroy', 'bob', undefined, undefined],
    ]);
    expect(
      entries
        .filter((e) => e.action !== 'tenant.create' && e.action !== 'tenant.suspend' && e.action !== 'tenant.resume')
        .every((e) => e.reason === 'contract ended'),
    ).toBe(true);
  });

  it('refuses a change whose audit entry cannot be written, and leaves the tenant as it was', async () => {
    const id = await createTestTenant(pools.owner, 'adm');
    created.push(id);
    // An actor the audit trail refuses (over 200 characters): the entry fails, so the change does too.
    const unrecordable = `Bearer ${await operatorToken({ role: 'operator', sub: 'x'.repeat(300) })}`;
    const res = await call(admin, 'POST', `/admin/v1/tenants/${id}/suspend`, { auth: unrecordable });
    expect(res.status).toBe(400);
    expect((await findTenant(pools.owner, id))?.status).toBe('active');
  });

  it('reads and changes quotas, stats and explanations through SchedulerAdmin, and answers 503 when it is down', async () => {
    const id = await createTestTenant(pools.owner, 'adm');
    created.push(id);
    const operator = `Bearer ${await operatorToken({ role: 'operator', sub: 'carol' })}`;
    const quota = await call(admin, 'GET', `/admin/v1/tenants/${id}/quota`, { auth: operator });
    expect(quota.body).toEqual({
      tenantId: id,
      weight: 2,
      rate: 10,
      burst: null,
      maxInFlight: 4,
      rateBasis: 'jobs',
      maxInFlightByClass: null,
      updatedAt: new Date(0).toISOString(),
      updatedBy: 'test',
    });
    const set = await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, { auth: operator, body: { weight: 3, clear: ['rate'] } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ weight: 3, updatedBy: 'carol' });
    expect(quotaCalls.at(-1)).toMatchObject({ tenantId: id, weight: 3, clear: ['rate'], actor: 'carol' });
    // Cost-based rates and per-class caps travel end to end, as the proto's map and string.
    const costed = await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, {
      auth: operator,
      body: { rate: 500, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } },
    });
    expect(costed).toMatchObject({ status: 200, body: { rate: 500, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } } });
    expect(quotaCalls.at(-1)).toMatchObject({ tenantId: id, rate: 500, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } });
    const badClass = await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, {
      auth: operator,
      body: { rateBasis: 'bytes', maxInFlightByClass: { heavy: 0 } },
    });
    expect(badClass).toMatchObject({
      status: 400,
      body: {
        code: 'VALIDATION_FAILED',
        errors: [expect.objectContaining({ path: 'rateBasis' }), expect.objectContaining({ path: 'maxInFlightByClass.heavy' })],
      },
    });
    // Every field tenantctl offers to clear, weight included, the API accepts (back to its default).
    expect((await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, { auth: operator, body: { clear: ['weight', 'maxInFlight'] } })).status).toBe(200);
    expect(quotaCalls.at(-1)).toMatchObject({ tenantId: id, clear: ['weight', 'maxInFlight'], actor: 'carol' });
    const bad = await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, { auth: operator, body: { weight: -1, maxInFlight: 1.5 } });
    expect(bad).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ path: 'weight' }), expect.objectContaining({ path: 'maxInFlight' })] },
    });
    expect((await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, { auth: operator, body: {} })).status).toBe(400);
    const callsBefore = quotaCalls.length;
    expect((await call(admin, 'PUT', `/admin/v1/tenants/${id}/quota`, { auth: operator, body: { colour: 'red' } })).status).toBe(400);
    expect(quotaCalls).toHaveLength(callsBefore);
    const stats = await call(admin, 'GET', '/admin/v1/stats', { auth: operator });
    expect(stats.body).toMatchObject({
      replica: 'test',
      tenants: [
        { tenantId: 'x', queued: 3, maxInFlight: null },
        { tenantId: 'y', maxInFlight: 2 },
      ],
    });
    expect(JSON.stringify(stats.body)).not.toContain('"_maxInFlight"');
    expect(stats.body).not.toHaveProperty('nextAfter');
    // ?limit= pages through SchedulerAdmin (page_size, after_tenant_id) and says where the next page starts.
    const page = await call(admin, 'GET', '/admin/v1/stats?limit=1', { auth: operator });
    expect(page.body).toMatchObject({ tenants: [{ tenantId: 'x' }], nextAfter: 'x' });
    expect(page.link).toBe('</admin/v1/stats?limit=1&after=x>; rel="next"');
    const last = await call(admin, 'GET', '/admin/v1/stats?limit=1&after=x', { auth: operator });
    expect(last.body).toMatchObject({ tenants: [{ tenantId: 'y' }], nextAfter: null });
    expect(statsCalls.slice(-2)).toEqual([
      { pageSize: 1, afterTenantId: '', sort: '' },
      { pageSize: 1, afterTenantId: 'x', sort: '' },
    ]);
    // ?sort= asks the scheduler for a top-N (#18): the key and the limit (20 when absent) cross as
    // they are, the answer keeps its totals and has no cursor.
    const top = await call(admin, 'GET', '/admin/v1/stats?sort=in-flight&limit=1', { auth: operator });
    expect(top.body).toEqual({
      replica: 'test',
      tenants: [expect.objectContaining({ tenantId: 'y', maxInFlight: 2 })],
      totals: { tenants: 2, queued: 4, inFlight: 2, busy: 2 },
      statsAt: new Date(0).toISOString(),
      capacity: null,
    });
    expect(top.link).toBeNull();
    await call(admin, 'GET', '/admin/v1/stats?sort=queued', { auth: operator });
    expect(statsCalls.slice(-2)).toEqual([
      { pageSize: 1, afterTenantId: '', sort: 'in-flight' },
      { pageSize: 20, afterTenantId: '', sort: 'queued' },
    ]);
    const calls = statsCalls.length;
    for (const bad of ['limit=0', 'limit=1001', 'after=x', 'limit=1&after=Not%20Valid!', 'sort=colour', 'sort=queued&after=x', 'sort=queued&limit=1001']) {
      const refused = await call(admin, 'GET', `/admin/v1/stats?${bad}`, { auth: operator });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(statsCalls).toHaveLength(calls);
    expect((await call(admin, 'GET', '/admin/v1/stats?sort=colour', { auth: operator })).body).toMatchObject({
      errors: [expect.objectContaining({ path: 'sort', message: expect.stringContaining("'queued' | 'in-flight' | 'wait-p99' | 'share' | 'tenant'") })],
    });
    expect((await call(admin, 'GET', `/admin/v1/tenants/${id}/explain`, { auth: operator })).body).toEqual({
      tenantId: id,
      state: 'no-tokens',
      reason: 'out of rate tokens',
      details: { tokens: 0 },
    });
    const audit = await call(admin, 'GET', `/admin/v1/audit?tenant=${id}&action=quota.set`, { auth: operator });
    // Three changes went through (the refused ones record nothing).
    expect(audit.body['entries']).toEqual([
      expect.objectContaining({ actor: 'carol', before: expect.objectContaining({ weight: 2 }), after: expect.objectContaining({ weight: 3 }) }),
      expect.objectContaining({ actor: 'carol', after: expect.objectContaining({ rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } }) }),
      expect.objectContaining({ actor: 'carol' }),
    ]);

    const down = await listen(createAdminApp({ ...deps, scheduler: schedulerDown }));
    const res = await call(down, 'GET', '/admin/v1/stats', { auth: operator });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstream: 'scheduler' });
  });

  it('lists the catalog a keyset page at a time: bounded pages, nextAfter and a Link to the next, nothing skipped or repeated when a tenant arrives between pages', async () => {
    const operator = `Bearer ${await operatorToken({ role: 'operator', sub: 'carol' })}`;
    const base = uniqueTenantId('page');
    const mine = [1, 2, 3, 5, 6].map((n) => `${base}-${n}`);
    for (const id of mine) await upsertTenant(pools.owner, { id: id as TenantId });
    created.push(...mine, `${base}-4`);

    const seen: string[] = [];
    let after = `${base}-0`;
    let page = await call(admin, 'GET', `/admin/v1/tenants?limit=2&after=${after}`, { auth: operator });
    expect(page.status).toBe(200);
    expect((page.body['tenants'] as Array<{ id: string }>).map((t) => t.id)).toEqual([`${base}-1`, `${base}-2`]);
    expect(page.body['nextAfter']).toBe(`${base}-2`);
    expect(page.link).toBe(`</admin/v1/tenants?limit=2&after=${base}-2>; rel="next"`);
    // A tenant onboarded between two pages lands where its id sorts; the pages neither skip nor repeat.
    await upsertTenant(pools.owner, { id: `${base}-4` as TenantId });
    while (typeof page.body['nextAfter'] === 'string' && after.startsWith(base)) {
      seen.push(...(page.body['tenants'] as Array<{ id: string }>).map((t) => t.id));
      after = page.body['nextAfter'];
      page = await call(admin, 'GET', `/admin/v1/tenants?limit=2&after=${after}`, { auth: operator });
    }
    seen.push(...(page.body['tenants'] as Array<{ id: string }>).map((t) => t.id));
    expect(seen.filter((id) => id.startsWith(`${base}-`))).toEqual([1, 2, 3, 4, 5, 6].map((n) => `${base}-${n}`));

    const first = await call(admin, 'GET', '/admin/v1/tenants', { auth: operator });
    expect((first.body['tenants'] as unknown[]).length).toBeLessThanOrEqual(100);
    for (const bad of ['limit=0', 'limit=1001', 'limit=abc', 'after=Not%20Valid!', 'offset=10']) {
      const refused = await call(admin, 'GET', `/admin/v1/tenants?${bad}`, { auth: operator });
      expect({ bad, status: refused.status, code: refused.body['code'] }).toEqual({ bad, status: 400, code: 'VALIDATION_FAILED' });
    }
    const last = await call(admin, 'GET', `/admin/v1/tenants?limit=1000&after=${'z'.repeat(63)}`, { auth: operator });
    expect(last.body).toEqual({ tenants: [], nextAfter: null });
    expect(last.link).toBeNull();
  });
});
