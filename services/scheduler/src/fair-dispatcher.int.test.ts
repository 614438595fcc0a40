import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createTestTenant, deferred, dropTestTenants, testPools } from '@fairway/db/testing';
import { loadWorkerProto, transportSecurity, type JobAssignment__Output, type JobOutcome, type RunRequest__Output, type RunResponse } from '@fairway/grpc';
import type { JobState } from '@fairway/jobs';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { FairDispatcher } from './fair-dispatcher';
import { JobStore, type NewJob } from './job-store';
import { createPolicy, parseTiers } from './policy';
import { WorkerPools } from './worker-pool';

/** The outer bound of every wait in this file (the waits themselves end on an event, not a timer). */
const WAIT_MS = 15_000;

/** Rejects with `what` if `promise` has not settled within WAIT_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the fake worker answers for one assignment: a result, or a Fairway error. */
type Answer = { resultJson: string } | { error: { code: string; message: string; retriable: boolean } };

/**
 * A worker at the other end of a real `Worker/Run` stream that runs nothing: it advertises
 * `capacity`, records every assignment in arrival order, answers each at once as `answer` says,
 * and grants the slot back with the outcome (as the real worker's jobStreamHandler does).
 */
class FakeWorker {
  readonly assignments: JobAssignment__Output[] = [];
  /** When set, answers to the messages that arrive from now on wait for it (their slots stay taken). */
  hold: Promise<void> | undefined;
  private readonly server = new grpc.Server();
  private readonly arrivals: Array<{ n: number; done: () => void }> = [];

  constructor(
    private readonly capacity: number,
    private readonly answer: (job: JobAssignment__Output) => Answer,
    /** When given, no answer is written before it resolves (the slots stay taken until then). */
    private readonly gate?: Promise<void>,
  ) {
    this.server.addService(loadWorkerProto().fairway.worker.v1.Worker.service, {
      Run: (call: grpc.ServerDuplexStream<RunRequest__Output, RunResponse>) => {
        call.on('data', (request: RunRequest__Output) => {
          const outcomes: JobOutcome[] = request.jobs.map((job) => {
            this.assignments.push(job);
            for (const a of this.arrivals) if (this.assignments.length >= a.n) a.done();
            const answer = this.answer(job);
            return { jobId: job.jobId, attempt: job.attempt, applied: true, completed: false, ...answer };
          });
          const write = () => call.write({ outcomes, grant: outcomes.length });
          const wait = this.gate ?? this.hold;
          if (wait) void wait.then(write);
          else write();
        });
        call.on('end', () => call.end());
        call.write({ capacity: this.capacity, grant: this.capacity, workerId: 'fake-worker', outcomes: [] });
      },
    });
  }

  /** Resolves once `n` assignments have arrived in all. */
  assigned(n: number): Promise<void> {
    const arrived = deferred<void>();
    this.arrivals.push({ n, done: () => arrived.resolve() });
    if (this.assignments.length >= n) arrived.resolve();
    return within(arrived.promise, `${n} assignments to reach the worker`);
  }

  /** Listens on a free loopback port and returns its address. */
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

describe('FairDispatcher: durable queues in real PostgreSQL, jobs over a real Worker/Run stream to a fake worker', () => {
  let pools: ReturnType<typeof testPools>;
  const tenants: TenantId[] = [];
  const stops: Array<() => Promise<void> | void> = [];
  const replica = `dispatch-test-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    pools = testPools();
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
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

  /** A partition no other test uses, so that the dispatcher loads only this test's jobs. */
  const uniquePartition = () => 100_000 + Math.floor(Math.random() * 1_000_000);

  function newJob(tenantId: TenantId, partition: number, acceptedAt: string = new Date().toISOString()): NewJob {
    return { id: randomUUID(), tenantId, type: 'synthetic', jobClass: 'standard', params: { ms: 0 }, priority: 0, traceHeaders: {}, acceptedAt, partition };
  }

  /**
   * A dispatcher over `worker` with one `standard` tier of `slots`, resolved once the worker
   * advertised its capacity. `until(state, n)` resolves when `n` jobs have reached `state`.
   */
  async function startDispatcher(worker: FakeWorker, slots: number, now?: () => number, claimAhead?: number) {
    const address = await worker.listen();
    stops.push(() => worker.stop());
    const connected = deferred<void>();
    const workers = new WorkerPools({ '*': [address] }, transportSecurity({ insecure: true }), {
      onCapacity: (capacity) => capacity.total > 0 && connected.resolve(),
    });
    stops.push(() => workers.close());
    workers.start();
    await within(connected.promise, 'the fake worker to advertise its capacity');

    const reached = new Map<JobState, Set<string>>();
    const waiters: Array<{ state: JobState; n: number; done: () => void }> = [];
    const store = new JobStore(pools.scheduler, replica);
    const dispatcher = new FairDispatcher(
      createPolicy('fair', parseTiers(`standard:${slots}`)),
      store,
      workers,
      createLogger('dispatch-int', 'silent'),
      {
        window: 8,
        jobTimeoutMs: 10_000,
        leaseMarginMs: 5_000,
        retryBaseDelayMs: 1,
        retryMaxDelayMs: 1,
        ...(now ? { now } : {}),
        ...(claimAhead === undefined ? {} : { claimAhead }),
      },
      {
        onStateChange: (job, state) => {
          const ids = reached.get(state) ?? new Set<string>();
          ids.add(job.id);
          reached.set(state, ids);
          for (const w of waiters) if (w.state === state && ids.size >= w.n) w.done();
        },
      },
    );
    stops.push(() => dispatcher.stop());
    const until = (state: JobState, n: number): Promise<void> => {
      const done = deferred<void>();
      waiters.push({ state, n, done: () => done.resolve() });
      if ((reached.get(state)?.size ?? 0) >= n) done.resolve();
      return within(done.promise, `${n} jobs to reach '${state}'`);
    };
    return { dispatcher, store, until };
  }

  async function rows(ids: readonly string[]) {
    const { rows: found } = await pools.scheduler.query<{
      id: string;
      state: string;
      attempts: number;
      dispatched_by: string | null;
      result: unknown;
      last_error: string | null;
    }>('SELECT id, state, attempts, dispatched_by, result, last_error FROM jobs WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(found.map((row) => [row.id, row]));
  }

  it('runs the queued jobs of the partitions it is assigned on the worker stream, and records each success under its attempt', async () => {
    const t = await tenant('dispatch');
    const partition = uniquePartition();
    const worker = new FakeWorker(4, (job) => ({ resultJson: JSON.stringify({ ran: job.jobId, attempt: job.attempt }) }));
    const { dispatcher, store, until } = await startDispatcher(worker, 4);
    const jobs = Array.from({ length: 6 }, () => newJob(t, partition));
    const elsewhere = newJob(t, partition + 1);
    await store.insertJobs([...jobs, elsewhere]);

    await dispatcher.assign([partition]);
    await until('succeeded', jobs.length);

    const stored = await rows([...jobs.map((j) => j.id), elsewhere.id]);
    for (const job of jobs) {
      expect(stored.get(job.id)).toMatchObject({ state: 'succeeded', attempts: 1, dispatched_by: replica, result: { ran: job.id, attempt: 1 } });
    }
    // Each job went to the worker once, with its tenant; the partition not assigned stays queued.
    expect(worker.assignments.map((a) => a.jobId).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(new Set(worker.assignments.map((a) => a.tenantId))).toEqual(new Set([t]));
    expect(stored.get(elsewhere.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it("leaves a tenant whose window is full out of the maintenance's load, and still runs every job queued behind it", async () => {
    const full = await tenant('full');
    const room = await tenant('room');
    const [pFull, pRoom] = [uniquePartition(), uniquePartition()];
    const gate = deferred<void>();
    const worker = new FakeWorker(1, () => ({ resultJson: '{}' }), gate.promise);
    const { dispatcher, store, until } = await startDispatcher(worker, 1);
    const fullJobs = Array.from({ length: 12 }, () => newJob(full, pFull));
    const roomJobs = Array.from({ length: 3 }, () => newJob(room, pRoom));
    await store.insertJobs([...fullJobs, ...roomJobs]);
    // The one slot goes to a job of `room` and stays taken (the worker holds its answer), so the
    // window of `full` stays full: 8 of its 12 jobs (the test dispatcher's window is 8).
    await dispatcher.assign([pRoom]);
    await until('running', 1);
    await dispatcher.assign([pRoom, pFull]);
    expect(dispatcher.tenantCounts().get(full)).toEqual({ queued: 8, running: 0 });
    expect(dispatcher.tenantCounts().get(room)).toEqual({ queued: 2, running: 1 });

    // Jobs the dispatcher was not told of (another replica's requeue, a retry by the operators).
    const later = [newJob(full, pFull), newJob(room, pRoom), newJob(room, pRoom)];
    await store.insertJobs(later);
    const load = jest.spyOn(store, 'loadQueued');
    await dispatcher.maintain();
    const [, , , excluded, skipped] = load.mock.calls[0] ?? [];
    expect(skipped).toEqual([full]);
    expect((excluded ?? []).filter((id) => fullJobs.some((j) => j.id === id))).toEqual([]);
    expect(dispatcher.tenantCounts().get(full)).toEqual({ queued: 8, running: 0 });
    expect(dispatcher.tenantCounts().get(room)).toEqual({ queued: 4, running: 1 });

    gate.resolve();
    const all = [...fullJobs, ...roomJobs, ...later];
    await until('succeeded', all.length);
    const stored = await rows(all.map((j) => j.id));
    expect([...stored.values()].filter((row) => row.state === 'succeeded')).toHaveLength(all.length);
  });

  it('retries a retriable failure under the next attempt, and records a failure that is not retriable as final', async () => {
    const t = await tenant('retry');
    const partition = uniquePartition();
    const flaky = newJob(t, partition);
    const broken = newJob(t, partition);
    const worker = new FakeWorker(2, (job) => {
      if (job.jobId === broken.id) return { error: { code: 'VALIDATION_FAILED', message: 'params rejected', retriable: false } };
      if (job.attempt === 1) return { error: { code: 'WORKER_UNAVAILABLE', message: 'try again', retriable: true } };
      return { resultJson: '{"second":true}' };
    });
    const { dispatcher, store, until } = await startDispatcher(worker, 2);
    await store.insertJobs([flaky, broken]);

    await dispatcher.assign([partition]);
    await Promise.all([until('succeeded', 1), until('failed', 1)]);

    const stored = await rows([flaky.id, broken.id]);
    expect(stored.get(flaky.id)).toMatchObject({ state: 'succeeded', attempts: 2, result: { second: true }, last_error: null });
    expect(stored.get(broken.id)).toMatchObject({ state: 'failed', attempts: 1, last_error: 'VALIDATION_FAILED: params rejected' });
    const attemptsOf = (id: string) => worker.assignments.filter((a) => a.jobId === id).map((a) => a.attempt);
    expect(attemptsOf(flaky.id)).toEqual([1, 2]);
    expect(attemptsOf(broken.id)).toEqual([1]);
  });

  it("claims jobs ahead of the worker's free slots once it has measured a claim and a run, and never sends more than the worker granted", async () => {
    const t = await tenant('ahead');
    const partition = uniquePartition();
    const worker = new FakeWorker(2, () => ({ resultJson: '{}' }));
    const { dispatcher, store, until } = await startDispatcher(worker, 2, undefined, 1);
    // A first pair of jobs measures a claim's latency and a run.
    const first = [newJob(t, partition), newJob(t, partition)];
    await store.insertJobs(first);
    await dispatcher.assign([partition]);
    await until('succeeded', 2);

    // The worker now holds its answers: its 2 slots stay taken, and what the dispatcher claims
    // beyond them waits in the scheduler. No-op jobs run about as long as a claim takes, so 1 or 2
    // more are claimed (at most claimAhead = 1 per slot).
    const held = deferred<void>();
    worker.hold = held.promise;
    // Stops run last-in first: the answers are released before the dispatcher waits for its jobs.
    stops.push(() => held.resolve());
    const rest = Array.from({ length: 6 }, () => newJob(t, partition));
    await store.insertJobs(rest);
    await dispatcher.maintain();
    await until('running', 5);
    const usage = dispatcher.tierUsage().find((tier) => tier.name === 'standard');
    expect(usage).toMatchObject({ slots: 2 });
    expect(usage?.ahead).toBeGreaterThanOrEqual(1);
    expect(usage?.ahead).toBeLessThanOrEqual(2);
    expect(usage?.inUse).toBe(2 + (usage?.ahead ?? 0));
    const { rows: running } = await pools.scheduler.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE id = ANY($1::uuid[]) AND state = 'running'", [
      rest.map((j) => j.id),
    ]);
    expect(Number(running[0]?.n)).toBe(usage?.inUse);
    // The worker got the two jobs it had slots for, and no more: the ones claimed ahead wait in
    // the scheduler until it grants a slot (one more would already be a job sent beyond its credit).
    await worker.assigned(4);
    expect(worker.assignments).toHaveLength(4);

    held.resolve();
    worker.hold = undefined;
    await until('succeeded', 8);
    const stored = await rows([...first, ...rest].map((j) => j.id));
    expect([...stored.values()].every((row) => row.state === 'succeeded' && row.attempts === 1)).toBe(true);
    expect(worker.assignments.map((a) => a.jobId).sort()).toEqual([...first, ...rest].map((j) => j.id).sort());
  });

  it("does not let a tenant with a long queue hold back another tenant's jobs on a single slot", async () => {
    // Named so that the whale comes first in every order the store and the window load them in.
    const whale = await tenant('awhale');
    const small = await tenant('zsmall');
    const partition = uniquePartition();
    // Every job costs the same 10 ms of the dispatcher's clock, which only the worker moves: the
    // core charges tenants by measured duration, and wall-clock durations on a loaded machine made
    // the order depend on which job met a pause (one CI run saw the small tenant's second job fifth).
    let clock = Date.now();
    const worker = new FakeWorker(1, () => {
      clock += 10;
      return { resultJson: '{}' };
    });
    const { dispatcher, store, until } = await startDispatcher(worker, 1, () => clock);
    // The whale's twelve jobs were all accepted before the small tenant's two.
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const whaleJobs = Array.from({ length: 12 }, (_, i) => newJob(whale, partition, at(i)));
    const smallJobs = [newJob(small, partition, at(30)), newJob(small, partition, at(31))];
    await store.insertJobs([...whaleJobs, ...smallJobs]);

    await dispatcher.assign([partition]);
    await until('succeeded', whaleJobs.length + smallJobs.length);

    // Arrival order (the fifo policy) runs the small tenant's jobs after the whale's window of
    // eight; with equal weights they run within the first four dispatches.
    const order = worker.assignments.map((a) => a.tenantId);
    expect(order).toHaveLength(14);
    expect(order.slice(0, 4).filter((id) => id === small)).toHaveLength(2);
  });
});
