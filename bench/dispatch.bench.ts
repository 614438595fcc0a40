/**
 * Dispatch benchmark: no-op jobs through Fairway's real scheduler and workers (processes, mutual
 * TLS, the tiers a new user configures, fairness and live quotas on) against graphile-worker, a
 * plain PostgreSQL job queue, on the same PostgreSQL server in the same run.
 *
 *   npm run -s bench:dispatch -- --json [--scenarios 100x200,10000x2] [--tenants 100 --jobs 20000] [--queue table|kafka]
 *                                        [--trickle 200] [--timeout 900] [--cpu-prof] [--workers 1,2]
 *
 * Scenarios are TENANTSxJOBS_PER_TENANT; the default runs 100 tenants x 200 jobs and 10,000 tenants
 * x 2 jobs (20,000 jobs each). `--tenants T --jobs N` runs that one scenario instead.
 *
 * Fairway, per scenario, on a fresh stack (its own database and topics):
 * - "Queued first, then run" (`--queue table`, the default): every job is made durable in the jobs
 *   table exactly as the scheduler's ingest does (JobStore.insertJobs, its role, its columns: a
 *   traceparent and the tenant baggage per job) while no scheduler runs: the state graphile-worker's
 *   jobs are in after addJobs, so both sides start from jobs queued in PostgreSQL. The scheduler then
 *   starts, rebuilds its queues from the table (a window per tenant) and dispatches. The ingest has
 *   its own benchmark (bench:ingest).
 *   `--queue kafka`: every command is instead published to the commands topic exactly as the edge
 *   publishes it (coalesced per tenant), and the scheduler's ingest drains the topic during the
 *   measured run, its work part of the run and of the scheduler's CPU.
 *   Either way the stack is started once in full first, to set quotas through the operators' admin
 *   API (which needs the scheduler), and the scheduler is stopped before jobs are queued.
 * - Tiers SCHEDULER_TIERS='interactive:2,standard:24>interactive,heavy:2', policy fair; five tenants
 *   get a live quota of maxInFlight 2 and five a weight of 3.
 * - Worker shapes (`--workers 1,2`, the default, runs both, each on a fresh stack): 1 = one worker
 *   process with the tier's 24 slots, the shape of the graphile-worker run (one process,
 *   concurrency 24); 2 = two workers of 16 slots each, as `npm run up` starts them. Each shape
 *   prints its own `fairway` line and ratio (`workers` says which).
 * - Throughput = jobs / (last finished_at - first started_at), from the jobs table, once every job
 *   is `succeeded`.
 * - CPU from /proc (utime + stime): the scheduler (minus its own start-up, measured on its first,
 *   idle start), both workers, the PostgreSQL server's processes serving the bench database (plus
 *   the server's shared background processes) and the Kafka broker, over the run.
 * - Idle latency (first scenario): `--trickle` single jobs, one at a time, each waited for, through
 *   the edge's POST /v1/jobs; accepted_at (stamped by the edge), started_at and finished_at from the
 *   jobs table.
 *
 * graphile-worker (bench/lib/graphile-worker-baseline.ts): the same number of no-op jobs added in
 * bulk first, then one runner with concurrency 24 started, in this process, on its own database.
 * Same throughput definition (first task start to last completion written back); CPU of this
 * process and of PostgreSQL; the same trickle (addJob -> task start -> completion written back).
 *
 * `--cpu-prof`: every Fairway service runs with `--cpu-prof` and writes a V8 CPU profile when it exits
 * into .fairway/cpu-prof/dispatch-<time>/ (open in Chrome DevTools, or `npx speedscope`).
 *
 * JSON lines go to stdout (one object per measurement, each naming `impl` and its units), progress
 * to stderr. Databases, topics and consumer groups it created are removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createPool, upsertTenant } from '@fairway/db';
import { commandMessage, createKafka, startCommandPublisher } from '@fairway/kafka';
import type { TenantId } from '@fairway/tenant-context';
import { JobStore, type NewJob } from '../services/scheduler/src/job-store';
import { GRAPHILE_WORKER_VERSION, runGraphileWorker, type GraphileWorkerResult } from './lib/graphile-worker-baseline';
import { postgresClassifier, ProcessCpuSampler, processCpuMs, type ProcessClassifier } from './lib/process-cpu';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
const { ensureInfra } = require('../scripts/lib/infra.cjs');
const { freePort, stackDefinition, startService, stopService } = require('../scripts/lib/services.cjs');
const { build } = require('../scripts/build.cjs');
const { devToken, operatorToken } = require('../scripts/lib/token.cjs');
/* eslint-enable @typescript-eslint/no-require-imports */

interface ServiceHandle {
  name: string;
  child: { pid: number };
  lines: string[];
}
interface ServiceDefinition {
  name: string;
}

const ROOT = path.resolve(__dirname, '..');
const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TIERS = 'interactive:2,standard:24>interactive,heavy:2';
const CONCURRENCY = 24;
const LOCAL_QUEUE_SIZE = 500;
/** The process groups whose CPU makes each side's total per job. */
const FAIRWAY_GROUPS = ['scheduler', 'workers', 'postgres'] as const;
const BASELINE_GROUPS = ['graphileWorker', 'postgres'] as const;
const progress = (msg: string) => process.stderr.write(`[dispatch] ${msg}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The processes both sides share: PostgreSQL (by database) and, for Fairway, the Kafka broker. */
function serverClassifier(databases: readonly string[]): ProcessClassifier {
  const postgres = postgresClassifier(databases);
  return (proc) => (proc.comm === 'java' ? (proc.title.includes('kafka.Kafka') ? 'kafkaBroker' : undefined) : postgres(proc));
}

interface Scenario {
  name: string;
  tenants: number;
  jobs: number;
}

interface Options {
  /** How jobs are queued before the run: in the jobs table (as graphile-worker's are), or in Kafka. */
  queue: 'table' | 'kafka';
  trickle: number;
  timeoutMs: number;
  cpuProfDir: string | undefined;
  /**
   * The worker shapes to run, each a Fairway run of its own: 1 = one worker process with all 24
   * slots (graphile-worker's shape: one process, concurrency 24), 2 = two workers of 16 slots (the
   * shape `npm run up` starts).
   */
  workers: Array<1 | 2>;
}

/** The quotas set through the admin API: a cap on five tenants, a weight on five others. */
function quotasFor(tenants: readonly TenantId[]): Array<{ tenant: TenantId; quota: Record<string, number> }> {
  return tenants
    .slice(0, 10)
    .map((tenant, i): { tenant: TenantId; quota: Record<string, number> } => ({ tenant, quota: i < 5 ? { maxInFlight: 2 } : { weight: 3 } }));
}

async function upsertTenants(pool: ReturnType<typeof createPool>, tenants: readonly TenantId[]): Promise<void> {
  for (let i = 0; i < tenants.length; i += 16) {
    await Promise.all(tenants.slice(i, i + 16).map((id) => upsertTenant(pool, { id })));
  }
}

/** Publishes the scenario's commands as the edge does, round-robin over the tenants. */
async function publishCommands(brokers: string, topic: string, scenario: Scenario, tenants: readonly TenantId[]): Promise<void> {
  const publisher = await startCommandPublisher({ brokers, clientId: 'bench-dispatch', topic });
  try {
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < scenario.jobs; i += 1) {
      const tenant = tenants[i % tenants.length] as TenantId;
      const traceHeaders = { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`, baggage: `tenant.id=${tenant}` };
      const body = { jobId: randomUUID(), type: 'synthetic', params: { ms: 0 }, priority: 0, acceptedAt: new Date().toISOString() };
      sends.push(publisher.publish(commandMessage(tenant, body, traceHeaders)));
      // Let group commit send while the rest are built, as the edge does under load.
      if (i % 2_000 === 1_999) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(sends);
  } finally {
    await publisher.close();
  }
}

/**
 * Makes every job durable in the jobs table as the scheduler's ingest does (JobStore.insertJobs, the
 * scheduler's role), before any scheduler runs: the state graphile-worker's jobs are in after addJobs.
 */
async function insertQueuedJobs(pool: ReturnType<typeof createPool>, scenario: Scenario, tenants: readonly TenantId[]): Promise<void> {
  const store = new JobStore(pool);
  for (let start = 0; start < scenario.jobs; start += 2_000) {
    const batch: NewJob[] = [];
    for (let i = start; i < Math.min(scenario.jobs, start + 2_000); i += 1) {
      const tenantIndex = i % tenants.length;
      const tenant = tenants[tenantIndex] as TenantId;
      batch.push({
        id: randomUUID(),
        tenantId: tenant,
        type: 'synthetic',
        jobClass: 'standard',
        params: { ms: 0 },
        priority: 0,
        traceHeaders: { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`, baggage: `tenant.id=${tenant}` },
        acceptedAt: new Date().toISOString(),
        // One scheduler replica owns every partition of the commands topic (6, as ensureTopics makes it).
        partition: tenantIndex % 6,
      });
    }
    await store.insertJobs(batch);
  }
}

/**
 * How the run's jobs travelled in batches, read from the jobs table: every job of one claim statement
 * has the same started_at (the statement's now()), every job of one effect transaction the same
 * finished_at. In flight = claimed and not finished, sampled at each claim.
 */
interface Waves {
  claims: number;
  jobsPerClaim: number;
  effectTransactions: number;
  jobsPerEffectTransaction: number;
  /** Median time between two claim statements (ms). */
  claimIntervalP50Ms: number;
  /** Jobs in flight (claimed, not yet finished) just after a claim: median and p10. */
  inFlightAtClaimP50: number;
  inFlightAtClaimP10: number;
}

interface FairwayResult {
  elapsedMs: number;
  jobs: number;
  runStartToFinishP50Ms: number;
  runStartToFinishP99Ms: number;
  waves: Waves;
  cpuMs: Record<string, number>;
  latency:
    | { acceptedToStartedMs: number[]; acceptedToQueuedMs: number[]; startToFinishMs: number[]; startToEffectMs: number[]; effectToFinishMs: number[] }
    | undefined;
  quotas: ReturnType<typeof quotasFor>;
}

async function runFairway(scenario: Scenario, options: Options, workerCount: 1 | 2, trickle: number): Promise<FairwayResult> {
  const hex = randomBytes(3).toString('hex');
  const database = `fairway_bench_dispatch_${hex}`;
  const infra = await ensureInfra({ database, topicPrefix: `bench-dispatch-${hex}`, log: (msg: string) => progress(`infra: ${msg}`) });
  const ports: Record<string, number> = {};
  for (const name of ['edge', 'admin', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2']) ports[name] = await freePort();
  const definitions: ServiceDefinition[] = stackDefinition(infra, {
    ports,
    env: { SCHEDULER_TIERS: TIERS },
    // Node refuses --cpu-prof in NODE_OPTIONS, so it goes on each service's command line.
    ...(options.cpuProfDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] } : {}),
  });
  const definition = (name: string) => definitions.find((d) => d.name === name) as ServiceDefinition & { env: Record<string, string> };
  const workerNames = workerCount === 1 ? ['worker-1'] : ['worker-1', 'worker-2'];
  if (workerCount === 1) {
    // One worker process with every slot of the standard tier, as graphile-worker's one process has its 24.
    definition('worker-1').env['WORKER_CONCURRENCY'] = String(CONCURRENCY);
    definition('scheduler').env['WORKER_ADDRESSES'] = `127.0.0.1:${ports['worker-1']}`;
  }
  const handles: ServiceHandle[] = [];
  const start = async (name: string) => {
    const handle: ServiceHandle = await startService(definition(name), { onLine: () => undefined });
    handles.push(handle);
    // Profiles are named by pid only: say whose is whose.
    if (options.cpuProfDir) progress(`${name} is pid ${handle.child.pid} (its profile: CPU.*.${handle.child.pid}.*.cpuprofile)`);
    return handle;
  };
  const owner = createPool({ connectionString: infra.urls.owner, applicationName: 'bench-dispatch', max: 4 });
  const reader = createPool({ connectionString: infra.urls.scheduler, applicationName: 'bench-dispatch-reader', max: 2 });
  try {
    const tenants = Array.from({ length: scenario.tenants }, (_, i) => `bench-${String(i).padStart(5, '0')}` as TenantId);
    progress(`${scenario.name}: ${tenants.length} tenants into the catalog`);
    await upsertTenants(owner, tenants);

    progress(`${scenario.name}: starting the stack (control plane, ${workerNames.length} worker(s), scheduler, edge)`);
    for (const name of ['control-plane', ...workerNames]) await start(name);
    const firstScheduler = await start('scheduler');
    // The scheduler's own start-up, on an idle start: subtracted from the measured run's scheduler.
    const schedulerStartupCpuMs = processCpuMs(firstScheduler.child.pid);
    await start('edge');

    const quotas = quotasFor(tenants);
    const operator = await operatorToken({ subject: 'bench-dispatch' });
    for (const { tenant, quota } of quotas) {
      const res = await fetch(`http://127.0.0.1:${ports['admin']}/admin/v1/tenants/${tenant}/quota`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify(quota),
      });
      if (res.status !== 200) throw new Error(`quota for ${tenant} answered ${res.status}: ${await res.text()}`);
    }
    await stopService(firstScheduler);
    handles.splice(handles.indexOf(firstScheduler), 1);

    if (options.queue === 'kafka') {
      progress(`${scenario.name}: publishing ${scenario.jobs} commands to ${infra.topics.commands} (no scheduler running)`);
      await publishCommands(infra.brokers, infra.topics.commands, scenario, tenants);
    } else {
      progress(`${scenario.name}: queueing ${scenario.jobs} jobs in the jobs table as the ingest does (no scheduler running)`);
      await insertQueuedJobs(reader, scenario, tenants);
    }

    const workers = handles.filter((h) => h.name.startsWith('worker-'));
    const sampler = new ProcessCpuSampler({
      comms: ['postgres', 'java'],
      classify: serverClassifier([database]),
      pids: Object.fromEntries(workers.map((w) => [w.child.pid, 'workers'])),
    });
    sampler.start();
    progress(`${scenario.name}: starting the scheduler; it ${options.queue === 'kafka' ? 'ingests and dispatches' : 'loads the queues and dispatches'}`);
    const scheduler = await start('scheduler');
    const deadline = Date.now() + options.timeoutMs;
    let lastReport = 0;
    for (;;) {
      const { rows } = await reader.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM jobs GROUP BY state');
      const counts = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
      const succeeded = counts['succeeded'] ?? 0;
      if (succeeded >= scenario.jobs) break;
      if ((counts['failed'] ?? 0) + (counts['dead'] ?? 0) > 0) throw new Error(`${scenario.name}: jobs did not succeed: ${JSON.stringify(counts)}`);
      if (Date.now() > deadline)
        throw new Error(
          `${scenario.name}: only ${succeeded} of ${scenario.jobs} jobs succeeded within ${options.timeoutMs / 1000} s: ${JSON.stringify(counts)}`,
        );
      if (Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        progress(`${scenario.name}: fairway ${JSON.stringify(counts)}`);
      }
      await sleep(1_000);
    }
    const cpuMs = { ...sampler.stop(), scheduler: processCpuMs(scheduler.child.pid) - schedulerStartupCpuMs };
    const { rows } = await reader.query<{ n: string; elapsed_ms: number; p50: number; p99: number }>(
      `SELECT count(*) AS n, extract(epoch FROM max(finished_at) - min(started_at)) * 1000 AS elapsed_ms,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000) AS p99
       FROM jobs WHERE state = 'succeeded'`,
    );
    const stats = rows[0];
    if (!stats) throw new Error('no jobs in the table');

    const waves = await measureWaves(reader);
    let latency: FairwayResult['latency'];
    if (trickle > 0)
      latency = await fairwayTrickle(scenario, trickle, `http://127.0.0.1:${ports['edge']}`, tenants[tenants.length - 1] as TenantId, reader, database);
    return {
      jobs: Number(stats.n),
      elapsedMs: Number(stats.elapsed_ms),
      runStartToFinishP50Ms: Number(stats.p50),
      runStartToFinishP99Ms: Number(stats.p99),
      waves,
      cpuMs,
      latency,
      quotas,
    };
  } finally {
    await Promise.all([...handles].reverse().map((h) => stopService(h)));
    await owner.end();
    await reader.end();
    await dropDatabase(database);
    await removeTopics(infra.brokers, infra.topics, infra.topicPrefix);
  }
}

async function measureWaves(reader: ReturnType<typeof createPool>): Promise<Waves> {
  const { rows } = await reader.query<Record<keyof Waves, string | number>>(
    `WITH claims AS (
       SELECT started_at AS at, count(*) AS n, lag(started_at) OVER (ORDER BY started_at) AS prev FROM jobs WHERE state = 'succeeded' GROUP BY started_at
     ), effects AS (
       SELECT finished_at, count(*) AS n FROM jobs WHERE state = 'succeeded' GROUP BY finished_at
     ), flight AS (
       SELECT (SELECT count(*) FROM jobs j WHERE j.started_at <= c.at AND j.finished_at > c.at) AS n FROM claims c
     )
     SELECT (SELECT count(*) FROM claims) AS claims,
            (SELECT avg(n) FROM claims) AS "jobsPerClaim",
            (SELECT count(*) FROM effects) AS "effectTransactions",
            (SELECT avg(n) FROM effects) AS "jobsPerEffectTransaction",
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - prev) * 1000) FROM claims WHERE prev IS NOT NULL) AS "claimIntervalP50Ms",
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) FROM flight) AS "inFlightAtClaimP50",
            (SELECT percentile_cont(0.1) WITHIN GROUP (ORDER BY n) FROM flight) AS "inFlightAtClaimP10"`,
  );
  const row = rows[0];
  if (!row) throw new Error('no jobs to measure waves on');
  return {
    claims: Number(row.claims),
    jobsPerClaim: round(Number(row.jobsPerClaim), 1),
    effectTransactions: Number(row.effectTransactions),
    jobsPerEffectTransaction: round(Number(row.jobsPerEffectTransaction), 1),
    claimIntervalP50Ms: round(Number(row.claimIntervalP50Ms), 2),
    inFlightAtClaimP50: Number(row.inFlightAtClaimP50),
    inFlightAtClaimP10: Number(row.inFlightAtClaimP10),
  };
}

/** Single jobs through the edge, one at a time on the idle system, each waited for. */
async function fairwayTrickle(scenario: Scenario, count: number, edge: string, tenant: TenantId, reader: ReturnType<typeof createPool>, database: string) {
  progress(`${scenario.name}: idle latency, ${count} single jobs through the edge one at a time`);
  const token = await devToken(tenant);
  const ids: string[] = [];
  await sleep(2_000);
  for (let i = 0; i < count; i += 1) {
    await sleep(20);
    const res = await fetch(`${edge}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'synthetic', params: { ms: 0 } }),
    });
    if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    ids.push(id);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await reader.query<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [id]);
      if (rows[0]?.state === 'succeeded') break;
      if (Date.now() > deadline) throw new Error(`trickle job ${id} not succeeded within 30 s (state ${rows[0]?.state ?? 'not ingested'})`);
      await sleep(5);
    }
  }
  const { rows } = await reader.query<{ id: string; waited: number; queued: number; ran: number }>(
    `SELECT id, extract(epoch FROM started_at - accepted_at) * 1000 AS waited, extract(epoch FROM queued_at - accepted_at) * 1000 AS queued,
            extract(epoch FROM finished_at - started_at) * 1000 AS ran
     FROM jobs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  // Where start -> finish goes: the worker's effect transaction began at job_effects.created_at. Read
  // as the server's superuser (the bench's roles may not see tenant effects, by design).
  const admin = new Client({ connectionString: databaseUrlOf(ADMIN, database) });
  await admin.connect();
  const effects = new Map<string, number>();
  try {
    const result = await admin.query<{ job_id: string; at: number }>(
      'SELECT job_id, extract(epoch FROM created_at) * 1000 AS at FROM job_effects WHERE job_id = ANY($1::uuid[])',
      [ids],
    );
    for (const row of result.rows) effects.set(row.job_id, Number(row.at));
  } finally {
    await admin.end();
  }
  const { rows: times } = await reader.query<{ id: string; started: number; finished: number }>(
    'SELECT id, extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM finished_at) * 1000 AS finished FROM jobs WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const startToEffectMs: number[] = [];
  const effectToFinishMs: number[] = [];
  for (const t of times) {
    const at = effects.get(t.id);
    if (at === undefined) continue;
    startToEffectMs.push(at - Number(t.started));
    effectToFinishMs.push(Number(t.finished) - at);
  }
  return {
    acceptedToStartedMs: rows.map((r) => Number(r.waited)),
    acceptedToQueuedMs: rows.map((r) => Number(r.queued)),
    startToFinishMs: rows.map((r) => Number(r.ran)),
    startToEffectMs,
    effectToFinishMs,
  };
}

/** `url` with its database replaced by `database`. */
function databaseUrlOf(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function dropDatabase(database: string): Promise<void> {
  const server = new Client({ connectionString: ADMIN });
  await server.connect();
  try {
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await server.end();
  }
}

async function removeTopics(brokers: string, topics: Record<string, string>, prefix: string): Promise<void> {
  const admin = createKafka({ brokers, clientId: 'bench-dispatch-cleanup' }).admin();
  await admin.connect();
  try {
    await admin.deleteGroups([`${prefix}.scheduler`]).catch(() => undefined);
    await admin.deleteTopics({ topics: Object.values(topics) });
  } catch (err) {
    progress(`could not delete the topics ${Object.values(topics).join(', ')}: ${(err as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

/** CPU ms per job of each group, with the totals the report compares. */
function perJob(cpuMs: Record<string, number>, jobs: number, groups: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const group of groups) out[group] = round((cpuMs[group] ?? 0) / jobs, 3);
  out['total'] = round(groups.reduce((sum, g) => sum + (cpuMs[g] ?? 0), 0) / jobs, 3);
  return out;
}

function parseScenarios(values: { scenarios?: string | undefined; tenants?: string | undefined; jobs?: string | undefined }): Scenario[] {
  if (values.tenants !== undefined || values.jobs !== undefined) {
    const tenants = Number(values.tenants ?? 100);
    const jobs = Number(values.jobs ?? 20_000);
    if (!Number.isInteger(tenants) || tenants < 1 || !Number.isInteger(jobs) || jobs < tenants)
      throw new Error(`--tenants must be >= 1 and --jobs >= --tenants (got ${tenants}, ${jobs})`);
    return [{ name: `${tenants}x${round(jobs / tenants, 1)}`, tenants, jobs }];
  }
  return (values.scenarios ?? '100x200,10000x2').split(',').map((spec) => {
    const match = /^(\d+)x(\d+)$/.exec(spec.trim());
    if (!match) throw new Error(`--scenarios takes TENANTSxJOBS_PER_TENANT, comma-separated (got '${spec}')`);
    const tenants = Number(match[1]);
    return { name: spec.trim(), tenants, jobs: tenants * Number(match[2]) };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      scenarios: { type: 'string' },
      tenants: { type: 'string' },
      jobs: { type: 'string' },
      trickle: { type: 'string' },
      timeout: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      queue: { type: 'string' },
      workers: { type: 'string' },
    },
  });
  const workerShapes = (values.workers ?? '1,2').split(',').map((w) => Number(w.trim()));
  if (workerShapes.length === 0 || workerShapes.some((w) => w !== 1 && w !== 2)) throw new Error(`--workers takes 1, 2 or 1,2 (got '${values.workers}')`);
  if (values.queue !== undefined && values.queue !== 'table' && values.queue !== 'kafka')
    throw new Error(`--queue takes 'table' or 'kafka' (got '${values.queue}')`);
  const scenarios = parseScenarios(values);
  const options: Options = {
    queue: values.queue === 'kafka' ? 'kafka' : 'table',
    trickle: Number(values.trickle ?? 200),
    timeoutMs: Number(values.timeout ?? 900) * 1000,
    workers: workerShapes as Array<1 | 2>,
    cpuProfDir: values['cpu-prof'] ? path.join(ROOT, '.fairway', 'cpu-prof', `dispatch-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined,
  };
  if (options.cpuProfDir) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    progress(`CPU profiles of the Fairway services go to ${options.cpuProfDir}`);
  }
  const print = (object: object) => console.log(values.json ? JSON.stringify(object) : JSON.stringify(object, null, 2));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  print({
    benchmark: 'dispatch',
    commit: git('rev-parse', 'HEAD'),
    // Uncommitted changes under the measured code: the figures are then of the work tree, not the commit.
    workTreeChanges: git('status', '--porcelain', '--', 'services', 'libs', 'protos').split('\n').filter(Boolean).length,
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => round(l)),
    scenarios: scenarios.map((s) => s.name),
    fairway: {
      tiers: TIERS,
      workers: options.workers,
      policy: 'fair',
      queuedIn:
        options.queue === 'kafka' ? 'the commands topic (ingest inside the measured run)' : "the jobs table (as graphile-worker's jobs table after addJobs)",
    },
    graphileWorker: { version: GRAPHILE_WORKER_VERSION, concurrency: CONCURRENCY },
  });
  build({ quiet: true });

  for (const [index, scenario] of scenarios.entries()) {
    const trickle = index === 0 ? options.trickle : 0;
    const fairwayRuns: Array<{ workers: 1 | 2; result: FairwayResult; jobsPerSec: number }> = [];
    for (const [shapeIndex, workers] of options.workers.entries()) {
      progress(
        `${scenario.name}: fairway with ${workers} worker(s), ${scenario.jobs} jobs for ${scenario.tenants} tenants (load average ${loadavg()[0]?.toFixed(2)})`,
      );
      const fairwayLoad = round(loadavg()[0] ?? 0);
      const fairway = await runFairway(scenario, options, workers, shapeIndex === 0 ? trickle : 0);
      const fairwayJobsPerSec = round(fairway.jobs / (fairway.elapsedMs / 1000), 1);
      fairwayRuns.push({ workers, result: fairway, jobsPerSec: fairwayJobsPerSec });
      print({
        impl: 'fairway',
        scenario: scenario.name,
        workers,
        tenants: scenario.tenants,
        jobs: fairway.jobs,
        jobsPerSec: fairwayJobsPerSec,
        elapsedMs: Math.round(fairway.elapsedMs),
        loadAverageAtStart: fairwayLoad,
        runStartToFinishP50Ms: round(fairway.runStartToFinishP50Ms),
        runStartToFinishP99Ms: round(fairway.runStartToFinishP99Ms),
        waves: fairway.waves,
        cpuMsPerJob: { ...perJob(fairway.cpuMs, fairway.jobs, FAIRWAY_GROUPS), kafkaBroker: round((fairway.cpuMs['kafkaBroker'] ?? 0) / fairway.jobs, 3) },
        cpuMs: Object.fromEntries(Object.entries(fairway.cpuMs).map(([k, v]) => [k, Math.round(v)])),
        quotas: fairway.quotas.map(({ tenant, quota }) => ({ tenant, ...quota })),
        units: {
          jobsPerSec: 'jobs / (last finished_at - first started_at), jobs table',
          cpuMsPerJob:
            'CPU ms (utime+stime from /proc) per job; total = scheduler + workers + postgres; kafkaBroker apart (shared broker); postgresOther = other databases on the server, not counted',
        },
        queued:
          options.queue === 'kafka'
            ? 'commands published to the commands topic as the edge does, before the scheduler started; ingest runs during the measured run'
            : 'jobs inserted into the jobs table as the ingest does, before the scheduler started; the scheduler loads them',
      });
    }

    progress(`${scenario.name}: graphile-worker ${GRAPHILE_WORKER_VERSION}, ${scenario.jobs} jobs, concurrency ${CONCURRENCY}`);
    const baselineLoad = round(loadavg()[0] ?? 0);
    const baseline: GraphileWorkerResult = await runGraphileWorker({
      adminUrl: ADMIN,
      jobs: scenario.jobs,
      concurrency: CONCURRENCY,
      localQueueSize: LOCAL_QUEUE_SIZE,
      trickle,
      timeoutMs: options.timeoutMs,
      postgres: (database) => postgresClassifier([database]),
      progress,
    });
    const baselineJobsPerSec = round(baseline.jobs / (baseline.elapsedMs / 1000), 1);
    print({
      impl: 'graphile-worker',
      version: GRAPHILE_WORKER_VERSION,
      scenario: scenario.name,
      jobs: baseline.jobs,
      jobsPerSec: baselineJobsPerSec,
      elapsedMs: Math.round(baseline.elapsedMs),
      loadAverageAtStart: baselineLoad,
      runnerStartToDoneMs: Math.round(baseline.runnerStartToDoneMs),
      cpuMsPerJob: perJob(baseline.cpuMs, baseline.jobs, BASELINE_GROUPS),
      cpuMs: Object.fromEntries(Object.entries(baseline.cpuMs).map(([k, v]) => [k, Math.round(v)])),
      concurrency: CONCURRENCY,
      batching: baseline.batching,
      units: {
        jobsPerSec: 'jobs / (first task start - last job:complete, i.e. completion written back)',
        cpuMsPerJob: 'CPU ms per job; graphileWorker = this process (process.cpuUsage); total = graphileWorker + postgres',
      },
    });
    for (const run of fairwayRuns) {
      print({
        ratio: 'fairway / graphile-worker',
        scenario: scenario.name,
        workers: run.workers,
        jobsPerSec: round(run.jobsPerSec / baselineJobsPerSec, 3),
        target: scenario.tenants >= 10_000 ? 0.8 : 1.0,
        cpuMsPerJob: round(
          (perJob(run.result.cpuMs, run.result.jobs, FAIRWAY_GROUPS)['total'] ?? 0) / (perJob(baseline.cpuMs, baseline.jobs, BASELINE_GROUPS)['total'] ?? 0),
          2,
        ),
      });
    }

    const fairway = fairwayRuns[0]?.result;
    if (fairway?.latency && baseline.latency) {
      const latency = (impl: string, accepted: number[], ran: number[], extra: object) => ({
        impl,
        measure: 'idle latency',
        jobs: ran.length,
        acceptedToStartedP50Ms: round(percentile(accepted, 0.5)),
        acceptedToStartedP99Ms: round(percentile(accepted, 0.99)),
        startToFinishP50Ms: round(percentile(ran, 0.5)),
        startToFinishP99Ms: round(percentile(ran, 0.99)),
        ...extra,
      });
      print(
        latency('fairway', fairway.latency.acceptedToStartedMs, fairway.latency.startToFinishMs, {
          acceptedToQueuedP50Ms: round(percentile(fairway.latency.acceptedToQueuedMs, 0.5)),
          acceptedToQueuedP99Ms: round(percentile(fairway.latency.acceptedToQueuedMs, 0.99)),
          startToEffectP50Ms: round(percentile(fairway.latency.startToEffectMs, 0.5)),
          effectToFinishP50Ms: round(percentile(fairway.latency.effectToFinishMs, 0.5)),
          units:
            "ms; accepted_at (edge), queued_at (the ingest's insert), started_at (claim), finished_at (completion) from the jobs table, the worker effect transaction from job_effects.created_at; submitted through POST /v1/jobs, one at a time",
        }),
      );
      print(
        latency('graphile-worker', baseline.latency.addToStartMs, baseline.latency.startToFinishMs, {
          units: 'ms, one process: addJob called -> task function entered -> job:complete (completion written back)',
        }),
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[dispatch] failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
