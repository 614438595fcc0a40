import { randomUUID } from 'node:crypto';
import { setTenantStatus, upsertTenant } from '@fairway/db';
import { createTestTenant, dropTestTenants, testPools, uniqueTenantId } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { FleetStats } from './fleet-stats';
import { JobLifecycle, type NewJob } from './job-lifecycle';

const HOUR_MS = 3_600_000;

describe('FleetStats: per-tenant statistics from the durable queues (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let lifecycle: JobLifecycle;
  let stats: FleetStats;
  const tenants: TenantId[] = [];

  beforeAll(() => {
    pools = testPools();
    lifecycle = new JobLifecycle(pools.scheduler, 'fleet-stats-test');
    stats = new FleetStats(pools.scheduler);
  });

  afterAll(async () => {
    await dropTestTenants(pools.owner, tenants);
    await pools.end();
  });

  async function tenant(prefix: string): Promise<TenantId> {
    const id = await createTestTenant(pools.owner, prefix);
    tenants.push(id);
    return id;
  }

  function newJob(tenantId: TenantId, acceptedAt: Date): NewJob {
    return {
      id: randomUUID(),
      tenantId,
      type: 'synthetic',
      jobClass: 'standard',
      params: {},
      priority: 0,
      traceHeaders: {},
      acceptedAt: acceptedAt.toISOString(),
      partition: 0,
    };
  }

  it("counts a tenant's queued and running jobs, and the waits and dispatches of the jobs started in the window", async () => {
    const busy = await tenant('fsbusy');
    const idle = await tenant('fsidle');
    const suspended = await tenant('fssusp');
    // Accepted an hour ago, so that every wait is at least an hour whatever the test's pace.
    const anHourAgo = new Date(Date.now() - HOUR_MS);
    const jobs = [newJob(busy, anHourAgo), newJob(busy, anHourAgo), newJob(busy, anHourAgo), newJob(suspended, anHourAgo)];
    expect(await lifecycle.insertJobs(jobs)).toHaveLength(4);
    const [done, running] = (await lifecycle.claimMany([jobs[0]!.id, jobs[1]!.id], 45_000)) as [{ id: string; attempt: number }, unknown];
    expect(running).toBeDefined();
    expect(await lifecycle.succeedMany([{ jobId: done.id, attempt: done.attempt, resultJson: '{}' }])).toEqual([true]);
    await setTenantStatus(pools.owner, suspended, 'suspended');

    const lines = new Map((await stats.tenantStats(300)).map((line) => [line.tenantId, line]));
    const mine = lines.get(busy);
    expect(mine).toMatchObject({ tenantId: busy, queued: 1, running: 1, dispatched: 2 });
    expect(mine?.waitP50Ms).toBeGreaterThan(HOUR_MS - 60_000);
    expect(mine?.waitP99Ms).toBeGreaterThanOrEqual(mine?.waitP50Ms ?? Infinity);
    // A number, not PostgreSQL's numeric text: the admin API sums these into each tenant's share.
    expect(typeof mine?.serviceMs).toBe('number');
    expect(mine?.serviceMs).toBeGreaterThanOrEqual(0);

    expect(lines.get(idle)).toEqual({ tenantId: idle, queued: 0, running: 0, waitP50Ms: 0, waitP99Ms: 0, serviceMs: 0, dispatched: 0 });
    // A suspended tenant keeps its line (its queue is still there); an offboarded one has none.
    expect(lines.get(suspended)).toMatchObject({ queued: 1, running: 0, dispatched: 0 });
    await setTenantStatus(pools.owner, idle, 'offboarding');
    expect((await stats.tenantStats(300)).some((line) => line.tenantId === idle)).toBe(false);
  });

  it("leaves out of the window's waits and dispatches the jobs started before it", async () => {
    const t = await tenant('fswindow');
    const job = newJob(t, new Date(Date.now() - HOUR_MS));
    await lifecycle.insertJobs([job]);
    await lifecycle.claimMany([job.id], 45_000);
    await pools.scheduler.query("UPDATE jobs SET started_at = now() - interval '10 minutes' WHERE id = $1", [job.id]);

    const line = (await stats.tenantStats(300)).find((l) => l.tenantId === t);
    expect(line).toEqual({ tenantId: t, queued: 0, running: 1, waitP50Ms: 0, waitP99Ms: 0, serviceMs: 0, dispatched: 0 });
  });

  it("pages the fleet by tenant id, counting only the page's tenants' jobs, while the totals cover every busy tenant", async () => {
    const base = uniqueTenantId('fspage');
    const [one, two, three] = [1, 2, 3].map((n) => `${base}-${n}` as TenantId) as [TenantId, TenantId, TenantId];
    for (const id of [one, two, three]) await upsertTenant(pools.owner, { id });
    tenants.push(one, two, three);
    await lifecycle.insertJobs([newJob(one, new Date()), newJob(three, new Date()), newJob(three, new Date())]);

    const first = await stats.tenantStats(300, { after: `${base}-0`, limit: 2 });
    expect(first.map((line) => [line.tenantId, line.queued])).toEqual([
      [one, 1],
      [two, 0],
    ]);
    const next = await stats.tenantStats(300, { after: two, limit: 2 });
    expect(next[0]).toMatchObject({ tenantId: three, queued: 2 });

    const totals = await stats.fleetTotals(300);
    expect(totals.busyTenants).toEqual(expect.arrayContaining([one, three]));
    expect(totals.busyTenants).not.toContain(two);
  });
});
