import { Client } from 'pg';
import type { TenantId } from '@fairway/tenant-context';
import { NotFoundError } from '@fairway/errors';
import { DbRole, TenantDataRouter, createPool, deprovisionTenant, findTenant, type IsolationModel } from '../index';
import { createIsolatedTestTenant, dropIsolatedTestTenants, eventually, testAdminUrl, testDatabaseUrls, testPools } from '../testing';

/** Waits until `check` holds (the router's tenant cache learns of a change by notification). */
const until = (what: string, check: () => Promise<boolean>) => eventually(what, check, { until: (done) => done, intervalMs: 25 });

describe('TenantDataRouter: one API, three isolation models (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let router: TenantDataRouter;
  const tenants: Record<IsolationModel, TenantId[]> = { pooled: [], schema: [], database: [] };
  const created: TenantId[] = [];

  beforeAll(async () => {
    pools = testPools();
    for (const model of ['pooled', 'schema', 'database'] as const) {
      for (const prefix of ['a', 'b']) {
        const id = await createIsolatedTestTenant(pools.owner, model, `${model.slice(0, 2)}${prefix}`);
        tenants[model].push(id);
        created.push(id);
      }
    }
    router = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app, maxConnections: 4, perDatabaseMax: 1 });
    await router.start();
  });

  afterAll(async () => {
    await router.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await pools.end();
  });

  it.each(['pooled', 'schema', 'database'] as const)('puts a %s tenant where the catalog says and keeps its rows to itself', async (model) => {
    const [a, b] = tenants[model] as [TenantId, TenantId];
    await router.withTenant(a, (tx) => tx.query(`INSERT INTO records (id, title) VALUES (gen_random_uuid(), 'of a')`));
    await router.withTenant(b, (tx) => tx.query(`INSERT INTO records (id, title) VALUES (gen_random_uuid(), 'of b')`));
    // A raw query that forgets any tenant filter sees only the tenant's own rows, in every model.
    const seenByA = await router.withTenant(a, async (tx) => (await tx.query<{ title: string }>('SELECT title FROM records')).rows.map((r) => r.title));
    expect(seenByA).toEqual(['of a']);
    const where = await router.withTenant(
      a,
      async (tx) =>
        (
          await tx.query<{ db: string; path: string; t: string }>(
            "SELECT current_database() AS db, current_setting('search_path') AS path, current_setting('app.tenant_id', true) AS t",
          )
        ).rows[0],
    );
    const entry = await findTenant(pools.owner, a);
    expect(where?.t).toBe(a);
    if (model === 'schema') expect(where?.path).toBe(`"${entry?.schemaName}"`);
    if (model === 'database') expect(where?.db).toBe(entry?.dbName);
    if (model === 'pooled') expect(where?.db).toBe(new URL(testDatabaseUrls().app).pathname.slice(1));
  });

  it('sets search_path and the tenant only for the transaction: the next borrower of the connection sees neither', async () => {
    const [a] = tenants.schema as [TenantId];
    await router.withTenant(a, async () => undefined);
    const clients = await Promise.all([1, 2, 3, 4].map(() => pools.app.connect()));
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ path: string; t: string | null }>(
          "SELECT current_setting('search_path') AS path, nullif(current_setting('app.tenant_id', true), '') AS t",
        );
        expect(rows[0]).toEqual({ path: '"$user", public', t: null });
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it("refuses the application role another tenant's database, even with a hand-made URL", async () => {
    const [, b] = tenants.database as [TenantId, TenantId];
    const entry = await findTenant(pools.owner, b);
    const url = new URL(testDatabaseUrls().app);
    url.pathname = `/${entry?.dbName}`;
    const client = new Client({ connectionString: url.toString() });
    // The app role may connect (the router needs it), but no role other than app and owner may.
    await client.connect();
    await client.end();
    const admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ok: boolean }>("SELECT has_database_privilege('public', $1, 'CONNECT') AS ok", [entry?.dbName]);
      expect(rows[0]?.ok).toBe(false);
      const owned = await admin.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [entry?.dbName]);
      expect(owned.rows[0]?.owner).toBe(DbRole.owner);
    } finally {
      await admin.end();
    }
  });

  it('drops its cached route when the catalog changes (LISTEN/NOTIFY), without waiting for the TTL', async () => {
    const [a] = tenants.pooled as [TenantId];
    await router.withTenant(a, async () => undefined);
    const lookups = router.stats().catalogLookups;
    await router.withTenant(a, async () => undefined);
    expect(router.stats().catalogLookups).toBe(lookups); // served from the cache
    await pools.owner.query("UPDATE tenants SET status = 'offboarding' WHERE id = $1", [a]);
    try {
      await until('the router refusing the offboarding tenant', async () => {
        try {
          await router.withTenant(a, async () => undefined);
          return false;
        } catch (err) {
          return err instanceof NotFoundError;
        }
      });
    } finally {
      await pools.owner.query("UPDATE tenants SET status = 'active' WHERE id = $1", [a]);
    }
  });

  it('refuses an unknown tenant with NotFoundError', async () => {
    await expect(router.withTenant('no-such-tenant-x' as TenantId, async () => undefined)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('serves many tenant databases through a small global connection budget, never holding more than it', async () => {
    const extra: TenantId[] = [];
    for (let i = 0; i < 3; i += 1) extra.push(await createIsolatedTestTenant(pools.owner, 'database', `budget${i}`));
    created.push(...extra);
    const small = new TenantDataRouter({
      catalogPool: pools.app,
      catalogUrl: testDatabaseUrls().app,
      maxConnections: 2,
      perDatabaseMax: 1,
      listen: false,
      applicationName: 'fairway-budget-test',
    });
    let maxReserved = 0;
    try {
      const all = [...extra, ...(tenants.database as TenantId[])];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          small.withTenant(all[i % all.length] as TenantId, async (tx) => {
            maxReserved = Math.max(maxReserved, small.stats().budget.reservedConnections);
            const { rows } = await tx.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'fairway-budget-test'");
            expect(Number(rows[0]?.n)).toBeLessThanOrEqual(2);
            return (await tx.query('SELECT count(*) FROM records')).rows;
          }),
        ),
      );
      expect(maxReserved).toBeLessThanOrEqual(2);
      expect(small.stats().budget.poolsOpened).toBeGreaterThan(2); // pools were closed and reopened (LRU)
    } finally {
      await small.close();
    }
  });

  it('offboards each model: pooled rows deleted, schema dropped, database dropped, tenant marked deleted', async () => {
    const deps = { ownerPool: pools.owner, ownerUrl: testDatabaseUrls().owner };
    for (const model of ['pooled', 'schema', 'database'] as const) {
      const id = await createIsolatedTestTenant(pools.owner, model, `off${model.slice(0, 2)}`);
      created.push(id);
      await router.withTenant(id, (tx) => tx.query(`INSERT INTO records (id, title) VALUES (gen_random_uuid(), 'bye')`));
      const entry = await findTenant(pools.owner, id);
      const report = await deprovisionTenant(deps, id);
      expect(report.tenant.status).toBe('deleted');
      const admin = createPool({ connectionString: testAdminUrl(), applicationName: 'fairway-test-admin', max: 1 });
      try {
        const left = await admin.query('SELECT 1 FROM records WHERE tenant_id = $1', [id]);
        expect(left.rowCount).toBe(0);
        if (model === 'pooled') expect(report.pooledRecordsDeleted).toBe(1);
        if (model === 'schema') {
          const schema = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [entry?.schemaName]);
          expect(schema.rowCount).toBe(0);
        }
        if (model === 'database') {
          const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [entry?.dbName]);
          expect(db.rowCount).toBe(0);
        }
      } finally {
        await admin.end();
      }
      await until('the router refusing the deleted tenant', async () =>
        router
          .withTenant(id, async () => true)
          .then(
            () => false,
            (err: unknown) => err instanceof NotFoundError,
          ),
      );
    }
  });
});
