import { randomUUID } from 'node:crypto';
import { withTenantId } from '@fairway/db';
import { createTestTenant, dropTestTenants, eventually, testPools } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { JobLifecycle, type NewJob } from './job-lifecycle';
import { JobRetention, purgeFinishedJobs } from './job-retention';

describe('purgeFinishedJobs: the retention of finished jobs and their effects (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let lifecycle: JobLifecycle;
  const tenants: TenantId[] = [];

  beforeAll(() => {
    pools = testPools();
    lifecycle = new JobLifecycle(pools.scheduler, 'retention-test');
  });

  afterAll(async () => {
    await dropTestTenants(pools.owner, tenants);
    await pools.end();
  });

  const job = (tenantId: TenantId): NewJob => ({
    id: randomUUID(),
    tenantId,
    type: 'synthetic',
    jobClass: 'standard',
    params: {},
    priority: 0,
    traceHeaders: {},
    acceptedAt: new Date().toISOString(),
    partition: 900_001,
  });

  /** Runs `jobs` to success, each with an effect and a stored result, as the worker leaves them. */
  async function finish(jobs: NewJob[]): Promise<void> {
    await lifecycle.insertJobs(jobs);
    const claimed = await lifecycle.claimMany(
      jobs.map((j) => j.id),
      30_000,
    );
    for (const j of jobs) {
      await withTenantId(pools.owner, j.tenantId, async (tx) => {
        await tx.query(`INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, 1, '{}')`, [j.id, j.tenantId]);
        await tx.query(`INSERT INTO job_artifacts (job_id, tenant_id, content_type, body) VALUES ($1, $2, 'text/csv', 'a,b')`, [j.id, j.tenantId]);
      });
    }
    expect(claimed.every((c) => c !== undefined)).toBe(true);
    // Every one recorded as a success (a flake once saw none of the old jobs finished: this says where).
    expect(await lifecycle.succeedMany(claimed.map((c) => ({ jobId: c!.id, attempt: c!.attempt, resultJson: '{}' })))).toEqual(jobs.map(() => true));
  }

  async function remaining(ids: string[]) {
    const count = async (table: string, column: string) =>
      Number((await pools.owner.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ANY($1::uuid[])`, [ids])).rows[0]?.n);
    return count('jobs', 'id');
  }

  it('deletes the jobs finished before the cutoff with their effects and results, oldest first, a batch at a time, and nothing else', async () => {
    const a = await createTestTenant(pools.owner, 'retain');
    const b = await createTestTenant(pools.owner, 'retain');
    tenants.push(a, b);
    const old = [job(a), job(a), job(a), job(b), job(b)];
    await finish(old);
    // A cutoff a JavaScript Date holds exactly (milliseconds; the database keeps microseconds): the
    // next whole millisecond after the old jobs finished, and the clock past it before the recent
    // ones finish. Truncating clock_timestamp() instead put the cutoff before old jobs that finished
    // in the same millisecond (the round found none: a CI flake).
    const cutoff = (await pools.owner.query<{ at: Date }>("SELECT date_trunc('milliseconds', clock_timestamp()) + interval '1 millisecond' AS at")).rows[0]!.at;
    await eventually(
      'the database clock past the cutoff',
      async () => (await pools.owner.query<{ past: boolean }>('SELECT clock_timestamp() > $1 AS past', [cutoff])).rows[0]!.past,
      {
        until: (past) => past,
        intervalMs: 1,
      },
    );
    const recent = [job(a), job(b)];
    await finish(recent);
    const waiting = job(a);
    await lifecycle.insertJobs([waiting]);

    // Scoped to this test's tenants: the test database holds other suites' jobs, running beside it.
    const rounds = [];
    for (
      let round = await purgeFinishedJobs(pools.owner, cutoff, 2, { tenants: [a, b] });
      ;
      round = await purgeFinishedJobs(pools.owner, cutoff, 2, { tenants: [a, b] })
    ) {
      rounds.push(round.jobs);
      if (!round.more) break;
    }
    // Five old jobs, two a round: 2, 2, 1.
    expect(rounds).toEqual([2, 2, 1]);
    expect(await remaining(old.map((j) => j.id))).toBe(0);
    expect(await remaining(recent.map((j) => j.id))).toBe(2);
    expect(await remaining([waiting.id])).toBe(1);
    for (const tenant of [a, b]) {
      const left = await withTenantId(pools.owner, tenant, async (tx) => ({
        effects: (await tx.query<{ job_id: string }>('SELECT job_id FROM job_effects WHERE tenant_id = $1', [tenant])).rows.map((r) => r.job_id).sort(),
        artifacts: (await tx.query<{ job_id: string }>('SELECT job_id FROM job_artifacts WHERE tenant_id = $1', [tenant])).rows.map((r) => r.job_id).sort(),
      }));
      const kept = recent.filter((j) => j.tenantId === tenant).map((j) => j.id);
      expect(left).toEqual({ effects: kept, artifacts: kept });
    }
  });

  it('says when a round was full, so the caller runs another', async () => {
    const t = await createTestTenant(pools.owner, 'retainmore');
    tenants.push(t);
    await finish([job(t), job(t), job(t)]);
    const far = new Date(Date.now() + 60_000);
    const first = await purgeFinishedJobs(pools.owner, far, 1, { tenants: [t] });
    expect(first).toMatchObject({ jobs: 1, effects: 1, artifacts: 1, tenants: 1, more: true });
  });

  it('runs as the control plane runs it: rounds until one is not full, what it removed reported', async () => {
    const t = await createTestTenant(pools.owner, 'retaintick');
    tenants.push(t);
    await finish([job(t), job(t), job(t), job(t), job(t)]);
    const ticks: unknown[] = [];
    // Two minutes from now, with a retention of one minute: every job finished so far is past it.
    const retention = new JobRetention(pools.owner, {
      retentionMs: 60_000,
      intervalMs: 60_000,
      batchSize: 2,
      tenants: [t],
      now: () => Date.now() + 120_000,
      onTick: (r) => ticks.push(r),
    });
    expect(await retention.runNow()).toEqual({ jobs: 5, effects: 5, artifacts: 5, chunks: 0, tenants: 3, rounds: 3 });
    expect(ticks).toHaveLength(1);
    expect(await retention.runNow()).toMatchObject({ jobs: 0, rounds: 1 });
    expect(ticks).toHaveLength(1);
    expect(() => new JobRetention(pools.owner, { retentionMs: 1_000, intervalMs: 60_000 })).toThrow('job retention must be at least 60000 ms');
  });
});
