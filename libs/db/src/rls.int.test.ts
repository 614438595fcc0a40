import type { Pool } from 'pg';
import { randomUUID } from 'node:crypto';
import { withTenantId, DbRole } from './index';
import { createTestTenant, dropTestTenants, testPools } from './testing';
import type { TenantId } from '@fairway/tenant-context';

describe('row-level security on tenant tables (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let acme: TenantId;
  let globex: TenantId;

  async function insertJob(pool: Pool, tenant: TenantId): Promise<string> {
    const id = randomUUID();
    await withTenantId(pool, tenant, (tx) =>
      tx.query(`INSERT INTO jobs (id, tenant_id, type, job_class, accepted_at) VALUES ($1, $2, 'synthetic', 'standard', now())`, [id, tenant]),
    );
    return id;
  }

  beforeAll(async () => {
    pools = testPools();
    acme = await createTestTenant(pools.owner, 'acme');
    globex = await createTestTenant(pools.owner, 'globex');
    await insertJob(pools.app, acme);
    await insertJob(pools.app, globex);
  });

  afterAll(async () => {
    await dropTestTenants(pools.owner, [acme, globex]);
    await pools.end();
  });

  it('returns no rows when no tenant is set (fails closed)', async () => {
    const { rows } = await pools.app.query('SELECT id FROM jobs WHERE tenant_id = ANY($1::text[])', [[acme, globex]]);
    expect(rows).toHaveLength(0);
  });

  it("shows only the tenant's own rows even when the query forgets WHERE tenant_id", async () => {
    const tenants = await withTenantId(pools.app, acme, async (tx) => {
      const { rows } = await tx.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM jobs');
      return rows.map((r) => r.tenant_id);
    });
    expect(tenants).toEqual([acme]);
  });

  it('refuses to write a row for another tenant', async () => {
    await expect(
      withTenantId(pools.app, acme, (tx) =>
        tx.query(`INSERT INTO jobs (id, tenant_id, type, job_class, accepted_at) VALUES ($1, $2, 'synthetic', 'standard', now())`, [randomUUID(), globex]),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('does not leak the tenant setting to the next user of a pooled connection', async () => {
    await withTenantId(pools.app, acme, async () => undefined);
    // Every connection of the pool, borrowed again outside any tenant transaction.
    const clients = await Promise.all([1, 2, 3, 4].map(() => pools.app.connect()));
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ t: string | null }>("SELECT nullif(current_setting('app.tenant_id', true), '') AS t");
        expect(rows[0]?.t).toBeNull();
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('gives the application role no way around RLS: not owner, not superuser, no BYPASSRLS', async () => {
    const { rows } = await pools.owner.query<{ rolsuper: boolean; rolbypassrls: boolean }>('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1', [
      DbRole.app,
    ]);
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
    const owned = await pools.owner.query(`SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1`, [DbRole.app]);
    expect(owned.rows).toHaveLength(0);
    const forced = await pools.owner.query<{ relname: string; relforcerowsecurity: boolean }>(
      "SELECT relname, relforcerowsecurity FROM pg_class WHERE relname IN ('jobs', 'job_effects') ORDER BY relname",
    );
    expect(forced.rows).toEqual([
      { relname: 'job_effects', relforcerowsecurity: true },
      { relname: 'jobs', relforcerowsecurity: true },
    ]);
  });
});
