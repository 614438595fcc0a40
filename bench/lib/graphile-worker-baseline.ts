/**
 * The baseline of bench:dispatch: graphile-worker (a plain PostgreSQL job queue) running no-op
 * tasks in this process, on its own throw-away database of the same PostgreSQL server.
 *
 * Batching: graphile-worker 0.16.x has no batching options; the local queue
 * (`preset.worker.localQueue.size`) and batched completions (`completeJobBatchDelay`,
 * `failJobBatchDelay`) arrived in 0.17.0 (its RELEASE_NOTES). They are passed when the installed
 * version has them, so moving the devDependency to 0.17 turns them on without touching this file.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'pg';
import { Logger, run, runMigrations, type Runner, type RunnerOptions, type WorkerEvents } from 'graphile-worker';
import { ProcessCpuSampler, type ProcessClassifier } from './process-cpu';

/** The installed graphile-worker's version, e.g. "0.16.6". */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json is not an ES module export
export const GRAPHILE_WORKER_VERSION: string = require('graphile-worker/package.json').version;

/** True when the installed version has the local queue and batched completions (0.17 and later). */
export function graphileWorkerHasBatching(version = GRAPHILE_WORKER_VERSION): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 0 || minor >= 17;
}

/** Options of one baseline run. */
export interface GraphileWorkerRunOptions {
  adminUrl: string;
  jobs: number;
  concurrency: number;
  /** `preset.worker.localQueue.size` where the version has it. */
  localQueueSize: number;
  trickle: number;
  timeoutMs: number;
  /** Classifies the PostgreSQL processes given the baseline's database name. */
  postgres: (database: string) => ProcessClassifier;
  progress: (msg: string) => void;
}

/** What one baseline run measured. */
export interface GraphileWorkerResult {
  jobs: number;
  /** First task start to last completion written back (the `job:complete` event). */
  elapsedMs: number;
  /** run() called to the last completion: includes the runner's start-up. */
  runnerStartToDoneMs: number;
  cpuMs: Record<string, number>;
  latency: { startToFinishMs: number[]; addToStartMs: number[] } | undefined;
  batching: string;
}

const silent = new Logger(() => () => undefined);

/** Adds `count` no-op jobs through add_jobs (graphile-worker's bulk API), `chunk` per statement. */
async function addJobsInBulk(pool: Pool, count: number, chunk = 5_000): Promise<void> {
  for (let done = 0; done < count; done += chunk) {
    const specs = JSON.stringify(Array.from({ length: Math.min(chunk, count - done) }, () => ({ identifier: 'noop', payload: {} })));
    await pool.query('SELECT count(*) FROM graphile_worker.add_jobs(array(SELECT json_populate_recordset(NULL::graphile_worker.job_spec, $1::json)))', [specs]);
  }
}

function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`graphile-worker: ${what} not reached within ${timeoutMs / 1000} s`));
      setTimeout(check, 20);
    };
    check();
  });
}

/**
 * Queues `jobs` no-op jobs, then starts a runner with `concurrency` and measures until every one
 * completed; then, on the idle runner, `trickle` single jobs one at a time (add -> task start ->
 * completion written). CPU: this process (`process.cpuUsage`) and the PostgreSQL processes.
 */
export async function runGraphileWorker(options: GraphileWorkerRunOptions): Promise<GraphileWorkerResult> {
  const database = `fairway_bench_gw_${randomBytes(3).toString('hex')}`;
  const server = new Client({ connectionString: options.adminUrl });
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  const url = new URL(options.adminUrl);
  url.pathname = `/${database}`;
  const connectionString = url.toString();
  const pool = new Pool({ connectionString, max: 2 });
  pool.on('error', () => undefined);
  // The runner's pool is ours, so that it is ended (and its errors heard) before the database goes.
  // One connection per concurrent job and one to spare, so no task waits for a connection.
  const runnerPool = new Pool({ connectionString, max: options.concurrency + 1 });
  runnerPool.on('error', () => undefined);
  let runner: Runner | undefined;
  try {
    await runMigrations({ connectionString, logger: silent });
    options.progress(`graphile-worker ${GRAPHILE_WORKER_VERSION}: adding ${options.jobs} jobs`);
    await addJobsInBulk(pool, options.jobs);

    let firstStart = Number.NaN;
    let lastComplete = Number.NaN;
    let completed = 0;
    const trickleStarts = new Map<string, number>();
    const trickleDone = new Map<string, number>();
    const batching = graphileWorkerHasBatching();
    // The 0.17 options are not in 0.16's types: the preset is built untyped, on purpose.
    const preset = batching
      ? ({ worker: { localQueue: { size: options.localQueueSize }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } as RunnerOptions['preset'])
      : undefined;
    // Listeners are attached before run(): the first jobs may complete before it resolves.
    const events = new EventEmitter() as WorkerEvents;
    events.on('job:start', () => {
      if (Number.isNaN(firstStart)) firstStart = performance.now();
    });
    events.on('job:complete', ({ job }) => {
      if (job.task_identifier === 'probe') {
        trickleDone.set(job.id, performance.now());
        return;
      }
      completed += 1;
      lastComplete = performance.now();
    });
    const runnerOptions: RunnerOptions = {
      pgPool: runnerPool,
      events,
      concurrency: options.concurrency,
      noHandleSignals: true,
      logger: silent,
      taskList: {
        noop: async () => undefined,
        probe: async (_payload, helpers) => {
          trickleStarts.set(helpers.job.id, performance.now());
        },
      },
      ...(preset ? { preset } : {}),
    };

    const sampler = new ProcessCpuSampler({ comms: ['postgres'], classify: options.postgres(database) });
    sampler.start();
    const cpuBefore = process.cpuUsage();
    const t0 = performance.now();
    runner = await run(runnerOptions);
    const progressTimer = setInterval(() => options.progress(`graphile-worker: ${completed}/${options.jobs} done`), 5_000);
    try {
      await waitFor(() => completed >= options.jobs, options.timeoutMs, `${options.jobs} completions`);
    } finally {
      clearInterval(progressTimer);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = { ...sampler.stop(), graphileWorker: (cpu.user + cpu.system) / 1000 };
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM graphile_worker.jobs');
    if (Number(rows[0]?.n) !== 0) throw new Error(`graphile-worker: ${rows[0]?.n} jobs still in the table after ${completed} completions`);

    let latency: GraphileWorkerResult['latency'];
    if (options.trickle > 0) {
      options.progress(`graphile-worker: idle latency, ${options.trickle} single jobs one at a time`);
      const startToFinishMs: number[] = [];
      const addToStartMs: number[] = [];
      for (let i = 0; i < options.trickle; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        // Added at the moment addJob is called: like Fairway's accepted_at, stamped before the write.
        const added = performance.now();
        const job = await runner.addJob('probe', { i });
        try {
          await waitFor(() => trickleDone.has(job.id), 30_000, `completion of probe job ${job.id}`);
        } catch (err) {
          const left = await pool.query('SELECT id, task_identifier, locked_by, attempts, last_error FROM graphile_worker.jobs');
          throw new Error(`${(err as Error).message}; started: ${trickleStarts.has(job.id)}; jobs in the table: ${JSON.stringify(left.rows)}`);
        }
        const started = trickleStarts.get(job.id) ?? Number.NaN;
        addToStartMs.push(started - added);
        startToFinishMs.push((trickleDone.get(job.id) ?? Number.NaN) - started);
      }
      latency = { startToFinishMs, addToStartMs };
    }
    return {
      jobs: options.jobs,
      elapsedMs: lastComplete - firstStart,
      runnerStartToDoneMs: lastComplete - t0,
      cpuMs,
      latency,
      batching: batching
        ? `localQueue.size ${options.localQueueSize}, completeJobBatchDelay 0, failJobBatchDelay 0`
        : `none: ${GRAPHILE_WORKER_VERSION} has no local queue or batched completions (0.17+); jobs added with add_jobs`,
    };
  } finally {
    await runner?.stop().catch(() => undefined);
    await runnerPool.end().catch(() => undefined);
    await pool.end();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  }
}
