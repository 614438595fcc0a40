import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { OPERATOR_TOKENS, TokenVerifier } from '@fairway/auth';
import { createTestTenant, dropTestTenants, testPools } from '@fairway/db/testing';
import { JobLifecycle, type NewJob } from '@fairway/job-store';
import { QUOTA_DEFAULTS } from '@fairway/quota';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { readRecordedTrace } from '@fairway/what-if';
import { createAdminApp, type AdminDeps } from './admin-app';

const OPERATOR_SECRET = new TextEncoder().encode('what-if-int-secret-0123456789-0123456789');

/**
 * The admin API's what-if routes over the real jobs table: GET /trace streams a window's finished
 * jobs as the owner role reads them (migration 905), POST /what-if replays a window or an uploaded
 * trace with proposed changes. The scheduler's side (capacity and quotas) is a stub here: the
 * replay's fidelity against a real scheduler is what-if-replay.int.test.ts's.
 */
describe('the admin API what-if routes (real PostgreSQL)', () => {
  const pools = testPools();
  const tenants: TenantId[] = [];
  let server: Server;
  let base: string;
  let auth: string;
  let acme: TenantId;
  let globex: TenantId;
  let statsCalls = 0;

  beforeAll(async () => {
    acme = await createTestTenant(pools.owner, 'wiacme');
    globex = await createTestTenant(pools.owner, 'wiglobex');
    tenants.push(acme, globex);
    // A recorded run: 25 jobs of acme and 5 of globex ran and finished; one more of acme still waits.
    const lifecycle = new JobLifecycle(pools.scheduler, 'what-if-admin-test');
    const job = (tenantId: TenantId): NewJob => ({
      id: randomUUID(),
      tenantId,
      type: 'synthetic',
      jobClass: 'standard',
      params: {},
      priority: 0,
      traceHeaders: {},
      acceptedAt: new Date().toISOString(),
      partition: 900_000,
    });
    const ran = [...Array.from({ length: 25 }, () => job(acme)), ...Array.from({ length: 5 }, () => job(globex))];
    await lifecycle.insertJobs([...ran, job(acme)]);
    const claimed = await lifecycle.claimMany(
      ran.map((j) => j.id),
      30_000,
    );
    await lifecycle.succeedMany(claimed.map((c) => ({ jobId: c!.id, attempt: c!.attempt, resultJson: '{}' })));

    const scheduler = {
      stats: async () => {
        statsCalls += 1;
        return { tenants: [], replica: 'stub', capacity: { total: 4, inUse: 0, tiers: [{ name: 'standard', slots: 4, inUse: 0 }], workers: [] } };
      },
      getQuota: async (tenantId: string) => ({ tenantId, ...QUOTA_DEFAULTS, weight: tenantId === acme ? 2 : 1, updatedAt: '', updatedBy: '' }),
    } as unknown as AdminDeps['scheduler'];
    const app = createAdminApp({
      tokens: new TokenVerifier({ secret: OPERATOR_SECRET, issuer: OPERATOR_TOKENS.issuer, audience: OPERATOR_TOKENS.audience }),
      catalog: {} as AdminDeps['catalog'],
      scheduler,
      ownerPool: pools.owner,
      log: createLogger('what-if-admin-int', 'silent'),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/admin/v1`;
    const token = await new SignJWT({ role: 'operator', sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(OPERATOR_TOKENS.issuer)
      .setAudience(OPERATOR_TOKENS.audience)
      .setExpirationTime('10m')
      .sign(OPERATOR_SECRET);
    auth = `Bearer ${token}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dropTestTenants(pools.owner, tenants);
    await pools.end();
  });

  const window = () => `since=10m&tenant=${acme}&tenant=${globex}`;

  it("streams a window's finished jobs as a trace whose end line holds the tiers, the quotas and the count", async () => {
    expect((await fetch(`${base}/trace?${window()}`)).status).toBe(401);
    const res = await fetch(`${base}/trace?${window()}`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    const trace = await readRecordedTrace(text.split('\n'));
    expect(trace.jobs.filter((j) => j.tenant === acme)).toHaveLength(25);
    expect(trace.jobs.filter((j) => j.tenant === globex)).toHaveLength(5);
    expect(trace.end).toMatchObject({ jobs: 30, unfinished: 1, tiers: { standard: { slots: 4 } } });
    expect(trace.end.quotas[acme]?.weight).toBe(2);
    expect(trace.end.quotas[globex]).toEqual(QUOTA_DEFAULTS);
    // Arrival order, times relative to the window's start, and no tenant data (params, results).
    const arrivals = trace.jobs.map((j) => j.t);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    expect(text).not.toContain('params');
  });

  it('serves the OpenAPI document of these operations to operators', async () => {
    expect((await fetch(`${base}/what-if/openapi.json`)).status).toBe(401);
    const doc = (await (await fetch(`${base}/what-if/openapi.json`, { headers: { authorization: auth } })).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/admin/v1/trace', '/admin/v1/what-if']);
  });

  it('answers a bad window with problem+json naming the parameter, before any line', async () => {
    const res = await fetch(`${base}/trace?since=yesterday`, { headers: { authorization: auth } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await res.json()) as { detail: string }).detail).toContain(
      "since must be a duration back from until (1h, 30m) or an ISO 8601 instant (got 'yesterday')",
    );
    expect((await fetch(`${base}/trace?since=1h&tenant=Not_A_Tenant`, { headers: { authorization: auth } })).status).toBe(400);
  });

  it('replays a window of the jobs table with proposed changes checked by @fairway/quota', async () => {
    const post = (body: unknown) =>
      fetch(`${base}/what-if`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await post({ since: '10m', tenant: [acme, globex], changes: { [globex]: { maxInFlight: 1 } } });
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      jobs: number;
      tenants: Array<{ tenant: string; jobs: number; quota: { proposed: { maxInFlight: number | null; weight: number } } }>;
    };
    expect(report.jobs).toBe(30);
    expect(report.tenants.map((t) => [t.tenant, t.jobs, t.quota.proposed.maxInFlight, t.quota.proposed.weight])).toEqual(
      [
        [acme, 25, null, 2],
        [globex, 5, 1, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const bad = await post({ since: '10m', tenant: [acme], changes: { [acme]: { weight: 0 } } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toContain(`the change of ${acme} is not valid: weight`);
  });

  it('replays an uploaded trace with ?set= changes, and names a bad one', async () => {
    const exported = await (await fetch(`${base}/trace?${window()}`, { headers: { authorization: auth } })).text();
    const upload = (query: string, body: string) =>
      fetch(`${base}/what-if?${query}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-ndjson' }, body });
    const calls = statsCalls;
    const res = await upload(`set=${acme}:weight=4&set=${globex}:maxInFlight=1`, exported);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { changes: Record<string, unknown> };
    expect(report.changes).toEqual({ [acme]: { weight: 4, clear: [] }, [globex]: { maxInFlight: 1, clear: [] } });
    // An uploaded trace carries its own capacity: the scheduler is not asked.
    expect(statsCalls).toBe(calls);
    const misspelt = await upload(`set=${acme}:wieght=4`, exported);
    expect(misspelt.status).toBe(400);
    expect(((await misspelt.json()) as { detail: string }).detail).toContain(`set '${acme}:wieght=4': 'wieght' is not a quota field`);
    const cut = await upload('', exported.split('\n').slice(0, 10).join('\n'));
    expect(cut.status).toBe(400);
    expect(((await cut.json()) as { detail: string }).detail).toContain('no end line after 10 job(s): the trace is cut');
  });
});
