import { randomUUID } from 'node:crypto';
import { createPool, withTenantId } from '@fairway/db';
import { createTestTenant, deferred, dropTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { lockCurrentAttempt } from './attempt-fence';
import { JobLifecycle } from './job-lifecycle';

const LEASE_MS = 45_000;

/** Resolves once `probe` answers true; fails after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a worker's effect is fenced on the job's current attempt (real PostgreSQL)", () => {
  let pools: ReturnType<typeof testPools>;
  let tenant: TenantId;
  let other: TenantId;
  // The claims of this test run on a pool of their own, so that its session can be found waiting.
  const claimApp = `fence-claim-${randomUUID().slice(0, 8)}`;
  let claimPool: ReturnType<typeof createPool>;
  let lifecycle: JobLifecycle;

  beforeAll(async () => {
    pools = testPools();
    claimPool = createPool({ connectionString: testDatabaseUrls().scheduler, applicationName: claimApp, max: 1 });
    lifecycle = new JobLifecycle(claimPool, 'fence-test');
    tenant = await createTestTenant(pools.owner, 'fence');
    other = await createTestTenant(pools.owner, 'fence2');
  });

  afterAll(async () => {
    await dropTestTenants(pools.owner, [tenant, other]);
    await claimPool.end();
    await pools.end();
  });

  async function acceptOne(): Promise<string> {
    const id = randomUUID();
    const [job] = await lifecycle.insertJobs([
      {
        id,
        tenantId: tenant,
        type: 'synthetic',
        jobClass: 'standard',
        params: {},
        priority: 0,
        traceHeaders: {},
        acceptedAt: new Date().toISOString(),
        partition: 0,
      },
    ]);
    expect(job?.id).toBe(id);
    return id;
  }

  it("returns the attempt holding the job, and nothing for a job that is unknown or another tenant's", async () => {
    const id = await acceptOne();
    expect(await withTenantId(pools.app, tenant, (tx) => lockCurrentAttempt(tx, id))).toBe(0);
    await lifecycle.claimMany([id], LEASE_MS);
    expect(await withTenantId(pools.app, tenant, (tx) => lockCurrentAttempt(tx, id))).toBe(1);
    expect(await withTenantId(pools.app, tenant, (tx) => lockCurrentAttempt(tx, randomUUID()))).toBeUndefined();
    expect(await withTenantId(pools.app, other, (tx) => lockCurrentAttempt(tx, id))).toBeUndefined();
  });

  it('holds the claim of a newer attempt back until the fenced transaction ends', async () => {
    const id = await acceptOne();
    await lifecycle.claimMany([id], LEASE_MS);
    expect(await lifecycle.failMany([{ jobId: id, attempt: 1, error: 'retry', retriable: true, retryDelayMs: 0 }])).toEqual(['queued']);

    const locked = deferred<number | undefined>();
    const release = deferred<void>();
    const fenced = withTenantId(pools.app, tenant, async (tx) => {
      locked.resolve(await lockCurrentAttempt(tx, id));
      await release.promise;
    });
    expect(await locked.promise).toBe(1);

    let claimDone = false;
    const claim = lifecycle.claimMany([id], LEASE_MS).finally(() => {
      claimDone = true;
    });
    // The claim's session waits on the row lock (pg_stat_activity is visible to the same role).
    await until(async () => {
      if (claimDone) throw new Error('the claim went through while the attempt was fenced');
      const { rows } = await pools.scheduler.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [claimApp],
      );
      return rows[0]?.n === '1';
    }, 'the claim waits on the fenced row');
    expect(claimDone).toBe(false);

    release.resolve();
    await fenced;
    const [claimed] = await claim;
    expect(claimed?.attempt).toBe(2);
  });
});
