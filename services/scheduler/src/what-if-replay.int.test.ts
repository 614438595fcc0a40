import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createTestTenant, deferred, dropTestTenants, testPools } from '@fairway/db/testing';
import { loadWorkerProto, transportSecurity, type JobOutcome, type RunRequest__Output, type RunResponse } from '@fairway/grpc';
import { readJobTrace } from '@fairway/job-store';
import type { JobState } from '@fairway/jobs';
import { QUOTA_DEFAULTS, type QuotaLimits } from '@fairway/quota';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { parseQuotaAssignments, readRecordedTrace, traceEndLine, traceJobLine, whatIfOnRecordedTrace } from '@fairway/what-if';
import { FairDispatcher } from './fair-dispatcher';
import { JobStore, type NewJob } from './job-store';
import { createPolicy, parseTiers } from './policy';
import { WorkerPools } from './worker-pool';

/** The outer bound of every wait in this file (the waits end on an event, not a timer). */
const WAIT_MS = 30_000;
/** Slots of the one tier, and the jobs' service time (the worker holds each job this long). */
const SLOTS = 4;

/**
 * A worker at the other end of a real `Worker/Run` stream that "runs" a job by holding its slot
 * for the job's `params.ms`, then answers it and grants the slot back, as the real worker's
 * stream handler does.
 */
class TimedWorker {
  private readonly server = new grpc.Server();

  constructor(private readonly capacity: number) {
    this.server.addService(loadWorkerProto().fairway.worker.v1.Worker.service, {
      Run: (call: grpc.ServerDuplexStream<RunRequest__Output, RunResponse>) => {
        call.on('data', (request: RunRequest__Output) => {
          for (const job of request.jobs) {
            const ms = (JSON.parse(job.paramsJson || '{}') as { ms?: number }).ms ?? 0;
            setTimeout(() => {
              const outcome: JobOutcome = { jobId: job.jobId, attempt: job.attempt, applied: true, completed: false, resultJson: '{}' };
              if (!call.writableEnded) call.write({ outcomes: [outcome], grant: 1 });
            }, ms);
          }
        });
        call.on('end', () => call.end());
        call.write({ capacity: this.capacity, grant: this.capacity, workerId: 'timed-worker', outcomes: [] });
      },
    });
  }

  async listen(): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    return `127.0.0.1:${port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Issue #18 part 4's acceptance test: a run recorded by the real scheduler (FairDispatcher, its
 * durable queues in PostgreSQL, a real Worker/Run stream), exported from the jobs table as the
 * admin API exports it (the owner role, migration 905), and replayed by the fair core's simulator
 * with the quotas it ran under: each tenant's recorded waits must come back within the tolerance
 * below.
 */
describe('what-if on a recorded run of the real scheduler', () => {
  let pools: ReturnType<typeof testPools>;
  const tenants: TenantId[] = [];
  const stops: Array<() => Promise<void> | void> = [];

  beforeAll(() => {
    pools = testPools();
  });

  afterAll(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await dropTestTenants(pools.owner, tenants);
    await pools.end();
  });

  it("replays the recorded run with its own quotas to within max(25%, 60 ms) of every tenant's recorded p50 and p99 wait", async () => {
    const [whale, shark, minnow] = [
      await createTestTenant(pools.owner, 'wiwhale'),
      await createTestTenant(pools.owner, 'wishark'),
      await createTestTenant(pools.owner, 'wiminnow'),
    ];
    tenants.push(whale, shark, minnow);
    const partition = 200_000 + Math.floor(Math.random() * 1_000_000);

    const worker = new TimedWorker(SLOTS);
    const address = await worker.listen();
    stops.push(() => worker.stop());
    const connected = deferred<void>();
    const workers = new WorkerPools({ '*': [address] }, transportSecurity({ insecure: true }), { onCapacity: (c) => c.total > 0 && connected.resolve() });
    stops.push(() => workers.close());
    workers.start();
    await within(connected.promise, 'the worker to advertise its capacity');

    const succeeded = new Set<string>();
    const waiters: Array<{ n: number; done: () => void }> = [];
    const store = new JobStore(pools.scheduler, `what-if-${randomUUID().slice(0, 8)}`);
    const dispatcher = new FairDispatcher(
      createPolicy('fair', parseTiers(`standard:${SLOTS}`)),
      store,
      workers,
      createLogger('what-if-int', 'silent'),
      { window: 64, jobTimeoutMs: 10_000, leaseMarginMs: 5_000, retryBaseDelayMs: 1, retryMaxDelayMs: 1 },
      {
        onStateChange: (job, state: JobState) => {
          if (state !== 'succeeded') return;
          succeeded.add(job.id);
          for (const w of waiters) if (succeeded.size >= w.n) w.done();
        },
      },
    );
    stops.push(() => dispatcher.stop());
    const succeededAtLeast = (n: number) => {
      const done = deferred<void>();
      waiters.push({ n, done: () => done.resolve() });
      if (succeeded.size >= n) done.resolve();
      return within(done.promise, `${n} jobs to succeed`);
    };
    // The quotas the run is recorded under: the whale is worth two of the others.
    const quotas: Record<string, QuotaLimits> = { [whale]: { ...QUOTA_DEFAULTS, weight: 2 }, [shark]: QUOTA_DEFAULTS, [minnow]: QUOTA_DEFAULTS };
    dispatcher.applyQuota({ tenantId: whale, ...quotas[whale]!, updatedAt: '', updatedBy: 'test' });
    await dispatcher.assign([partition]);

    const from = new Date(Date.now() - 1_000);
    const job = (tenantId: TenantId, ms: number): NewJob => ({
      id: randomUUID(),
      tenantId,
      type: 'synthetic',
      jobClass: 'standard',
      params: { ms },
      priority: 0,
      traceHeaders: {},
      acceptedAt: new Date().toISOString(),
      partition,
    });
    // Two waves: a backlog of whale and shark jobs, then, once a third of it ran, more of both
    // and the minnow's short jobs, which arrive into a busy tier.
    const first = [...Array.from({ length: 30 }, () => job(whale, 120)), ...Array.from({ length: 30 }, () => job(shark, 80))];
    // As the ingest does: the rows made durable, then handed to the dispatcher.
    dispatcher.ingested(await store.insertJobs(first));
    await succeededAtLeast(20);
    const second = [
      ...Array.from({ length: 20 }, () => job(whale, 120)),
      ...Array.from({ length: 20 }, () => job(shark, 80)),
      ...Array.from({ length: 20 }, () => job(minnow, 30)),
    ];
    dispatcher.ingested(await store.insertJobs(second));
    await succeededAtLeast(first.length + second.length);
    const to = new Date(Date.now() + 1_000);

    // Export as the admin API does (owner role, migration 905's policy), through the trace format and back.
    const lines: string[] = [];
    for await (const row of readJobTrace(pools.owner, { from, to, tenants: [whale, shark, minnow] })) lines.push(traceJobLine(row));
    lines.push(
      traceEndLine({ from: from.toISOString(), to: to.toISOString(), jobs: lines.length, unfinished: 0, tiers: { standard: { slots: SLOTS } }, quotas }),
    );
    const trace = await readRecordedTrace(lines);
    expect(trace.jobs).toHaveLength(first.length + second.length);
    expect(trace.jobs.every((j) => j.state === 'succeeded' && j.attempts === 1 && j.class === 'standard')).toBe(true);
    // Measured cost: the worker held each job for its ms, plus the outcome's way back.
    const whaleCosts = trace.jobs.filter((j) => j.tenant === whale).map((j) => j.cost);
    expect(Math.min(...whaleCosts)).toBeGreaterThanOrEqual(119);

    const report = whatIfOnRecordedTrace(trace, {});
    const figures = report.tenants.map((t) => ({ tenant: t.tenant, jobs: t.jobs, recorded: t.recorded, simulated: t.simulated, ideal: t.idealRecorded }));
    console.log(`what-if replay of a recorded run (${trace.jobs.length} jobs, ${SLOTS} slots): ${JSON.stringify({ figures, fidelity: report.fidelity })}`);
    for (const line of report.tenants) {
      for (const p of ['waitP50Ms', 'waitP99Ms'] as const) {
        const tolerance = Math.max(0.25 * line.recorded[p], 60);
        expect({ tenant: line.tenant, p, error: Math.abs(line.simulated[p] - line.recorded[p]) <= tolerance }).toEqual({ tenant: line.tenant, p, error: true });
      }
    }

    // And the what-if itself: capping the whale at one job at a time lengthens its waits in the replay.
    const capped = whatIfOnRecordedTrace(trace, parseQuotaAssignments([`${whale}:maxInFlight=1`]));
    const whaleLine = capped.tenants.find((t) => t.tenant === whale);
    expect(whaleLine?.proposed.waitP99Ms).toBeGreaterThan(whaleLine?.simulated.waitP99Ms ?? Infinity);
  });
});
