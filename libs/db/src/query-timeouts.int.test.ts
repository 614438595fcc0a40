import { Pool } from 'pg';
import { QueryTimeoutError } from '@fairway/errors';
import type { TenantId } from '@fairway/tenant-context';
import { TenantDataRouter, getQueryTimeouts, onQueryTimeout, setQueryTimeouts, withQueryWorkload, withTenantId, type QueryTimeoutEvent } from './index';
import { createIsolatedTestTenant, dropIsolatedTestTenants, eventually, testAdminUrl, testDatabaseUrls, testPools } from './testing';

/** The error `work` ends with (the test fails if it succeeds). */
async function failureOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

describe('per-tenant query time limits: SET LOCAL in every tenant transaction, every model (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Pool;
  /** ONE small pool for every tenant of the catalog database: the slow tenant and its neighbour share connections. */
  let shared: Pool;
  let router: TenantDataRouter;
  const created: TenantId[] = [];
  const events: QueryTimeoutEvent[] = [];
  let stopListening: () => void;

  const tenantIn = async (model: 'pooled' | 'schema' | 'database', prefix: string) => {
    const id = await createIsolatedTestTenant(pools.owner, model, prefix);
    created.push(id);
    return id;
  };

  beforeAll(async () => {
    pools = testPools();
    admin = new Pool({ connectionString: testAdminUrl(), max: 2 });
    shared = new Pool({ connectionString: testDatabaseUrls().app, max: 2 });
    router = new TenantDataRouter({ catalogPool: shared, catalogUrl: testDatabaseUrls().app, maxConnections: 4, perDatabaseMax: 2 });
    await router.start();
    stopListening = onQueryTimeout((event) => events.push(event));
  });

  afterAll(async () => {
    stopListening();
    await router.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await Promise.all([shared.end(), admin.end()]);
    await pools.end();
  });

  it.each(['pooled', 'schema', 'database'] as const)(
    "cancels a %s tenant's pg_sleep at its statement limit while its neighbour's longer query in the same pool completes",
    async (model) => {
      const slow = await tenantIn(model, `qs${model.slice(0, 2)}`);
      const calm = await tenantIn(model, `qc${model.slice(0, 2)}`);
      await setQueryTimeouts(pools.owner, 'tenant', slow, { interactive: { statementTimeoutMs: 300 } }, 'test');

      // The neighbour sleeps longer than the slow tenant's limit and still finishes: the limit is
      // the tenant's, not the pool's or the connection's.
      const [slowOutcome, calmOutcome] = await Promise.all([
        failureOf(router.withTenant(slow, (tx) => tx.query('SELECT pg_sleep(30)'))),
        router.withTenant(calm, async (tx) => (await tx.query<{ done: boolean }>('SELECT true AS done FROM pg_sleep(0.6)')).rows[0]?.done),
      ]);
      expect(slowOutcome).toBeInstanceOf(QueryTimeoutError);
      expect(slowOutcome).toMatchObject({ code: 'QUERY_TIMEOUT', kind: 'statement', limitMs: 300, workload: 'interactive', tenantId: slow, retriable: false });
      expect(calmOutcome).toBe(true);
      expect(events).toContainEqual({ tenantId: slow, kind: 'statement', workload: 'interactive' });
      expect(events.some((e) => e.tenantId === calm)).toBe(false);

      // The neighbour runs under the default plan's limit; the slow tenant's stays in its transaction.
      const calmLimit = await router.withTenant(
        calm,
        async (tx) => (await tx.query<{ ms: string }>("SELECT setting AS ms FROM pg_settings WHERE name = 'statement_timeout'")).rows[0]?.ms,
      );
      const defaults = await getQueryTimeouts(pools.owner, 'plan', '*');
      expect(Number(calmLimit)).toBe(defaults.interactive.statementTimeoutMs);
    },
  );

  it('applies the limits on the catalog path too (withTenantId), and no limit outlives its transaction', async () => {
    const slow = await tenantIn('pooled', 'qcat');
    await setQueryTimeouts(
      pools.owner,
      'tenant',
      slow,
      { interactive: { statementTimeoutMs: 250, lockTimeoutMs: 150, idleInTransactionTimeoutMs: 4000 } },
      'test',
    );
    const failed = await failureOf(withTenantId(shared, slow, (tx) => tx.query('SELECT pg_sleep(30)')));
    expect(failed).toMatchObject({ code: 'QUERY_TIMEOUT', kind: 'statement', limitMs: 250 });
    // Both connections of the pool, whichever served the tenant, are back at the session's values.
    const clients = await Promise.all([shared.connect(), shared.connect()]);
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ name: string; setting: string }>(
          "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout') ORDER BY name",
        );
        expect(rows.map((r) => r.setting)).toEqual(['0', '0', '0']);
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('gives heavy work (jobs) its own limits, separate from interactive requests', async () => {
    const tenant = await tenantIn('schema', 'qhv');
    await setQueryTimeouts(pools.owner, 'tenant', tenant, { interactive: { statementTimeoutMs: 7000 }, heavy: { statementTimeoutMs: 200 } }, 'test');
    const setting = () =>
      router.withTenant(
        tenant,
        async (tx) => (await tx.query<{ ms: string }>("SELECT setting AS ms FROM pg_settings WHERE name = 'statement_timeout'")).rows[0]?.ms,
      );
    await eventually('the router to read the new limits', () => setting(), { until: (ms) => ms === '7000', intervalMs: 25 });
    const failed = await failureOf(withQueryWorkload('heavy', () => router.withTenant(tenant, (tx) => tx.query('SELECT pg_sleep(30)'))));
    expect(failed).toMatchObject({ code: 'QUERY_TIMEOUT', kind: 'statement', limitMs: 200, workload: 'heavy' });
    expect(await setting()).toBe('7000');
  });

  it('ends a lock wait at the lock limit with a retriable QUERY_TIMEOUT', async () => {
    const tenant = await tenantIn('pooled', 'qlk');
    await setQueryTimeouts(pools.owner, 'tenant', tenant, { interactive: { lockTimeoutMs: 200 } }, 'test');
    const key = Math.floor(Math.random() * 2 ** 31);
    const holder = await admin.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [key]);
      const failed = await failureOf(withTenantId(shared, tenant, (tx) => tx.query('SELECT pg_advisory_xact_lock($1)', [key])));
      expect(failed).toMatchObject({ code: 'QUERY_TIMEOUT', kind: 'lock', limitMs: 200, retriable: true });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [key]);
      holder.release();
    }
  });

  it('ends a transaction left idle past the idle limit; the broken connection is not pooled again and the process survives', async () => {
    const tenant = await tenantIn('pooled', 'qid');
    await setQueryTimeouts(pools.owner, 'tenant', tenant, { interactive: { idleInTransactionTimeoutMs: 200 } }, 'test');
    const failed = await failureOf(
      withTenantId(shared, tenant, async (tx) => {
        const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
        // The transaction sits idle until the server has ended its session.
        await eventually('the idle session to be ended', async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount, {
          until: (rows) => rows === 0,
          intervalMs: 50,
        });
        await tx.query('SELECT 1');
      }),
    );
    expect(failed).toMatchObject({ code: 'QUERY_TIMEOUT', kind: 'idle_in_transaction', limitMs: 200 });
    const { rows } = await shared.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
  });

  it('applies a changed plan limit to its tenants live: the routers hear it and drop their cached limits', async () => {
    const tenant = await tenantIn('database', 'qpl');
    const plan = `test-${tenant
      .slice(-8)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
    await pools.owner.query('UPDATE tenants SET plan = $2 WHERE id = $1', [tenant, plan]);
    try {
      const limit = () => router.queryTimeouts(tenant).then((t) => t.interactive.statementTimeoutMs);
      await eventually('the default limit', limit, { until: (ms) => ms === 5000, intervalMs: 25 });
      await setQueryTimeouts(pools.owner, 'plan', plan, { interactive: { statementTimeoutMs: 1234 } }, 'test');
      await eventually("the plan's new limit", limit, { until: (ms) => ms === 1234, intervalMs: 25 });
      await setQueryTimeouts(pools.owner, 'tenant', tenant, { interactive: { statementTimeoutMs: 4321 } }, 'test');
      await eventually("the tenant's own limit over its plan's", limit, { until: (ms) => ms === 4321, intervalMs: 25 });
      await setQueryTimeouts(pools.owner, 'tenant', tenant, { interactive: { statementTimeoutMs: null } }, 'test');
      await eventually("the plan's limit again once the tenant's is cleared", limit, { until: (ms) => ms === 1234, intervalMs: 25 });
    } finally {
      await pools.owner.query("DELETE FROM query_timeouts WHERE scope = 'plan' AND name = $1", [plan]);
    }
  });
});
