import path from 'node:path';
import { Client, Pool } from 'pg';
import type { TenantId } from '@fairway/tenant-context';
import {
  ReadReplica,
  TenantDataRouter,
  createPool,
  deprovisionTenant,
  prepareDatabase,
  provisionTenant,
  type IsolationModel,
  type ReplicaFallbackReason,
  withTenantId,
} from './index';
import { eventually, uniqueTenantId } from './testing';

/** The project-owned primary + hot standby (scripts/lib/pg-pair.cjs), started here if it is not running. */
interface PgPair {
  ensurePair(options?: { log?: (msg: string) => void }): { started: boolean; primaryAdminUrl: string; standbyAdminUrl: string; standbyPort: number };
  stopPair(): boolean;
  onPort(url: string, port: number): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a set-up script of the repository, not a dependency
const pgPair = require(path.resolve(__dirname, '..', '..', '..', 'scripts', 'lib', 'pg-pair.cjs')) as PgPair;

const DATABASE = 'fairway_replica_test';

describe('reads on a real hot standby fed by streaming replication (project-owned pair)', () => {
  let pair: ReturnType<PgPair['ensurePair']>;
  let owner: Pool;
  let primaryApp: Pool;
  let replicaApp: Pool;
  let standbyAdmin: Client;
  let replica: ReadReplica;
  let router: TenantDataRouter;
  const fallbacks: ReplicaFallbackReason[] = [];
  const tenants: Record<IsolationModel, TenantId[]> = { pooled: [], schema: [], database: [] };
  let ownerUrl: string;

  /** Runs `fn` on the standby as `tenant` (the replica always acceptable) and says where it ran. */
  const onReplica = (tenant: TenantId, sql: string) =>
    router.withTenant(
      tenant,
      async (tx) => ({
        standby: (await tx.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r,
        rows: (await tx.query<Record<string, unknown>>(sql)).rows,
      }),
      { replica: true, maxLagMs: 60_000 },
    );

  beforeAll(async () => {
    pair = pgPair.ensurePair();
    const adminUrl = new URL(pair.primaryAdminUrl);
    adminUrl.pathname = `/${DATABASE}`;
    const prepared = await prepareDatabase(adminUrl.toString());
    ownerUrl = prepared.urls.owner;
    owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'replica-test-owner', max: 4 });
    primaryApp = createPool({ connectionString: prepared.urls.app, applicationName: 'replica-test-app', max: 4 });
    const replicaUrl = pgPair.onPort(prepared.urls.app, pair.standbyPort);
    replicaApp = createPool({ connectionString: replicaUrl, applicationName: 'replica-test-replica', max: 4 });
    const standbyAdminUrl = new URL(pair.standbyAdminUrl);
    standbyAdminUrl.pathname = `/${DATABASE}`;
    standbyAdmin = new Client({ connectionString: standbyAdminUrl.toString() });
    // The database and its migrations reach the standby through the WAL.
    await eventually(
      'the migrated database on the standby',
      async () => {
        try {
          await standbyAdmin.connect();
          return true;
        } catch {
          standbyAdmin = new Client({ connectionString: standbyAdminUrl.toString() });
          return false;
        }
      },
      { until: (ok) => ok, timeoutMs: 30_000 },
    );
    await eventually(
      'the catalog migrations replayed on the standby',
      async () => (await standbyAdmin.query("SELECT to_regproc('fairway_enter_tenant') AS f")).rows[0]?.f,
      { timeoutMs: 30_000 },
    );
    replica = new ReadReplica({
      primaryPool: primaryApp,
      replicaPool: replicaApp,
      replicaUrl,
      maxLagMs: 5_000,
      probeIntervalMs: 20,
      onFallback: (r) => fallbacks.push(r),
    });
    router = new TenantDataRouter({ catalogPool: primaryApp, catalogUrl: prepared.urls.app, replica, maxConnections: 8, perDatabaseMax: 2 });
    for (const model of ['pooled', 'schema', 'database'] as const) {
      for (const prefix of ['ra', 'rb']) {
        const id = uniqueTenantId(`${prefix}${model.slice(0, 2)}`);
        await provisionTenant({ ownerPool: owner, ownerUrl }, { id, isolationModel: model });
        tenants[model].push(id);
      }
    }
  }, 90_000);

  afterAll(async () => {
    await standbyAdmin?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await standbyAdmin?.end().catch(() => undefined);
    await router?.close();
    for (const id of Object.values(tenants).flat()) await deprovisionTenant({ ownerPool: owner, ownerUrl }, id).catch(() => undefined);
    await Promise.all([owner?.end(), primaryApp?.end(), replicaApp?.end()]);
    // A pair this test started is stopped again; one `npm run up` runs is left alone.
    if (pair?.started) pgPair.stopPair();
  });

  it.each(['pooled', 'schema', 'database'] as const)(
    "applies RLS and the tenant's scope on the standby (%s): a tenant reads its own replicated rows and never another's",
    async (model) => {
      const [a, b] = tenants[model] as [TenantId, TenantId];
      await router.withTenant(a, (tx) => tx.query(`INSERT INTO records (id, title, amount) VALUES (gen_random_uuid(), 'of a', 1)`));
      await router.withTenant(b, (tx) => tx.query(`INSERT INTO records (id, title, amount) VALUES (gen_random_uuid(), 'of b', 2)`));
      const seen = await eventually('both rows replicated', () => onReplica(b, 'SELECT title FROM records'), {
        until: (r) => r.rows.length > 0,
        intervalMs: 25,
      });
      expect(seen.standby).toBe(true);
      expect(seen.rows).toEqual([{ title: 'of b' }]);
      const ofA = await onReplica(a, 'SELECT title FROM records');
      expect(ofA).toEqual({ standby: true, rows: [{ title: 'of a' }] });
      if (model === 'pooled') {
        // The catalog path (withTenantId on the standby's pool, as the edge's job list reads):
        // fairway_enter_tenant() sets the tenant and its limits there too.
        const viaCatalog = await withTenantId(replicaApp, a, async (tx) => (await tx.query<{ title: string }>('SELECT title FROM records')).rows);
        expect(viaCatalog).toEqual([{ title: 'of a' }]);
      }
      // The tenant's setting on the standby is the tenant's, and the standby refuses writes.
      expect((await onReplica(a, "SELECT current_setting('app.tenant_id') AS t")).rows).toEqual([{ t: a }]);
      await expect(router.withTenant(a, (tx) => tx.query(`DELETE FROM records`), { replica: true, maxLagMs: 60_000 })).rejects.toMatchObject({ code: '25006' });
    },
  );

  it('falls back to the primary while the standby lags more than the read accepts, and counts it', async () => {
    const [a] = tenants.pooled as [TenantId];
    await standbyAdmin.query('SELECT pg_wal_replay_pause()');
    try {
      await router.withTenant(a, (tx) => tx.query(`INSERT INTO records (id, title, amount) VALUES (gen_random_uuid(), 'while paused', 3)`));
      const before = fallbacks.filter((r) => r === 'lag').length;
      const read = await eventually(
        'a read accepting 200 ms of lag to move to the primary',
        () =>
          router.withTenant(
            a,
            async (tx) => ({
              standby: (await tx.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r,
              titles: (await tx.query<{ title: string }>('SELECT title FROM records ORDER BY title')).rows.map((r) => r.title),
            }),
            { replica: true, maxLagMs: 200 },
          ),
        { until: (r) => r.standby === false, intervalMs: 50 },
      );
      expect(read.titles).toContain('while paused');
      expect(fallbacks.filter((r) => r === 'lag').length).toBeGreaterThan(before);
      // A read that accepts more staleness still runs on the standby, without the new row.
      const stale = await onReplica(a, "SELECT title FROM records WHERE title = 'while paused'");
      expect(stale).toEqual({ standby: true, rows: [] });
    } finally {
      await standbyAdmin.query('SELECT pg_wal_replay_resume()');
    }
  });

  it('falls back to the primary while the replica does not answer, and counts it', async () => {
    const [a] = tenants.schema as [TenantId];
    const down: ReplicaFallbackReason[] = [];
    const deadPool = new Pool({ connectionString: 'postgres://fairway_app@127.0.0.1:1/none', connectionTimeoutMillis: 1_000 });
    const deadReplica = new ReadReplica({
      primaryPool: primaryApp,
      replicaPool: deadPool,
      replicaUrl: 'postgres://fairway_app@127.0.0.1:1/none',
      maxLagMs: 5_000,
      onFallback: (r) => down.push(r),
    });
    const catalogUrl = new URL(pair.primaryAdminUrl);
    const viaDead = new TenantDataRouter({ catalogPool: primaryApp, catalogUrl: catalogUrl.toString(), replica: deadReplica, listen: false });
    try {
      const standby = await viaDead.withTenant(a, async (tx) => (await tx.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r, {
        replica: true,
      });
      expect(standby).toBe(false);
      expect(down).toEqual(['unavailable']);
      expect((await deadReplica.choose()).on).toBe('primary');
    } finally {
      await viaDead.close();
      await deadPool.end();
    }
  });
});
