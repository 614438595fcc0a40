import type { TenantId } from '@fairway/tenant-context';
import { findTenant, migrateTenants, tenantMigrationNames, type TenantMigrationProgress } from '../index';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testAdminUrl, testDatabaseUrls, testPools } from '../testing';
import { Client } from 'pg';

describe('tenant migrations across every schema and database (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  const ids: TenantId[] = [];
  const names = tenantMigrationNames();
  const latest = names[names.length - 1] as string;
  const first = names[0] as string;
  const ownerUrl = () => testDatabaseUrls().owner;

  /** The migrations a tenant's own pgmigrations table lists, read behind the runner's back. */
  async function applied(id: TenantId): Promise<string[]> {
    const tenant = await findTenant(pools.owner, id);
    const url = new URL(testAdminUrl());
    if (tenant?.dbName) url.pathname = `/${tenant.dbName}`;
    const schema = tenant?.schemaName ?? 'public';
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, 'pgmigrations']);
      if (!exists.rowCount) return [];
      return (await client.query<{ name: string }>(`SELECT name FROM "${schema}".pgmigrations ORDER BY id`)).rows.map((r) => r.name);
    } finally {
      await client.end();
    }
  }

  async function recorded(id: TenantId): Promise<{ version: string; status: string } | undefined> {
    const { rows } = await pools.owner.query<{ version: string; status: string }>('SELECT version, status FROM tenant_migrations WHERE tenant_id = $1', [id]);
    return rows[0];
  }

  beforeAll(async () => {
    pools = testPools();
    for (let i = 0; i < 5; i += 1) ids.push(await createIsolatedTestTenant(pools.owner, 'schema', `mig${i}`));
    ids.push(await createIsolatedTestTenant(pools.owner, 'database', 'migdb'));
  });

  afterAll(async () => {
    await dropIsolatedTestTenants(pools.owner, ids);
    await pools.end();
  });

  it('onboarding leaves every tenant at the latest version, recorded in tenant_migrations', async () => {
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      expect(await applied(id)).toEqual(names);
      expect(await recorded(id)).toEqual({ version: latest, status: 'done' });
    }
  });

  it('a dry run reports what it would do and changes nothing', async () => {
    const result = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, to: first, dryRun: true });
    expect(result.plan).toHaveLength(ids.length);
    for (const step of result.plan) expect(step).toMatchObject({ from: latest, direction: 'down', migrations: names.slice(1).reverse() });
    for (const id of ids) expect(await applied(id)).toEqual(names);
  });

  it('rolls every tenant back to the version asked for, then forward again', async () => {
    const down = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, to: '0', concurrency: 3 });
    expect(down).toMatchObject({ target: '0', migrated: ids.length, failed: [] });
    for (const id of ids) {
      expect(await applied(id)).toEqual([]);
      expect(await recorded(id)).toEqual({ version: '0', status: 'done' });
    }
    const partial = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, to: first.split('_')[0] });
    expect(partial.failed).toEqual([]);
    for (const id of ids) expect(await applied(id)).toEqual([first]);
  });

  it('resumes a run that was interrupted halfway: finished tenants are skipped, the rest finish', async () => {
    await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, to: '0' });
    const stop = new AbortController();
    const events: TenantMigrationProgress[] = [];
    const interrupted = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, concurrency: 1, signal: stop.signal }, (event) => {
      events.push(event);
      if (events.filter((e) => e.status === 'done').length === 2) stop.abort();
    });
    expect(interrupted.aborted).toBe(true);
    expect(interrupted.migrated).toBe(2);
    const atLatest: TenantId[] = [];
    for (const id of ids) if ((await applied(id)).length === names.length) atLatest.push(id);
    expect(atLatest).toHaveLength(2);
    // As if the runner had crashed while migrating a third tenant.
    const third = ids.find((id) => !atLatest.includes(id)) as TenantId;
    await pools.owner.query("UPDATE tenant_migrations SET status = 'running', target = $2 WHERE tenant_id = $1", [third, latest]);

    const resumed = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, concurrency: 4 });
    expect(resumed).toMatchObject({ aborted: false, skipped: 2, migrated: ids.length - 2, failed: [] });
    for (const id of ids) {
      expect(await applied(id)).toEqual(names);
      expect(await recorded(id)).toEqual({ version: latest, status: 'done' });
    }
  });

  it('stops after a failing canary and leaves the rest of the fleet alone', async () => {
    await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, to: first });
    const [canary, other] = ids as [TenantId, TenantId];
    const schema = (await findTenant(pools.owner, canary))?.schemaName as string;
    // Sabotage the canary: the next migration's index name is taken.
    await pools.owner.query(`CREATE INDEX records_tags ON "${schema}".records (title)`);
    try {
      const result = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, canary: [canary] });
      expect(result.haltedAfterCanary).toBe(true);
      expect(result.failed.map((f) => f.tenantId)).toEqual([canary]);
      expect(await applied(canary)).toEqual([first]); // its failed step rolled back whole
      expect(await recorded(canary)).toMatchObject({ status: 'failed' });
      expect(await applied(other)).toEqual([first]);
    } finally {
      await pools.owner.query(`DROP INDEX "${schema}".records_tags`);
    }
    const retried = await migrateTenants({ ownerUrl: ownerUrl(), tenants: ids, canary: [canary] });
    expect(retried.failed).toEqual([]);
    for (const id of ids) expect(await applied(id)).toEqual(names);
  });
});
