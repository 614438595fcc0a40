import type { Server } from 'node:http';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { OPERATOR_TOKENS, TokenVerifier } from '@fairway/auth';
import { TenantDataRouter } from '@fairway/db';
import { createTestTenant, dropTestTenants, eventually, testAdminUrl, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { createLogger } from '@fairway/telemetry';
import { createAdminApp } from './admin-app';
import { SchedulerAdminGateway } from './scheduler-admin-client';
import { TenantCatalog } from './tenant-catalog';

const OPERATOR_SECRET = new TextEncoder().encode('operator-int-secret-0123456789-0123456789');
const log = createLogger('query-timeouts-admin-int', 'silent');

/** Operators change a tenant's and a plan's query time limits through the admin API, live. */
describe('the admin API: query time limits (real PostgreSQL)', () => {
  const pools = testPools();
  const superuser = new Pool({ connectionString: testAdminUrl(), max: 1 });
  const created: string[] = [];
  let server: Server;
  let base: string;
  let auth: string;
  let scheduler: SchedulerAdminGateway;
  let router: TenantDataRouter;
  const plan = `qt-admin-${process.pid}`;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/admin/v1${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    scheduler = new SchedulerAdminGateway('127.0.0.1:1', 1_000);
    const app = createAdminApp({
      tokens: new TokenVerifier({ secret: OPERATOR_SECRET, issuer: OPERATOR_TOKENS.issuer, audience: OPERATOR_TOKENS.audience }),
      catalog: new TenantCatalog({ ownerPool: pools.owner, ownerUrl: testDatabaseUrls().owner }, log),
      scheduler,
      ownerPool: pools.owner,
      log,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const token = await new SignJWT({ role: 'operator', sub: 'qt-operator' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(OPERATOR_TOKENS.issuer)
      .setAudience(OPERATOR_TOKENS.audience)
      .setExpirationTime('10m')
      .sign(OPERATOR_SECRET);
    auth = `Bearer ${token}`;
    router = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app });
    await router.start();
  });

  afterAll(async () => {
    await router.close();
    await new Promise((resolve) => server.close(resolve));
    scheduler.close();
    await pools.owner.query("DELETE FROM query_timeouts WHERE scope = 'plan' AND name = $1", [plan]);
    await dropTestTenants(pools.owner, created);
    await superuser.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [created]);
    await superuser.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [created]);
    await Promise.all([pools.end(), superuser.end()]);
  });

  it("sets a tenant's limits, answers what is in force, audits the change, and the tenant's next transaction runs under them", async () => {
    const id = await createTestTenant(pools.owner, 'qta');
    created.push(id);
    await pools.owner.query('UPDATE tenants SET plan = $2 WHERE id = $1', [id, plan]);
    expect((await call('PUT', `/plans/${plan}/query-timeouts`, { heavy: { statementTimeoutMs: 90_000 } })).status).toBe(200);

    const set = await call('PUT', `/tenants/${id}/query-timeouts`, { interactive: { statementTimeoutMs: 1500, lockTimeoutMs: 0 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      scope: 'tenant',
      name: id,
      interactive: { statementTimeoutMs: 1500, lockTimeoutMs: 0, idleInTransactionTimeoutMs: null },
      updatedBy: 'qt-operator',
      effective: {
        interactive: { statementTimeoutMs: 1500, lockTimeoutMs: 0, idleInTransactionTimeoutMs: 10_000 },
        heavy: { statementTimeoutMs: 90_000, lockTimeoutMs: 10_000, idleInTransactionTimeoutMs: 60_000 },
      },
    });
    const inForce = () =>
      router.withTenant(
        id as never,
        async (tx) => (await tx.query<{ s: string }>("SELECT setting AS s FROM pg_settings WHERE name = 'statement_timeout'")).rows[0]?.s,
      );
    await eventually('the tenant transaction under the new limit', inForce, { until: (s) => s === '1500', intervalMs: 25 });

    const { rows } = await superuser.query<{ action: string; target: string }>('SELECT action, target FROM audit_log WHERE chain = $1 ORDER BY seq', [id]);
    expect(rows).toContainEqual({ action: 'query-timeouts.set', target: `tenant:${id}` });

    const cleared = await call('PUT', `/tenants/${id}/query-timeouts`, { interactive: { statementTimeoutMs: null } });
    expect((cleared.body['effective'] as Record<string, Record<string, unknown>>)['interactive']?.['statementTimeoutMs']).toBe(5000);
  });

  it('refuses a bad body as problem+json naming the field, and an unknown tenant or malformed plan as 404', async () => {
    const id = await createTestTenant(pools.owner, 'qtb');
    created.push(id);
    const bad = await call('PUT', `/tenants/${id}/query-timeouts`, { interactive: { statementTimeoutMs: -1 }, nightly: {} });
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/application\/problem\+json/);
    expect(bad.body['code']).toBe('VALIDATION_FAILED');
    const paths = (bad.body['errors'] as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['interactive.statementTimeoutMs', '(body)']));
    expect((await call('PUT', `/tenants/${id}/query-timeouts`, {})).status).toBe(400);
    expect((await call('GET', '/tenants/no-such-tenant-qt/query-timeouts')).status).toBe(404);
    expect((await call('GET', '/plans/NOT%20A%20PLAN/query-timeouts')).status).toBe(404);
    const defaults = await call('GET', '/plans/*/query-timeouts');
    expect(defaults.body).toMatchObject({ scope: 'plan', name: '*', interactive: { statementTimeoutMs: 5000 }, heavy: { statementTimeoutMs: 60_000 } });
  });
});
