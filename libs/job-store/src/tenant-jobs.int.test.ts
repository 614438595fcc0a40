import { randomUUID } from 'node:crypto';
import { withTenantId, type TenantTx } from '@fairway/db';
import { createTestTenant, dropTestTenants, testPools } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { JobLifecycle, type NewJob } from './job-lifecycle';
import { cancelQueuedJob, findTenantJob, listTenantJobs, storedRequestHash, type JobPageCursor } from './tenant-jobs';

const LEASE_MS = 45_000;

describe('a tenant lists, reads and cancels its own jobs, under row-level security (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let lifecycle: JobLifecycle;
  const tenants: TenantId[] = [];

  beforeAll(() => {
    pools = testPools();
    lifecycle = new JobLifecycle(pools.scheduler, `tenant-jobs-${randomUUID().slice(0, 8)}`);
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

  function newJob(tenantId: TenantId, overrides: Partial<NewJob> = {}): NewJob {
    return {
      id: randomUUID(),
      tenantId,
      type: 'synthetic',
      jobClass: 'standard',
      params: { ms: 1 },
      priority: 0,
      traceHeaders: {},
      acceptedAt: new Date().toISOString(),
      partition: 0,
      ...overrides,
    };
  }

  /** Accepts jobs as the scheduler's ingest does, and returns their ids. */
  async function accept(...jobs: NewJob[]): Promise<string[]> {
    expect(await lifecycle.insertJobs(jobs)).toHaveLength(jobs.length);
    return jobs.map((job) => job.id);
  }

  /** Runs `fn` in a transaction of `tenantId` on the edge's role (row-level security applies). */
  function asTenant<T>(tenantId: TenantId, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
    return withTenantId(pools.app, tenantId, fn);
  }

  it('pages newest first without skipping or repeating jobs accepted in the same microsecond', async () => {
    const t = await tenant('tjpage');
    const sameMicrosecond = '2026-03-01T12:00:00.123456Z';
    const older = newJob(t, { acceptedAt: '2026-03-01T11:59:59.999999Z' });
    const tied = [newJob(t, { acceptedAt: sameMicrosecond }), newJob(t, { acceptedAt: sameMicrosecond }), newJob(t, { acceptedAt: sameMicrosecond })];
    await accept(older, ...tied);

    const first = await asTenant(t, (tx) => listTenantJobs(tx, { limit: 2 }));
    expect(first.next).not.toBeNull();
    expect(first.next?.acceptedAt).toBe(sameMicrosecond);
    const second = await asTenant(t, (tx) => listTenantJobs(tx, { limit: 2, after: first.next as JobPageCursor }));
    expect(second.next).toBeNull();

    // Ties on accepted_at are broken by id, descending.
    const tiedNewestFirst = tied
      .map((job) => job.id)
      .sort()
      .reverse();
    expect(first.jobs.map((job) => job.id)).toEqual(tiedNewestFirst.slice(0, 2));
    expect(second.jobs.map((job) => job.id)).toEqual([tiedNewestFirst[2], older.id]);
  });

  it('filters a listing by state and by type', async () => {
    const t = await tenant('tjfilter');
    const [queued, running, exported] = await accept(newJob(t), newJob(t), newJob(t, { type: 'export', jobClass: 'heavy' }));
    await lifecycle.claimMany([running as string], LEASE_MS);

    const runningOnly = await asTenant(t, (tx) => listTenantJobs(tx, { state: 'running', limit: 10 }));
    expect(runningOnly.jobs.map((job) => job.id)).toEqual([running]);
    const exports = await asTenant(t, (tx) => listTenantJobs(tx, { type: 'export', limit: 10 }));
    expect(exports.jobs.map((job) => job.id)).toEqual([exported]);
    const queuedSynthetic = await asTenant(t, (tx) => listTenantJobs(tx, { state: 'queued', type: 'synthetic', limit: 10 }));
    expect(queuedSynthetic.jobs.map((job) => job.id)).toEqual([queued]);
  });

  it("reads a tenant's own job, and no other tenant's: that one does not exist for it", async () => {
    const acme = await tenant('tjacme');
    const globex = await tenant('tjglobex');
    const acceptedAt = '2026-03-02T08:00:00.000001Z';
    const [id] = (await accept(newJob(acme, { acceptedAt, priority: 3, type: 'export', jobClass: 'heavy' }))) as [string];

    const own = await asTenant(acme, (tx) => findTenantJob(tx, id));
    expect(own).toMatchObject({
      id,
      tenantId: acme,
      type: 'export',
      jobClass: 'heavy',
      state: 'queued',
      priority: 3,
      attempts: 0,
      lastError: null,
      result: null,
      startedAt: null,
      finishedAt: null,
    });
    expect(own?.acceptedAt.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(own?.queuedAt).toBeInstanceOf(Date);

    expect(await asTenant(globex, (tx) => findTenantJob(tx, id))).toBeUndefined();
    expect((await asTenant(globex, (tx) => listTenantJobs(tx, { limit: 100 }))).jobs).toEqual([]);
  });

  it("cancels a queued job once, refuses a running one with its state, and finds no other tenant's job", async () => {
    const acme = await tenant('tjcancel');
    const globex = await tenant('tjother');
    const [queued, running, foreign] = (await accept(newJob(acme), newJob(acme), newJob(acme))) as [string, string, string];
    await lifecycle.claimMany([running], LEASE_MS);

    const outcome = await asTenant(acme, (tx) => cancelQueuedJob(tx, queued));
    expect(outcome).toMatchObject({ cancelled: { id: queued, state: 'cancelled' } });
    expect('cancelled' in outcome && outcome.cancelled.finishedAt).toBeInstanceOf(Date);
    // Cancelled before its claim, it never runs.
    expect(await lifecycle.claimMany([queued], LEASE_MS)).toEqual([undefined]);

    expect(await asTenant(acme, (tx) => cancelQueuedJob(tx, queued))).toEqual({ notCancellable: 'cancelled' });
    expect(await asTenant(acme, (tx) => cancelQueuedJob(tx, running))).toEqual({ notCancellable: 'running' });
    expect(await asTenant(acme, (tx) => cancelQueuedJob(tx, randomUUID()))).toEqual({ notFound: true });

    // Another tenant cannot cancel it, nor learn that it exists; the job stays queued.
    expect(await asTenant(globex, (tx) => cancelQueuedJob(tx, foreign))).toEqual({ notFound: true });
    expect((await asTenant(acme, (tx) => findTenantJob(tx, foreign)))?.state).toBe('queued');
  });

  it('gives the request hash of a keyed job to its tenant only, and null for a job without a key or without a row', async () => {
    const acme = await tenant('tjhash');
    const globex = await tenant('tjhash2');
    const [keyed, unkeyed] = (await accept(newJob(acme, { idempotencyKey: 'order-17', requestHash: 'a'.repeat(64) }), newJob(acme))) as [string, string];

    expect(await asTenant(acme, (tx) => storedRequestHash(tx, keyed))).toBe('a'.repeat(64));
    expect(await asTenant(acme, (tx) => storedRequestHash(tx, unkeyed))).toBeNull();
    expect(await asTenant(acme, (tx) => storedRequestHash(tx, randomUUID()))).toBeNull();
    expect(await asTenant(globex, (tx) => storedRequestHash(tx, keyed))).toBeNull();
  });
});
