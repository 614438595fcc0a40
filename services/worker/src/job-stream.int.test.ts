import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, TraceFlags, propagation, trace, type Context } from '@opentelemetry/api';
import { JobFailedError, TenantSuspendedError } from '@fairway/errors';
import {
  injectAssignment,
  loadWorkerProto,
  transportSecurity,
  type AssignmentCarrier,
  type CallTenant,
  type JobAssignment,
  type JobOutcome__Output,
  type RunRequest,
  type RunResponse__Output,
} from '@fairway/grpc';
import { registerPropagators } from '@fairway/telemetry';
import { currentTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
// The stream has two ends, one per service: this test runs the scheduler's end against the
// worker's, over a real grpc-js connection, so it imports both (a test, not a dependency).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { WorkerPools, WorkerFailure, type WorkerCapacity, type WorkerJob } from '../../scheduler/src/worker-pool';
import type { AttemptOutcome, JobAttempt, JobExecution } from './executor';
import { jobStreamHandler, type AttemptReport, type JobStreamOptions } from './job-stream';
import { deferred, type Deferred } from '@fairway/db/testing';

/** Rejects with `what` if `promise` has not settled within `ms`: the outer bound of a wait. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    // A wait abandoned by a failed test must not keep the process alive.
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const WAIT_MS = 10_000;

/** What the worker's execute saw of one attempt. */
interface Seen {
  job: JobAttempt;
  tenant: CallTenant;
  parent: Context;
  /** The attempt's deadline and cancellation signal, as the stream gave them. */
  execution: JobExecution;
  /** The tenant of the async context the attempt ran in. */
  current: string | undefined;
}

/**
 * The worker's `execute`, settled by the test: each attempt waits until released (or failed) by
 * job id, and `started(n)` resolves once n attempts have started (explicit readiness, no timer).
 */
class ControlledExecute {
  /** Every ControlledExecute made, so that afterEach can end the attempts a test left running. */
  static readonly all: ControlledExecute[] = [];
  readonly seen: Seen[] = [];
  running = 0;
  maxRunning = 0;
  private readonly attempts = new Map<string, Deferred<AttemptOutcome>>();
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor() {
    ControlledExecute.all.push(this);
  }

  readonly execute = (job: JobAttempt, tenant: CallTenant, parent: Context, execution: JobExecution): Promise<AttemptOutcome> => {
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.seen.push({ job, tenant, parent, execution, current: currentTenant()?.tenantId });
    const attempt = deferred<AttemptOutcome>();
    this.attempts.set(job.jobId, attempt);
    this.waiters = this.waiters.filter((w) => (this.seen.length >= w.n ? (w.resolve(), false) : true));
    return attempt.promise.finally(() => {
      this.running -= 1;
    });
  };

  started(n: number): Promise<void> {
    if (this.seen.length >= n) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.waiters.push({ n, resolve })), WAIT_MS, `${n} attempts to start`);
  }

  succeed(jobId: string, result: Record<string, unknown> = { jobId }, extra: Partial<AttemptOutcome> = {}): void {
    this.attemptOf(jobId).resolve({ applied: true, result, ...extra });
  }

  fail(jobId: string, err: unknown): void {
    this.attemptOf(jobId).reject(err);
  }

  /** Ends every attempt still running (the worker then clears its deadline timers). */
  abandon(): void {
    for (const attempt of this.attempts.values()) attempt.reject(new Error('the test is over'));
  }

  private attemptOf(jobId: string): Deferred<AttemptOutcome> {
    const attempt = this.attempts.get(jobId);
    if (!attempt) throw new Error(`job ${jobId} has not started`);
    return attempt;
  }
}

/** Settles `promise` into a value the test can inspect. */
function failureOf(promise: Promise<unknown>): Promise<WorkerFailure> {
  return promise.then(
    (value) => {
      throw new Error(`expected a WorkerFailure, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => {
      if (!(err instanceof WorkerFailure)) throw new Error(`expected a WorkerFailure, got ${String(err)}`);
      return err;
    },
  );
}

describe("Worker/Run: the scheduler's WorkerPools against the worker's jobStreamHandler (real grpc-js, plaintext on loopback)", () => {
  const proto = loadWorkerProto();
  let servers: grpc.Server[] = [];
  let pools: WorkerPools[] = [];
  let clients: grpc.Client[] = [];

  beforeAll(() => registerPropagators());
  afterAll(() => propagation.disable());

  afterEach(() => {
    for (const p of pools) p.close();
    for (const c of clients) c.close();
    for (const exec of ControlledExecute.all.splice(0)) exec.abandon();
    for (const s of servers) s.forceShutdown();
    pools = [];
    clients = [];
    servers = [];
  });

  async function startWorker(options: Omit<JobStreamOptions, 'workerId'> & { workerId?: string }): Promise<string> {
    const server = new grpc.Server();
    server.addService(proto.fairway.worker.v1.Worker.service, {
      Run: jobStreamHandler({ workerId: `w-${randomUUID().slice(0, 8)}`, ...options }),
    });
    servers.push(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    return `127.0.0.1:${port}`;
  }

  /** WorkerPools on `address`, started, resolved once the worker advertised its capacity. */
  async function connect(address: string, onCapacity: (c: WorkerCapacity) => void = () => undefined): Promise<WorkerPools> {
    const advertised = deferred<void>();
    const workers = new WorkerPools({ '*': [address] }, transportSecurity({ insecure: true }), {
      onCapacity: (capacity) => {
        onCapacity(capacity);
        if (capacity.total > 0) advertised.resolve();
      },
    });
    pools.push(workers);
    workers.start();
    await within(advertised.promise, WAIT_MS, `the worker at ${address} to advertise its capacity`);
    return workers;
  }

  const tenant = (prefix: string): TenantId => `${prefix}-${randomUUID().slice(0, 8)}` as TenantId;

  function jobFor(tenantId: TenantId, parent: Context = ROOT_CONTEXT): WorkerJob {
    return { jobId: randomUUID(), type: 'synthetic', paramsJson: '{"ms":0}', attempt: 1, carrier: injectAssignment(tenantContext(tenantId, 'job'), parent) };
  }

  it("advertises the worker's capacity in its first message", async () => {
    const exec = new ControlledExecute();
    const address = await startWorker({ capacity: 3, workerId: 'w-capacity', execute: exec.execute });
    const seen: WorkerCapacity[] = [];
    const workers = await connect(address, (c) => seen.push(c));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ total: 3, workers: [{ workerId: 'w-capacity', address, capacity: 3 }] });
    expect(workers.capacity()).toEqual({ total: 3, workers: [{ workerId: 'w-capacity', address, capacity: 3, inUse: 0 }] });
  });

  it("reports an idle worker's slots as free when it announces the capacity", async () => {
    const exec = new ControlledExecute();
    const address = await startWorker({ capacity: 3, workerId: 'w-idle', execute: exec.execute });
    const seen: WorkerCapacity[] = [];
    await connect(address, (c) => seen.push(c));
    expect(seen[0]?.workers).toEqual([{ workerId: 'w-idle', address, capacity: 3, inUse: 0 }]);
  });

  it('never runs more jobs at once than the worker granted, and finishes them all', async () => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 2, execute: exec.execute }));
    const jobs = Array.from({ length: 5 }, () => jobFor(tenant('flow')));
    const results = jobs.map((job) => workers.execute('standard', job, 30_000));

    await exec.started(2);
    expect(workers.capacity().workers[0]?.inUse).toBe(2);
    for (let i = 0; i < jobs.length; i += 1) {
      exec.succeed((exec.seen[i] as Seen).job.jobId);
      if (i + 2 < jobs.length) await exec.started(i + 3);
    }
    const answers = await within(Promise.all(results), WAIT_MS, 'every job to finish');
    expect(answers).toEqual(
      jobs.map((job) => ({ resultJson: JSON.stringify({ jobId: job.jobId }), applied: true, completed: false, runMs: expect.any(Number) })),
    );
    expect(exec.maxRunning).toBe(2);
    expect(exec.seen.map((s) => s.job.jobId).sort()).toEqual(jobs.map((j) => j.jobId).sort());
  });

  it("sends one turn's jobs to one worker while its credit lasts, then to the next: a turn stays one message", async () => {
    const first = new ControlledExecute();
    const second = new ControlledExecute();
    const addresses = [await startWorker({ capacity: 4, execute: first.execute }), await startWorker({ capacity: 4, execute: second.execute })];
    const both = deferred<void>();
    const workers = new WorkerPools({ '*': addresses }, transportSecurity({ insecure: true }), {
      onCapacity: (capacity) => {
        if (capacity.total === 8) both.resolve();
      },
    });
    pools.push(workers);
    workers.start();
    await within(both.promise, WAIT_MS, 'both workers to advertise their capacity');

    // Three jobs decided in one turn: one worker takes them all.
    const turn = Array.from({ length: 3 }, () => jobFor(tenant('turn')));
    const results = turn.map((job) => workers.execute('standard', job, 30_000));
    const [taker, other] = await within(
      Promise.race([first.started(3).then(() => [first, second] as const), second.started(3).then(() => [second, first] as const)]),
      WAIT_MS,
      'one worker to start the whole turn',
    );
    expect(other.seen).toHaveLength(0);
    for (const seen of taker.seen) taker.succeed(seen.job.jobId);
    await within(Promise.all(results), WAIT_MS, 'the turn to finish');

    // Six in one turn: the taker's credit (4) runs out, and the other worker gets the rest.
    const next = Array.from({ length: 6 }, () => jobFor(tenant('turn')));
    const nextResults = next.map((job) => workers.execute('standard', job, 30_000));
    await within(
      Promise.all([first.started(first.seen.length + (first === taker ? 4 : 2)), second.started(second.seen.length + (second === taker ? 4 : 2))]),
      WAIT_MS,
      'the second turn to start',
    );
    const counts = [taker.seen.length - 3, other.seen.length];
    expect(counts[0]! + counts[1]!).toBe(6);
    expect(Math.max(...counts)).toBe(4);
    for (const exec of [first, second]) for (const seen of exec.seen.slice(exec === taker ? 3 : 0)) exec.succeed(seen.job.jobId);
    await within(Promise.all(nextResults), WAIT_MS, 'the second turn to finish');
  });

  it('runs each job for the tenant its assignment names, with its baggage and trace', async () => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 4, execute: exec.execute }));
    const traceId = randomUUID().replace(/-/g, '');
    const traced = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED });
    const tenants = [tenant('acme'), tenant('globex'), tenant('initech')];
    const jobs = tenants.map((t, i) => jobFor(t, i === 0 ? traced : ROOT_CONTEXT));
    // The tenant field decides; the baggage travels as it came (here naming another tenant).
    const mismatched: WorkerJob = {
      ...jobFor(tenants[0] as TenantId),
      carrier: { ...jobFor(tenants[0] as TenantId).carrier, baggage: jobFor(tenants[1] as TenantId).carrier.baggage },
    };
    const results = [...jobs, mismatched].map((job) => workers.execute('standard', job, 30_000));
    await exec.started(4);
    for (const seen of exec.seen) exec.succeed(seen.job.jobId);
    await within(Promise.all(results), WAIT_MS, 'every job to finish');

    const byJob = new Map(exec.seen.map((s) => [s.job.jobId, s]));
    jobs.forEach((job, i) => {
      const seen = byJob.get(job.jobId) as Seen;
      expect(seen.job).toEqual({ jobId: job.jobId, type: 'synthetic', paramsJson: '{"ms":0}', attempt: 1 });
      expect(seen.tenant.context).toMatchObject({ tenantId: tenants[i] });
      expect(seen.tenant.baggageTenant).toBe(tenants[i]);
      expect(seen.current).toBe(tenants[i]);
    });
    expect(trace.getSpanContext((byJob.get(jobs[0]?.jobId as string) as Seen).parent)?.traceId).toBe(traceId);
    expect(trace.getSpanContext((byJob.get(jobs[1]?.jobId as string) as Seen).parent)).toBeUndefined();
    const other = byJob.get(mismatched.jobId) as Seen;
    expect(other.tenant.context.tenantId).toBe(tenants[0]);
    expect(other.tenant.baggageTenant).toBe(tenants[1]);
  });

  it('carries applied=false and completed=true of an outcome to the caller', async () => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 1, execute: exec.execute }));
    const job = jobFor(tenant('done'));
    const result = workers.execute('standard', job, 30_000);
    await exec.started(1);
    exec.succeed(job.jobId, { stored: 'by an earlier attempt' }, { applied: false, completed: true });
    await expect(within(result, WAIT_MS, 'the result')).resolves.toEqual({
      resultJson: '{"stored":"by an earlier attempt"}',
      applied: false,
      completed: true,
      runMs: expect.any(Number),
    });
  });

  it.each([
    {
      name: 'a non-retriable JobFailedError',
      error: new JobFailedError('synthetic failure on attempt 1 of 1', false),
      code: 'JOB_FAILED',
      retriable: false,
      message: 'synthetic failure on attempt 1 of 1',
    },
    { name: 'a retriable JobFailedError', error: new JobFailedError('downstream busy', true), code: 'JOB_FAILED', retriable: true, message: 'downstream busy' },
    { name: 'another Fairway error', error: new TenantSuspendedError('acme'), code: 'TENANT_SUSPENDED', retriable: false, message: 'acme' },
    {
      name: 'an error that is not a Fairway error (details not leaked)',
      error: new Error('password=hunter2'),
      code: 'INTERNAL',
      retriable: false,
      message: 'unexpected error',
    },
  ])('reports $name to the caller as a WorkerFailure with its code and retriable flag', async ({ error, code, retriable, message }) => {
    const exec = new ControlledExecute();
    const reports: AttemptReport[] = [];
    const workers = await connect(await startWorker({ capacity: 1, execute: exec.execute, onAttempt: (r) => reports.push(r) }));
    const job = jobFor(tenant('fails'));
    const failure = failureOf(workers.execute('standard', job, 30_000));
    await exec.started(1);
    exec.fail(job.jobId, error);
    const err = await within(failure, WAIT_MS, 'the failure');
    expect(err).toMatchObject({ code, retriable });
    expect(err.message).toContain(message);
    if (code === 'INTERNAL') expect(err.message).not.toContain('hunter2');
    expect(reports).toEqual([expect.objectContaining({ tenantId: job.carrier.tenantId, error: { code, message: err.message, retriable } })]);
    // The slot came back with the outcome.
    expect(workers.capacity().workers[0]?.inUse).toBe(0);
  });

  it('rejects a job past its timeoutMs with DEADLINE_EXCEEDED, and keeps its slot taken while it still runs', async () => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 2, execute: exec.execute }));
    const job = jobFor(tenant('slow'));
    // The attempt never ends: the deadline is the only way out, and it is what is under test.
    const err = await within(failureOf(workers.execute('standard', job, 100)), WAIT_MS, 'the deadline');
    expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED', retriable: true });
    expect(err.message).toContain(job.jobId);
    // The deadline counts from the send, so the attempt may reach the worker after it: either way
    // it runs, and its slot is not granted back until it ends.
    await exec.started(1);
    expect(exec.seen.map((s) => s.job.jobId)).toEqual([job.jobId]);
    expect(workers.capacity().workers[0]?.inUse).toBe(1);
  });

  /** Resolves with the signal's reason once it is aborted (at once if it already is). */
  function aborted(signal: AbortSignal | undefined, what: string): Promise<unknown> {
    if (!signal) throw new Error(`${what}: the attempt was given no signal`);
    const reason = new Promise<unknown>((resolve) => {
      if (signal.aborted) resolve(signal.reason);
      else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
    });
    return within(reason, WAIT_MS, what);
  }

  it("cancels an attempt at its timeoutMs: the attempt's signal is aborted with a retriable JOB_FAILED naming the deadline", async () => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 1, execute: exec.execute }));
    const job = jobFor(tenant('cancel'));
    const sent = Date.now();
    await within(failureOf(workers.execute('standard', job, 200)), WAIT_MS, 'the deadline');
    await exec.started(1);
    const { execution } = exec.seen[0]!;
    expect(execution.deadline).toBeGreaterThanOrEqual(sent + 200);
    const reason = await aborted(execution.signal, 'the attempt to be cancelled at its deadline');
    expect(reason).toBeInstanceOf(JobFailedError);
    expect((reason as JobFailedError).retriable).toBe(true);
    expect((reason as JobFailedError).message).toMatch(new RegExp(`job ${job.jobId} ran past its 200 ms deadline`));
  });

  it('rejects every job still out with WORKER_UNAVAILABLE when the worker goes away', async () => {
    const exec = new ControlledExecute();
    const capacities: number[] = [];
    const address = await startWorker({ capacity: 2, execute: exec.execute });
    const workers = await connect(address, (c) => capacities.push(c.total));
    const failures = [jobFor(tenant('gone')), jobFor(tenant('gone'))].map((job) => failureOf(workers.execute('standard', job, 30_000)));
    await exec.started(2);

    for (const server of servers.splice(0)) server.forceShutdown();
    for (const err of await within(Promise.all(failures), WAIT_MS, 'the jobs to fail')) {
      expect(err).toMatchObject({ code: 'WORKER_UNAVAILABLE', retriable: true });
    }
    expect(capacities).toEqual([2, 0]);
    expect(workers.capacity().total).toBe(0);
  });

  it.each([
    { name: 'upper-case letters', tenantId: 'Acme' },
    { name: 'an empty id', tenantId: '' },
    { name: 'a path', tenantId: '../acme' },
    { name: 'an id of 64 characters', tenantId: `a${'b'.repeat(63)}` },
  ])('refuses an assignment whose tenant id has $name, without running it, as not retriable', async ({ tenantId }) => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 1, execute: exec.execute }));
    const job = jobFor(tenant('ok'));
    const bad: WorkerJob = { ...job, carrier: { ...job.carrier, tenantId } };
    const err = await within(failureOf(workers.execute('standard', bad, 30_000)), WAIT_MS, 'the refusal');
    expect(err).toMatchObject({ code: 'TENANT_REQUIRED', retriable: false });
    expect(exec.seen).toHaveLength(0);
  });

  it('gives the slot of a refused assignment back: the next job on the stream runs', async () => {
    const exec = new ControlledExecute();
    const workers = await connect(await startWorker({ capacity: 1, execute: exec.execute }));
    const bad = jobFor(tenant('ok'));
    await within(failureOf(workers.execute('standard', { ...bad, carrier: { ...bad.carrier, tenantId: 'NOT A TENANT' } }, 30_000)), WAIT_MS, 'the refusal');

    const good = jobFor(tenant('next'));
    const result = workers.execute('standard', good, 30_000);
    result.catch(() => undefined);
    // Raced with the result, so that a refusal fails the test at once instead of waiting for a start.
    await within(Promise.race([exec.started(1), result]), WAIT_MS, 'the next job to start or be refused');
    exec.succeed(good.jobId);
    await expect(within(result, WAIT_MS, 'the next job')).resolves.toEqual({
      resultJson: JSON.stringify({ jobId: good.jobId }),
      applied: true,
      completed: false,
      runMs: expect.any(Number),
    });
  });

  describe('a client that ignores its credit (raw Worker/Run stream)', () => {
    /** Everything the worker sent on one stream, with a way to wait for what is expected. */
    class Received {
      readonly messages: RunResponse__Output[] = [];
      private waiters: Array<() => void> = [];
      constructor(stream: grpc.ClientDuplexStream<RunRequest, RunResponse__Output>) {
        stream.on('data', (message: RunResponse__Output) => {
          this.messages.push(message);
          for (const wake of this.waiters.splice(0)) wake();
        });
      }
      get outcomes(): JobOutcome__Output[] {
        return this.messages.flatMap((m) => m.outcomes);
      }
      get granted(): number {
        return this.messages.reduce((sum, m) => sum + m.grant, 0);
      }
      async until(what: string, condition: () => boolean): Promise<void> {
        const check = async (): Promise<void> => {
          while (!condition()) await new Promise<void>((resolve) => this.waiters.push(resolve));
        };
        await within(check(), WAIT_MS, what);
      }
    }

    const assignment = (tenantId: TenantId): JobAssignment & { jobId: string } => {
      const carrier: AssignmentCarrier = injectAssignment(tenantContext(tenantId, 'job'), ROOT_CONTEXT);
      return { jobId: randomUUID(), type: 'synthetic', paramsJson: '{}', attempt: 1, timeoutMs: 0, ...carrier };
    };

    it('cancels the attempts of a stream its caller cancels: nobody is left to hear their outcome', async () => {
      const exec = new ControlledExecute();
      const address = await startWorker({ capacity: 2, execute: exec.execute });
      const client = new proto.fairway.worker.v1.Worker(address, grpc.credentials.createInsecure());
      clients.push(client);
      const stream = client.run();
      stream.on('error', () => undefined);
      const received = new Received(stream);
      await received.until('the first message', () => received.messages.length >= 1);
      stream.write({ jobs: [assignment(tenant('closed')), assignment(tenant('closed'))] });
      await exec.started(2);
      expect(exec.seen.every((seen) => seen.execution.signal?.aborted === false)).toBe(true);

      stream.cancel();
      for (const seen of exec.seen) {
        const reason = await aborted(seen.execution.signal, 'the attempt to be cancelled with its stream');
        expect(reason).toBeInstanceOf(JobFailedError);
        expect((reason as JobFailedError).retriable).toBe(true);
        expect((reason as JobFailedError).message).toMatch(/stream of worker .* closed before the job finished/);
      }
    });

    it('refuses the jobs sent beyond the credit with a retriable JOB_FAILED, and runs the rest', async () => {
      const exec = new ControlledExecute();
      const address = await startWorker({ capacity: 1, workerId: 'w-raw', execute: exec.execute });
      const client = new proto.fairway.worker.v1.Worker(address, grpc.credentials.createInsecure());
      clients.push(client);
      const stream = client.run();
      const received = new Received(stream);
      await received.until('the first message', () => received.messages.length >= 1);
      expect(received.messages[0]).toMatchObject({ capacity: 1, grant: 1, workerId: 'w-raw', outcomes: [] });

      const granted = assignment(tenant('raw'));
      const excess = [assignment(tenant('raw')), assignment(tenant('raw'))];
      stream.write({ jobs: [granted, ...excess] });
      await received.until('the excess to be refused', () => received.outcomes.length >= 2);
      expect(exec.seen.map((s) => s.job.jobId)).toEqual([granted.jobId]);
      for (const job of excess) {
        const outcome = received.outcomes.find((o) => o.jobId === job.jobId);
        expect(outcome?.error).toMatchObject({ code: 'JOB_FAILED', retriable: true, message: expect.stringContaining('more than its credit') });
      }
      expect(received.granted).toBe(1);

      exec.succeed(granted.jobId, { ok: true });
      await received.until('the granted job to finish', () => received.outcomes.some((o) => o.jobId === granted.jobId) && received.granted >= 2);
      expect(received.outcomes.find((o) => o.jobId === granted.jobId)).toMatchObject({ resultJson: '{"ok":true}', applied: true, error: null });
      // The refusals took no credit: exactly the one freed slot is granted back.
      expect(received.granted).toBe(2);

      const ended = new Promise<void>((resolve) => stream.on('end', resolve));
      stream.on('error', () => undefined);
      stream.end();
      await within(ended, WAIT_MS, 'the worker to end the stream');
    });
  });
});
