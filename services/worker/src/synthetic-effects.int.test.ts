import { randomUUID } from 'node:crypto';
import { setTenantStatus, withTenantId } from '@fairway/db';
import { createTestTenant, dropTestTenants, testPools, uniqueTenantId } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import type { SyntheticEffect } from './executor';
import { SyntheticEffects } from './synthetic-effects';

interface StoredEffect {
  job_id: string;
  tenant_id: string;
  attempt: number;
  observed: Record<string, unknown>;
  created: string;
}

describe('SyntheticEffects: one transaction for the effects of a turn (real PostgreSQL, app role)', () => {
  let pools: ReturnType<typeof testPools>;
  let effects: SyntheticEffects;
  let a: TenantId;
  let b: TenantId;
  let c: TenantId;
  const offboarding: TenantId[] = [];

  beforeAll(async () => {
    pools = testPools();
    effects = new SyntheticEffects(pools.app);
    a = await createTestTenant(pools.owner, 'fxa');
    b = await createTestTenant(pools.owner, 'fxb');
    c = await createTestTenant(pools.owner, 'fxc');
  });

  afterAll(async () => {
    await effects.idle();
    await dropTestTenants(pools.owner, [a, b, c, ...offboarding]);
    await pools.end();
  });

  const effect = (tenantId: TenantId, extra: Partial<SyntheticEffect> = {}): SyntheticEffect => ({
    jobId: randomUUID(),
    tenantId,
    attempt: 1,
    observed: { workerId: 'fx-test', metadataTenant: tenantId, sleptMs: 0 },
    ...extra,
  });

  /** The effects of `jobIds` that `tenant` can read, under its own row-level security. */
  function readAs(tenant: TenantId, jobIds: readonly string[]): Promise<StoredEffect[]> {
    return withTenantId(pools.app, tenant, async (tx) => {
      const { rows } = await tx.query<StoredEffect>(
        'SELECT job_id, tenant_id, attempt, observed, created_at::text AS created FROM job_effects WHERE job_id = ANY($1::uuid[]) ORDER BY job_id',
        [jobIds],
      );
      return rows;
    });
  }

  /** A job row of `tenant` whose attempt `attempts` holds the lease, as the scheduler's claim leaves it. */
  async function runningJob(tenant: TenantId, attempts: number): Promise<string> {
    const id = randomUUID();
    await withTenantId(pools.app, tenant, (tx) =>
      tx.query(
        `INSERT INTO jobs (id, tenant_id, type, job_class, accepted_at, state, attempts, started_at) VALUES ($1, $2, 'synthetic', 'standard', now(), 'running', $3, now())`,
        [id, tenant, attempts],
      ),
    );
    return id;
  }

  function jobAs(tenant: TenantId, jobId: string): Promise<{ state: string; attempts: number; result: Record<string, unknown> | null } | undefined> {
    return withTenantId(pools.app, tenant, async (tx) => {
      const { rows } = await tx.query<{ state: string; attempts: number; result: Record<string, unknown> | null }>(
        'SELECT state, attempts, result FROM jobs WHERE id = $1',
        [jobId],
      );
      return rows[0];
    });
  }

  it("applies the effects of several tenants recorded in one turn, each row under its own tenant's setting", async () => {
    const batch = [effect(a), effect(b), effect(a), effect(c), effect(b, { attempt: 3 })];
    const outcomes = await Promise.all(batch.map((e) => effects.record(e)));

    for (let i = 0; i < batch.length; i += 1) {
      const e = batch[i] as SyntheticEffect;
      // No job row of that id is running, so there was no success to complete along with it.
      expect(outcomes[i]).toMatchObject({ applied: true, completed: false });
      expect(outcomes[i]?.result).toEqual({ ...e.observed, dbSessionTenant: e.tenantId });
    }
    const created = new Set<string>();
    for (const tenant of [a, b, c]) {
      const own = batch.filter((e) => e.tenantId === tenant);
      const rows = await readAs(
        tenant,
        batch.map((e) => e.jobId),
      );
      expect(rows.map((r) => r.job_id).sort()).toEqual(own.map((e) => e.jobId).sort());
      for (const row of rows) {
        const e = own.find((x) => x.jobId === row.job_id) as SyntheticEffect;
        expect(row).toMatchObject({ tenant_id: tenant, attempt: e.attempt, observed: { ...e.observed, dbSessionTenant: tenant } });
        created.add(row.created);
      }
    }
    // One transaction for all of them: now() is the transaction's start, so one created_at.
    expect(created.size).toBe(1);
  });

  it('stores observed values with quotes, backslashes and non-ASCII text exactly', async () => {
    const tricky = [
      effect(a, { observed: { note: "it's a 'quoted' value", path: 'C:\\temp\\x', sql: "'); DROP TABLE job_effects; --" } }),
      effect(b, { observed: { unicode: 'Zürich ✓ 東京', newline: 'line 1\nline 2', nul: 'tab\there' } }),
    ];
    const outcomes = await Promise.all(tricky.map((e) => effects.record(e)));
    expect(outcomes.map((o) => o.applied)).toEqual([true, true]);
    for (const e of tricky) {
      const [row] = await readAs(e.tenantId, [e.jobId]);
      expect(row?.observed).toEqual({ ...e.observed, dbSessionTenant: e.tenantId });
    }
  });

  it('answers a later attempt of a job with applied=false and the effect stored by the first', async () => {
    const first = effect(a, { observed: { marker: 'first attempt' } });
    expect(await effects.record(first)).toMatchObject({ applied: true });

    // Alone, and inside a batch with another tenant's new effect.
    const alone = await effects.record({ ...first, attempt: 2, observed: { marker: 'second attempt' } });
    expect(alone).toMatchObject({ applied: false, result: { marker: 'first attempt', dbSessionTenant: a } });
    expect(alone.result).toEqual({ marker: 'first attempt', dbSessionTenant: a });
    const other = effect(b);
    const [again, fresh] = await Promise.all([effects.record({ ...first, attempt: 3, observed: { marker: 'third attempt' } }), effects.record(other)]);
    expect(again).toMatchObject({ applied: false });
    expect(again.result).toEqual({ marker: 'first attempt', dbSessionTenant: a });
    expect(fresh).toMatchObject({ applied: true });

    const rows = await readAs(a, [first.jobId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ attempt: 1, observed: { marker: 'first attempt' } });
  });

  it('applies the effect of a job once when two of its attempts finish in the same turn', async () => {
    const jobId = randomUUID();
    const outcomes = await Promise.all([
      effects.record(effect(c, { jobId, attempt: 1, observed: { marker: 'attempt 1' } })),
      effects.record(effect(c, { jobId, attempt: 2, observed: { marker: 'attempt 2' } })),
    ]);
    expect(outcomes.filter((o) => o.applied)).toHaveLength(1);
    const rows = await readAs(c, [jobId]);
    expect(rows).toHaveLength(1);
    // Both attempts report the one effect stored.
    for (const outcome of outcomes) expect(outcome.result).toEqual(rows[0]?.observed);
  });

  it('records the other effects of a batch with an effect for a tenant that does not exist, and rejects only that one', async () => {
    const ghost = uniqueTenantId('fxghost');
    const good = [effect(a), effect(b)];
    const bad = effect(ghost);
    const settled = await Promise.allSettled([effects.record(good[0] as SyntheticEffect), effects.record(bad), effects.record(good[1] as SyntheticEffect)]);

    // Each caller hears about its own effect: the good ones applied, the bad one refused alone.
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { applied: true, result: { dbSessionTenant: a } } });
    expect(settled[2]).toMatchObject({ status: 'fulfilled', value: { applied: true, result: { dbSessionTenant: b } } });
    // The foreign key of job_effects.tenant_id refuses the unknown tenant.
    expect(settled[1]).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
    for (const e of good) expect(await readAs(e.tenantId, [e.jobId])).toHaveLength(1);
    expect(await readAs(ghost, [bad.jobId])).toHaveLength(0);
  });

  it("keeps a tenant's effect from another tenant and from a session with no tenant (row-level security)", async () => {
    const mine = effect(a);
    const theirs = effect(b);
    await Promise.all([effects.record(mine), effects.record(theirs)]);

    expect((await readAs(a, [mine.jobId, theirs.jobId])).map((r) => r.job_id)).toEqual([mine.jobId]);
    expect((await readAs(b, [mine.jobId, theirs.jobId])).map((r) => r.job_id)).toEqual([theirs.jobId]);
    const { rowCount } = await pools.app.query('SELECT 1 FROM job_effects WHERE job_id = ANY($1::uuid[])', [[mine.jobId, theirs.jobId]]);
    expect(rowCount).toBe(0);
  });

  it("writes nothing for an attempt older than the job's current one, and completes the current attempt's job with its effect, in one batch", async () => {
    const current = await runningJob(a, 1);
    const overtaken = await runningJob(a, 2);
    const [done, stale] = await Promise.allSettled([
      effects.record(effect(a, { jobId: current, attempt: 1, observed: { marker: 'current' } })),
      effects.record(effect(a, { jobId: overtaken, attempt: 1, observed: { marker: 'stale' } })),
    ]);

    expect(done).toMatchObject({ status: 'fulfilled', value: { applied: true, completed: true } });
    expect(await jobAs(a, current)).toEqual({ state: 'succeeded', attempts: 1, result: { marker: 'current', dbSessionTenant: a } });
    // The stale attempt is refused, writes no effect and leaves the newer attempt's lease alone.
    expect(stale).toMatchObject({ status: 'rejected', reason: { code: 'STALE_ATTEMPT' } });
    expect(await readAs(a, [overtaken])).toHaveLength(0);
    expect(await jobAs(a, overtaken)).toMatchObject({ state: 'running', attempts: 2, result: null });
  });

  it('refuses every effect of a tenant whose offboarding began (migration 621) and records the rest of the batch', async () => {
    const leaving = await createTestTenant(pools.owner, 'fxoff');
    offboarding.push(leaving);
    const jobs = [await runningJob(leaving, 1), await runningJob(leaving, 1)];
    await setTenantStatus(pools.owner, leaving, 'offboarding');
    const other = effect(b);
    const settled = await Promise.allSettled([
      effects.record(effect(leaving, { jobId: jobs[0] as string })),
      effects.record(other),
      effects.record(effect(leaving, { jobId: jobs[1] as string })),
    ]);

    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    for (const i of [0, 2]) expect(settled[i]).toMatchObject({ reason: { code: 'FW410' } });
    expect(await readAs(leaving, jobs)).toHaveLength(0);
    for (const jobId of jobs) expect(await jobAs(leaving, jobId)).toMatchObject({ state: 'running', result: null });
    expect(await readAs(b, [other.jobId])).toHaveLength(1);
  });
});
