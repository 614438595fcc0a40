import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { TenantId } from '@fairway/tenant-context';
import { createIsolatedTestTenant, dropTestTenants, eventually, testAdminUrl, testDatabaseUrls, testPools, uniqueTenantId } from '../testing';
import { findTenant, upsertTenant } from '../tenants';
import { withTenantId } from '../with-tenant';
import { schemaNameFor } from './tenant-location';
import { deprovisionTenant } from './tenant-provisioning';

/**
 * Crypto-shredding, proven the way an attacker with a database dump would look: after a tenant is
 * deleted, no row of any table of any schema holds a marker its data carried.
 */
describe('crypto-shredding of a deleted tenant (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Client;
  const tenants: string[] = [];

  beforeAll(async () => {
    pools = testPools();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
  });

  afterAll(async () => {
    await dropTestTenants(pools.owner, tenants);
    await admin.end();
    await pools.end();
  });

  const deps = () => ({ ownerPool: pools.owner, ownerUrl: testDatabaseUrls().owner });

  /** Every table of every schema whose rows mention `marker` (as the superuser: RLS does not hide rows). */
  async function tablesHolding(marker: string): Promise<string[]> {
    const { rows: tables } = await admin.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const holding: string[] = [];
    for (const { name } of tables) {
      const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name} t WHERE to_jsonb(t)::text LIKE $1`, [`%${marker}%`]);
      if (rows[0]!.n > 0) holding.push(name);
    }
    return holding;
  }

  /** The tenant's jobs in every state, with the marker in every column a client or a worker fills. */
  async function seedJobs(tenant: TenantId, marker: string): Promise<string[]> {
    const states = ['queued', 'running', 'succeeded', 'failed', 'dead'];
    const ids = states.map(() => randomUUID());
    await withTenantId(pools.app, tenant, async (tx) => {
      for (const [i, state] of states.entries()) {
        await tx.query(
          `INSERT INTO jobs (id, tenant_id, type, job_class, params, idempotency_key, request_hash, state, attempts, last_error, result, trace_headers, accepted_at)
           VALUES ($1, $2, 'report', 'standard', $3, $4, $5, $6, 1, $7, $8, $9, now())`,
          [
            ids[i],
            tenant,
            { account: `${marker}-params` },
            `${marker}-idem-${i}`,
            `${marker}-hash-${i}`,
            state,
            `failed while reading ${marker}-error`,
            { totals: { [`${marker}-key`]: 42 } },
            { baggage: `note=${marker}-trace` },
          ],
        );
      }
      await tx.query('INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, 1, $3)', [
        ids[2],
        tenant,
        { totals: `${marker}-observed` },
      ]);
      await tx.query(`INSERT INTO job_artifacts (job_id, tenant_id, content_type, body) VALUES ($1, $2, 'text/csv', $3)`, [ids[2], tenant, `${marker}-csv`]);
    });
    return ids;
  }

  it("leaves no trace of a pooled tenant's data in any table, and keeps its jobs' ids and states for accounting", async () => {
    const marker = `MARK${randomBytes(6).toString('hex')}`;
    const tenant = uniqueTenantId('shred');
    tenants.push(tenant);
    await upsertTenant(pools.owner, { id: tenant, displayName: `${marker} Corp` });
    const ids = await seedJobs(tenant, marker);
    await withTenantId(pools.app, tenant, async (tx) => {
      await tx.query('INSERT INTO records (id, title, body) VALUES ($1, $2, $3)', [randomUUID(), `${marker}-title`, `${marker}-body`]);
    });
    await pools.owner.query(
      `INSERT INTO tenant_reencryptions (tenant_id, run_id, state, to_key_version, started_by, finished_at, error, tables)
       VALUES ($1, $2, 'failed', 2, 'operator:ada', now(), $3, $4)`,
      [tenant, randomUUID(), `record ${marker}-reenc could not be read`, { records: { after: `${marker}-cursor` } }],
    );
    await pools.owner.query(`INSERT INTO api_keys (id, tenant_id, prefix, hash) VALUES ($1, $2, $3, $4)`, [
      randomUUID(),
      tenant,
      randomBytes(6).toString('hex'),
      randomBytes(32).toString('hex'),
    ]);

    // The scan finds the marker everywhere it was written: it can fail.
    expect(await tablesHolding(marker)).toEqual(
      expect.arrayContaining(['public.jobs', 'public.job_effects', 'public.job_artifacts', 'public.records', 'public.tenant_reencryptions', 'public.tenants']),
    );

    const report = await deprovisionTenant(deps(), tenant);

    expect(await tablesHolding(marker)).toEqual([]);
    expect(report.shredded).toEqual({ jobsCleared: 5, jobsCancelled: 2, effectsDeleted: 1, apiKeysDeleted: 1, reencryptionsDeleted: 1 });
    const { rows: kept } = await admin.query<{ id: string; state: string; attempts: number; finished: boolean }>(
      'SELECT id, state, attempts, finished_at IS NOT NULL AS finished FROM jobs WHERE tenant_id = $1 ORDER BY accepted_at, id',
      [tenant],
    );
    expect(kept.map((j) => j.id).sort()).toEqual([...ids].sort());
    expect(new Map(kept.map((j) => [j.id, j.state]))).toEqual(
      new Map([
        [ids[0], 'cancelled'],
        [ids[1], 'cancelled'],
        [ids[2], 'succeeded'],
        [ids[3], 'failed'],
        [ids[4], 'dead'],
      ]),
    );
    expect(kept.every((j) => j.attempts === 1)).toBe(true);
    // The cancelled jobs are finished now; the others keep their own times (none set by the seed).
    expect(
      kept
        .filter((j) => j.finished)
        .map((j) => j.id)
        .sort(),
    ).toEqual([ids[0], ids[1]].sort());
    expect(await findTenant(pools.owner, tenant)).toMatchObject({ status: 'deleted', displayName: tenant });
  });

  it('shreds the catalog rows of a schema tenant and drops its schema', async () => {
    const marker = `MARK${randomBytes(6).toString('hex')}`;
    const tenant = await createIsolatedTestTenant(pools.owner, 'schema', 'shreds');
    tenants.push(tenant);
    await seedJobs(tenant, marker);
    await pools.owner.query(`INSERT INTO ${schemaNameFor(tenant)}.records (id, title) VALUES ($1, $2)`, [randomUUID(), `${marker}-title`]);
    expect(await tablesHolding(marker)).toEqual(expect.arrayContaining(['public.jobs', `${schemaNameFor(tenant)}.records`]));
    await deprovisionTenant(deps(), tenant);
    expect(await tablesHolding(marker)).toEqual([]);
  });

  it('writes nothing for the tenant once offboarding began: commands are dropped, effects refused', async () => {
    const tenant = uniqueTenantId('shredlate');
    tenants.push(tenant);
    await upsertTenant(pools.owner, { id: tenant });
    await deprovisionTenant(deps(), tenant);
    const jobId = randomUUID();
    const inserted = await withTenantId(pools.app, tenant, (tx) =>
      tx.query(`INSERT INTO jobs (id, tenant_id, type, job_class, params, accepted_at) VALUES ($1, $2, 'report', 'standard', '{"late": true}', now())`, [
        jobId,
        tenant,
      ]),
    );
    expect(inserted.rowCount).toBe(0);
    await expect(
      withTenantId(pools.app, tenant, (tx) =>
        tx.query(`INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, 1, '{}')`, [jobId, tenant]),
      ),
    ).rejects.toMatchObject({ code: 'FW410', message: expect.stringMatching(/nothing is written to job_effects/) });
  });

  it('waits for a write already in progress when offboarding begins, then shreds it', async () => {
    const marker = `MARK${randomBytes(6).toString('hex')}`;
    const tenant = uniqueTenantId('shredrace');
    tenants.push(tenant);
    await upsertTenant(pools.owner, { id: tenant });
    const [jobId] = await seedJobs(tenant, `${marker}-seed`);
    // A worker's transaction that wrote the effect before the tenant was deleted, not yet committed.
    const writer = new Client({ connectionString: testDatabaseUrls().app, application_name: `shred-writer-${tenant}` });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
      await writer.query('INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, 1, $3)', [jobId, tenant, { late: `${marker}-late` }]);

      const offboarding = deprovisionTenant(deps(), tenant);
      // Readiness, not a sleep: offboarding is blocked on the barrier's lock behind the writer.
      await eventually(
        'offboarding to wait for the write in progress',
        () =>
          admin.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE "job_effects"%'`,
          ),
        { until: ({ rows }) => rows.length > 0, intervalMs: 0 },
      );
      await writer.query('COMMIT');
      await offboarding;
    } finally {
      await writer.end();
    }
    expect(await tablesHolding(marker)).toEqual([]);
  });
});
