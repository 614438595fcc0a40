import { randomUUID } from 'node:crypto';
import { setTenantStatus } from '@fairway/db';
import { createTestTenant, dropTestTenants, testPools } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { JobLifecycle, type ClaimedJob, type NewJob } from './job-lifecycle';

interface JobRow {
  state: string;
  attempts: number;
  max_attempts: number;
  dispatched_by: string | null;
  lease_ms: number | null;
  lease_expires_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  run_after_in_ms: number;
  last_error: string | null;
  result: unknown;
  result_type: string | null;
}

const LEASE_MS = 45_000;

describe('JobLifecycle: accept, load, claim, complete and requeue, one statement per batch (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let store: JobLifecycle;
  let tenant: TenantId;
  const extraTenants: TenantId[] = [];
  const replica = `store-test-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    pools = testPools();
    store = new JobLifecycle(pools.scheduler, replica);
    tenant = await createTestTenant(pools.owner, 'jobstore');
  });

  afterAll(async () => {
    await dropTestTenants(pools.owner, [tenant, ...extraTenants]);
    await pools.end();
  });

  /** Inserts `n` queued jobs of the test tenant and returns their ids, in insertion order. */
  async function queuedJobs(n: number, params: Record<string, unknown> = { ms: 1 }): Promise<string[]> {
    const jobs: NewJob[] = Array.from({ length: n }, () => ({
      id: randomUUID(),
      tenantId: tenant,
      type: 'synthetic',
      jobClass: 'standard',
      params,
      priority: 0,
      traceHeaders: {},
      acceptedAt: new Date().toISOString(),
      partition: 0,
    }));
    const inserted = await store.insertJobs(jobs);
    expect(inserted).toHaveLength(n);
    return jobs.map((j) => j.id);
  }

  async function row(jobId: string): Promise<JobRow> {
    const { rows } = await pools.scheduler.query<JobRow>(
      `SELECT state, attempts, max_attempts, dispatched_by, lease_expires_at, started_at, finished_at, last_error, result,
              jsonb_typeof(result) AS result_type,
              (extract(epoch FROM lease_expires_at - started_at) * 1000)::float8 AS lease_ms,
              (extract(epoch FROM run_after - now()) * 1000)::float8 AS run_after_in_ms
       FROM jobs WHERE id = $1`,
      [jobId],
    );
    expect(rows).toHaveLength(1);
    return rows[0] as JobRow;
  }

  async function claimOne(jobId: string): Promise<ClaimedJob> {
    const [claimed] = await store.claimMany([jobId], LEASE_MS);
    expect(claimed?.id).toBe(jobId);
    return claimed as ClaimedJob;
  }

  describe('claimMany', () => {
    it('returns one entry per id, in the order asked, undefined where the job is not queued', async () => {
      const [a, b, c, cancelled] = await queuedJobs(4, { ms: 7, note: "it's" });
      await pools.scheduler.query("UPDATE jobs SET state = 'cancelled' WHERE id = $1", [cancelled]);
      const unknown = randomUUID();
      // Asked in an order different from insertion, with a cancelled and an unknown job in between.
      const claimed = await store.claimMany([c as string, cancelled as string, a as string, unknown, b as string], LEASE_MS);
      expect(claimed.map((j) => j?.id)).toEqual([c, undefined, a, undefined, b]);
      for (const job of claimed.filter((j): j is ClaimedJob => j !== undefined)) {
        expect(job).toMatchObject({ tenantId: tenant, type: 'synthetic', jobClass: 'standard', attempt: 1, maxAttempts: 5 });
        expect(JSON.parse(job.paramsJson)).toEqual({ ms: 7, note: "it's" });
        expect(job.startedAt).toBeInstanceOf(Date);
      }
      expect((await row(cancelled as string)).state).toBe('cancelled');
    });

    it('takes the lease: running, attempts + 1 as the fencing token, a lease of leaseMs, this replica', async () => {
      const [id] = (await queuedJobs(1)) as [string];
      const claimed = await claimOne(id);
      expect(claimed.attempt).toBe(1);
      const stored = await row(id);
      expect(stored).toMatchObject({ state: 'running', attempts: 1, dispatched_by: replica, lease_ms: LEASE_MS });
      expect(stored.started_at?.getTime()).toBe(claimed.startedAt.getTime());

      // A job already running cannot be claimed a second time.
      expect(await store.claimMany([id], LEASE_MS)).toEqual([undefined]);
      expect((await row(id)).attempts).toBe(1);

      // Back in the queue (a retriable failure), its next claim presents the next token.
      expect(await store.failMany([{ jobId: id, attempt: 1, error: 'try again', retriable: true, retryDelayMs: 0 }])).toEqual(['queued']);
      expect((await claimOne(id)).attempt).toBe(2);
      expect((await row(id)).attempts).toBe(2);
    });

    it('answers an empty list of ids with an empty list', async () => {
      expect(await store.claimMany([], LEASE_MS)).toEqual([]);
    });
  });

  describe('succeedMany', () => {
    it('refuses a stale attempt and records the attempt that holds the lease, its result stored as jsonb', async () => {
      const [id] = (await queuedJobs(1)) as [string];
      await claimOne(id);
      const resultJson = JSON.stringify({ applied: true, nested: { n: 1, list: [1, 'two'] }, quote: "o'k" });

      expect(await store.succeedMany([{ jobId: id, attempt: 2, resultJson }])).toEqual([false]);
      expect(await store.succeedMany([{ jobId: id, attempt: 0, resultJson }])).toEqual([false]);
      expect(await row(id)).toMatchObject({ state: 'running', result: null });

      expect(await store.succeedMany([{ jobId: id, attempt: 1, resultJson }])).toEqual([true]);
      const stored = await row(id);
      expect(stored).toMatchObject({ state: 'succeeded', result_type: 'object', lease_expires_at: null, last_error: null });
      expect(stored.result).toEqual(JSON.parse(resultJson));
      expect(stored.finished_at).toBeInstanceOf(Date);

      // Recorded once: the same success again is fenced off (the job no longer runs).
      expect(await store.succeedMany([{ jobId: id, attempt: 1, resultJson: '{"second":true}' }])).toEqual([false]);
      expect((await row(id)).result).toEqual(JSON.parse(resultJson));
    });

    it('answers each item of one statement in order: recorded, stale, not running', async () => {
      const [good, stale, queued] = (await queuedJobs(3)) as [string, string, string];
      await store.claimMany([good, stale], LEASE_MS);
      const answers = await store.succeedMany([
        { jobId: stale, attempt: 7, resultJson: '{}' },
        { jobId: queued, attempt: 1, resultJson: '{}' },
        { jobId: good, attempt: 1, resultJson: '[1,2,3]' },
      ]);
      expect(answers).toEqual([false, false, true]);
      expect(await row(good)).toMatchObject({ state: 'succeeded', result: [1, 2, 3], result_type: 'array' });
      expect((await row(stale)).state).toBe('running');
      expect((await row(queued)).state).toBe('queued');
    });
  });

  describe('failMany', () => {
    it('requeues a retriable failure with attempts left after its delay, and fails, kills or fences the others', async () => {
      const [retry, exhausted, fatal, stale] = (await queuedJobs(4)) as [string, string, string, string];
      await pools.scheduler.query('UPDATE jobs SET max_attempts = 1 WHERE id = $1', [exhausted]);
      const claimed = await store.claimMany([retry, exhausted, fatal, stale], LEASE_MS);
      expect(claimed.every((j) => j?.attempt === 1)).toBe(true);
      const longError = `boom ${'x'.repeat(3_000)}`;

      const states = await store.failMany([
        { jobId: retry, attempt: 1, error: 'worker unavailable', retriable: true, retryDelayMs: 60_000 },
        { jobId: exhausted, attempt: 1, error: 'still failing', retriable: true, retryDelayMs: 60_000 },
        { jobId: fatal, attempt: 1, error: longError, retriable: false, retryDelayMs: 0 },
        { jobId: stale, attempt: 2, error: 'from a stale attempt', retriable: true, retryDelayMs: 0 },
      ]);
      expect(states).toEqual(['queued', 'dead', 'failed', undefined]);

      const requeued = await row(retry);
      expect(requeued).toMatchObject({ state: 'queued', lease_expires_at: null, finished_at: null, last_error: 'worker unavailable' });
      // run_after is a minute from now (the statement's clock, read back by a later statement).
      expect(requeued.run_after_in_ms).toBeGreaterThan(50_000);
      expect(requeued.run_after_in_ms).toBeLessThanOrEqual(60_000);
      // Not runnable before its delay: the dispatcher's load does not see it.
      expect((await store.loadQueued([0], 100, tenant)).map((j) => j.id)).not.toContain(retry);

      const dead = await row(exhausted);
      expect(dead).toMatchObject({ state: 'dead', lease_expires_at: null, last_error: 'still failing' });
      expect(dead.finished_at).toBeInstanceOf(Date);

      const failed = await row(fatal);
      expect(failed).toMatchObject({ state: 'failed', lease_expires_at: null });
      expect(failed.finished_at).toBeInstanceOf(Date);
      expect(failed.last_error).toBe(longError.slice(0, 2_000));

      const untouched = await row(stale);
      expect(untouched).toMatchObject({ state: 'running', attempts: 1, last_error: null, lease_ms: LEASE_MS });
    });

    it('kills a retriable job on its last attempt after retries used every attempt', async () => {
      const [id] = (await queuedJobs(1)) as [string];
      await pools.scheduler.query('UPDATE jobs SET max_attempts = 2 WHERE id = $1', [id]);
      const first = await claimOne(id);
      expect(await store.failMany([{ jobId: id, attempt: first.attempt, error: 'e1', retriable: true, retryDelayMs: 0 }])).toEqual(['queued']);
      const second = await claimOne(id);
      expect(second.attempt).toBe(2);
      // The first attempt reporting late is fenced off; the second one's failure is final.
      expect(await store.failMany([{ jobId: id, attempt: 1, error: 'late', retriable: true, retryDelayMs: 0 }])).toEqual([undefined]);
      expect(await store.failMany([{ jobId: id, attempt: 2, error: 'e2', retriable: true, retryDelayMs: 0 }])).toEqual(['dead']);
      expect(await row(id)).toMatchObject({ state: 'dead', attempts: 2, last_error: 'e2' });
    });
  });

  describe('insertJobs', () => {
    function newJob(overrides: Partial<NewJob> = {}): NewJob {
      return {
        id: randomUUID(),
        tenantId: tenant,
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

    it('accepts a batch once: a redelivered id or a repeated idempotency key is skipped, and only the jobs inserted are returned', async () => {
      const plain = newJob();
      const keyed = newJob({ idempotencyKey: `k-${randomUUID()}`, requestHash: 'h1' });
      const first = await store.insertJobs([plain, keyed]);
      expect(first.map((j) => j.id)).toEqual([plain.id, keyed.id]);

      const fresh = newJob({ id: randomUUID().toUpperCase(), params: { ms: 2, nested: { a: [1] } }, priority: 4, partition: 3 });
      const sameKeyOtherId = newJob({ idempotencyKey: keyed.idempotencyKey, requestHash: 'h2' });
      const second = await store.insertJobs([{ ...plain, params: { changed: true } }, sameKeyOtherId, fresh]);
      // The id comes back in PostgreSQL's (lower-case) text form, as loadQueued gives it.
      expect(second).toEqual([
        {
          id: fresh.id.toLowerCase(),
          tenantId: tenant,
          type: 'synthetic',
          jobClass: 'standard',
          params: { ms: 2, nested: { a: [1] } },
          priority: 4,
          partition: 3,
          acceptedAt: new Date(fresh.acceptedAt),
        },
      ]);
      const { rows } = await pools.scheduler.query<{ params: unknown; request_hash: string | null }>(
        'SELECT params, request_hash FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY request_hash NULLS FIRST',
        [[plain.id, keyed.id]],
      );
      expect(rows.map((r) => [r.params, r.request_hash])).toEqual([
        [{ ms: 1 }, null],
        [{ ms: 1 }, 'h1'],
      ]);
      expect((await pools.scheduler.query('SELECT 1 FROM jobs WHERE id = $1', [sameKeyOtherId.id])).rowCount).toBe(0);
    });

    it('answers an empty batch with an empty list', async () => {
      expect(await store.insertJobs([])).toEqual([]);
    });
  });

  /** A queued job of `tenantId` in `partition`, accepted `s` seconds into 2026 (the order among its tenant's jobs). */
  const queuedJob = (tenantId: TenantId, priority: number, s: number, partition: number): NewJob => ({
    id: randomUUID(),
    tenantId,
    type: 'synthetic',
    jobClass: 'standard',
    params: {},
    priority,
    traceHeaders: {},
    acceptedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString(),
    partition,
  });

  describe('loadQueued', () => {
    it("loads the head of each active tenant's queue in the asked partitions: priority, then arrival, at most perTenant, without the excluded ids", async () => {
      // A partition no other test uses keeps this test's tenants alone in it.
      const partition = 100_000 + Math.floor(Math.random() * 1_000_000);
      const second = await createTestTenant(pools.owner, 'jobstore2');
      const paused = await createTestTenant(pools.owner, 'jobstore3');
      extraTenants.push(second, paused);
      const job = (tenantId: TenantId, priority: number, s: number, p = partition) => queuedJob(tenantId, priority, s, p);
      const oldest = job(tenant, 0, 0);
      const urgent = job(tenant, 5, 2);
      const next = job(tenant, 0, 1);
      const last = job(tenant, 0, 3);
      const elsewhere = job(tenant, 9, 0, partition + 1);
      const other = job(second, 0, 0);
      const ofPaused = job(paused, 0, 0);
      await store.insertJobs([oldest, urgent, next, last, elsewhere, other, ofPaused]);
      await setTenantStatus(pools.owner, paused, 'suspended');

      const ids = (jobs: Array<{ id: string }>) => jobs.map((j) => j.id);
      const loaded = await store.loadQueued([partition], 2);
      expect(ids(loaded.filter((j) => j.tenantId === tenant))).toEqual([urgent.id, oldest.id]);
      expect(ids(loaded.filter((j) => j.tenantId === second))).toEqual([other.id]);
      expect(loaded.some((j) => j.tenantId === paused)).toBe(false);
      expect(loaded[0]).toMatchObject({ partition, params: {}, acceptedAt: expect.any(Date) });

      expect(ids(await store.loadQueued([partition], 2, tenant, [urgent.id]))).toEqual([oldest.id, next.id]);
      expect(ids(await store.loadQueued([partition, partition + 1], 1, tenant))).toEqual([elsewhere.id]);
      expect(await store.loadQueued([], 2)).toEqual([]);
    });
  });

  describe('refillMany', () => {
    it("tops up several tenants' windows in one statement: each its own want, in its order, without the excluded ids or suspended tenants", async () => {
      const partition = 100_000 + Math.floor(Math.random() * 1_000_000);
      const second = await createTestTenant(pools.owner, 'refill2');
      const paused = await createTestTenant(pools.owner, 'refill3');
      extraTenants.push(second, paused);
      const job = (tenantId: TenantId, priority: number, s: number, p = partition) => queuedJob(tenantId, priority, s, p);
      const [a0, a1, a2, a3] = [job(tenant, 0, 0), job(tenant, 0, 1), job(tenant, 3, 2), job(tenant, 0, 3)];
      const elsewhere = job(tenant, 9, 0, partition + 1);
      const [b0, b1] = [job(second, 0, 0), job(second, 0, 1)];
      const ofPaused = job(paused, 0, 0);
      await store.insertJobs([a0, a1, a2, a3, elsewhere, b0, b1, ofPaused]);
      await setTenantStatus(pools.owner, paused, 'suspended');

      const ids = (jobs: Array<{ id: string }>) => jobs.map((j) => j.id);
      const lists = await store.refillMany(
        [
          { tenantId: tenant, partition, want: 2 },
          { tenantId: second, partition, want: 1 },
          { tenantId: paused, partition, want: 5 },
          // Asked twice in one turn: read once, for the larger want.
          { tenantId: tenant, partition, want: 3 },
        ],
        [a2.id],
      );
      expect(lists.map(ids)).toEqual([[a0.id, a1.id, a3.id], [b0.id], [], [a0.id, a1.id, a3.id]]);
      expect(lists[1]?.[0]).toMatchObject({ tenantId: second, partition, params: {}, acceptedAt: expect.any(Date) });
      expect(await store.refillMany([], [])).toEqual([]);
    });
  });

  describe('requeueExpiredLeases', () => {
    it('puts a job whose lease expired back in the queue, marks one that used every attempt dead, and leaves live leases and other partitions alone', async () => {
      const partition = 100_000 + Math.floor(Math.random() * 1_000_000);
      const job = (p: number): NewJob => ({
        id: randomUUID(),
        tenantId: tenant,
        type: 'synthetic',
        jobClass: 'standard',
        params: {},
        priority: 0,
        traceHeaders: {},
        acceptedAt: new Date().toISOString(),
        partition: p,
      });
      const [expired, exhausted, live, otherPartition] = [job(partition), job(partition), job(partition), job(partition + 1)];
      await store.insertJobs([expired, exhausted, live, otherPartition]);
      await pools.scheduler.query('UPDATE jobs SET max_attempts = 1 WHERE id = $1', [exhausted.id]);
      // A lease in the past: expired as soon as it is taken, no waiting.
      await store.claimMany([expired.id, exhausted.id, otherPartition.id], -1_000);
      await store.claimMany([live.id], LEASE_MS);

      const requeued = await store.requeueExpiredLeases([partition]);
      expect(requeued.map((j) => j.id)).toEqual([expired.id]);
      expect(await row(expired.id)).toMatchObject({
        state: 'queued',
        attempts: 1,
        lease_expires_at: null,
        finished_at: null,
        last_error: 'lease expired: the attempt did not report back in time',
      });
      const dead = await row(exhausted.id);
      expect(dead).toMatchObject({ state: 'dead', lease_expires_at: null });
      expect(dead.finished_at).toBeInstanceOf(Date);
      expect((await row(live.id)).state).toBe('running');
      expect((await row(otherPartition.id)).state).toBe('running');
      // The requeued job's next claim presents the next fencing token.
      expect((await claimOne(expired.id)).attempt).toBe(2);
    });
  });
});
