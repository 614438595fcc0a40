/**
 * The fault suite: under steady load through the edges, injects each fault and reports, per fault,
 * the commands acknowledged (202), lost (202 but never succeeded), effects duplicated, 5xx answers
 * other than 503, and the longest time without a 202 (unavailability).
 *
 *   npm run -s chaos -- --json [--faults broker-kill,worker-kill] [--rate 40] [--job-ms 20]
 *                      [--tenants 8] [--settle 3] [--broker-outage 8] [--redis-outage 10] [--hang 10]
 *
 * It starts a stack of its own: a Kafka broker (scripts/kafka.cjs with FAIRWAY_KAFKA_HOME), a
 * PostgreSQL cluster (initdb from /usr/lib/postgresql/15/bin) and a redis-server, each on free ports
 * under a temporary state directory, and the services through scripts/lib/services.cjs: a control
 * plane, two workers, two scheduler replicas, two edge replicas. The machine's shared broker,
 * PostgreSQL and Redis are never touched. The first window has no fault: the baseline
 * (`"impl": "no-fault"`). Progress goes to stderr, JSON to stdout, every service's log lines to
 * .fairway/chaos/last-run.log.
 */
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { createPool, upsertTenant } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import { accountWindow, type FaultWindow, type JobOutcome } from './chaos/accounting';
import { ChaosStack } from './chaos/chaos-stack';
import { FAULTS, type Fault, type FaultContext } from './chaos/faults';
import { PrivateInfra, until } from './chaos/private-infra';
import { SteadyLoad } from './chaos/steady-load';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack scripts are plain CommonJS shared with `npm run up` */
const { build } = require('../scripts/build.cjs');
const { devToken } = require('../scripts/lib/token.cjs');
/* eslint-enable @typescript-eslint/no-require-imports */

const progress = (msg: string) => process.stderr.write(`[chaos] ${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Timings of the stack under test: an attempt's deadline and lease short enough that a hung worker's
 * jobs are retried within seconds (the crash-safety end-to-end test uses the same order), health
 * checks every 500 ms, and plan limits far above the offered load so no 429 blurs the picture.
 */
const STACK_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
  JOB_TIMEOUT: '5s',
  LEASE_MARGIN: '1s',
  MAINTENANCE_INTERVAL: '500ms',
  RETRY_BASE_DELAY: '100ms',
  RETRY_MAX_DELAY: '1s',
  HEALTH_CHECK_INTERVAL: '500ms',
  EDGE_PLAN_LIMITS: JSON.stringify({ standard: { rate: 100_000, burst: 100_000, maxInFlight: 10_000 } }),
};

async function outcomesOf(pool: Pool, ids: string[]): Promise<Map<string, JobOutcome>> {
  const { rows } = await pool.query<{ id: string; state: string; effects: string; attempts: number; last_error: string | null }>(
    `SELECT j.id, j.state, j.attempts, j.last_error, (SELECT count(*) FROM job_effects e WHERE e.job_id = j.id) AS effects
     FROM jobs j WHERE j.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { state: r.state, effects: Number(r.effects), attempts: r.attempts, lastError: r.last_error }]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      faults: { type: 'string' },
      rate: { type: 'string' },
      'job-ms': { type: 'string' },
      tenants: { type: 'string' },
      settle: { type: 'string' },
      'broker-outage': { type: 'string' },
      'redis-outage': { type: 'string' },
      hang: { type: 'string' },
    },
  });
  const names = values.faults ? values.faults.split(',').map((f) => f.trim()) : FAULTS.map((f) => f.name);
  const unknown = names.filter((n) => !FAULTS.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`unknown fault(s) ${unknown.join(', ')}; known: ${FAULTS.map((f) => f.name).join(', ')}`);
  const faults = names.map((n) => FAULTS.find((f) => f.name === n) as Fault);
  const settings = {
    commandsPerSec: Number(values.rate ?? 40),
    jobMs: Number(values['job-ms'] ?? 20),
    tenants: Number(values.tenants ?? 8),
    settleSec: Number(values.settle ?? 3),
    brokerOutageSec: Number(values['broker-outage'] ?? 8),
    redisOutageSec: Number(values['redis-outage'] ?? 10),
    hangSec: Number(values.hang ?? 10),
  };

  // FAIRWAY_DIST names a build of its own to run (scripts/lib/services.cjs); else dist/, built if stale.
  if (!process.env['FAIRWAY_DIST']) build({ quiet: true });
  const privateInfra = await PrivateInfra.create('chaos', progress);
  const { serviceLog, kafka, postgres, redis } = privateInfra;
  let stack: ChaosStack | undefined;
  let load: SteadyLoad | undefined;
  const pools: Pool[] = [];
  let cleaned = false;
  const cleanUp = async () => {
    if (cleaned) return;
    cleaned = true;
    progress('stopping the stack and the private broker, PostgreSQL and Redis');
    await load?.stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await privateInfra.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }

  try {
    const infra = await privateInfra.start(progress);
    progress('starting control plane, 2 workers, 2 scheduler replicas, 2 edges');
    stack = await ChaosStack.start({ ...infra, redisUrl: redis.url }, STACK_ENV, (line, name) => serviceLog.write(`[${name}] ${line}\n`));

    const owner = createPool({ connectionString: infra.urls.owner, applicationName: 'fairway-chaos', max: 2 });
    const reader = new Pool({ connectionString: privateInfra.databaseUrl, max: 2 });
    // A restart of PostgreSQL breaks idle connections: the pool drops them and dials anew.
    reader.on('error', () => undefined);
    owner.on('error', () => undefined);
    pools.push(owner, reader);
    const tokens = new Map<string, string>();
    for (let i = 0; i < settings.tenants; i += 1) {
      const id = `chaos-${i}` as TenantId;
      await upsertTenant(owner, { id });
      tokens.set(id, await devToken(id));
    }

    load = new SteadyLoad({ edgeUrls: stack.edgeUrls, tokens, commandsPerSec: settings.commandsPerSec, jobMs: settings.jobMs });
    load.start();
    const loadRef = load;
    const ackAfter = (t: number) => loadRef.answers.some((a) => a.status === 202 && a.at > t);
    await until('the first 202', () => ackAfter(0), 30_000);

    const ctx: FaultContext = { stack, kafka, postgres, redis, ...settings, progress };
    const windows: Array<FaultWindow & { details: Record<string, number>; fault: string }> = [];
    // The baseline: the same load and the same window length, no fault.
    {
      const startedAt = Date.now();
      await sleep(settings.settleSec * 2_000);
      const now = Date.now();
      windows.push({ fault: 'none', startedAt, injectedAt: now, undoneAt: now, endedAt: Date.now(), details: {} });
    }
    for (const fault of faults) {
      progress(`${fault.name}: ${fault.description}`);
      const startedAt = Date.now();
      await sleep(settings.settleSec * 1_000);
      const injectedAt = Date.now();
      const details = await fault.inject(ctx);
      const undoneAt = Date.now();
      // A fault the stack does not recover from within 2 minutes is reported, not fatal: the
      // remaining faults still run (and say whether the stack came back).
      const recovered = await until(`a 202 after ${fault.name} was undone`, () => ackAfter(undoneAt), 120_000).then(
        () => 1,
        () => 0,
      );
      if (!recovered) progress(`${fault.name}: no 202 within 120 s after the undo`);
      await sleep(settings.settleSec * 1_000);
      windows.push({ fault: fault.name, startedAt, injectedAt, undoneAt, endedAt: Date.now(), details: { ...details, recovered } });
    }
    await load.stop();

    const acked = load.commands.filter((c) => c.jobId !== undefined).map((c) => c.jobId!);
    progress(`${acked.length} commands acknowledged; waiting until every one of them finished`);
    let outcomes = await outcomesOf(reader, acked);
    const deadline = Date.now() + 180_000;
    while (acked.some((id) => outcomes.get(id)?.state !== 'succeeded') && Date.now() < deadline) {
      await sleep(500);
      outcomes = await outcomesOf(reader, acked);
    }

    const results = windows.map((w) => {
      const fault = FAULTS.find((f) => f.name === w.fault);
      const account = accountWindow(w, load!.commands, load!.answers, outcomes);
      const target = fault?.targetUnavailabilityMs?.(w.details, ctx);
      return {
        fault: w.fault,
        impl: w.fault === 'none' ? 'no-fault' : 'fairway',
        ...(fault ? { description: fault.description } : {}),
        windowMs: w.endedAt - w.startedAt,
        faultMs: w.undoneAt - w.injectedAt,
        ...account,
        ...(target === undefined
          ? {}
          : { targetUnavailabilityMs: target, met: account.lost === 0 && account.duplicatedEffects === 0 && account.unavailabilityMs <= target }),
        details: w.details,
      };
    });
    const result = {
      benchmark: 'chaos',
      commandsOffered: load.commands.length,
      ticksNotOffered: load.notOffered,
      settings: { ...settings, stack: { edges: 2, schedulerReplicas: 2, workers: 2 }, env: STACK_ENV },
      results,
      lostTotal: results.reduce((s, r) => s + r.lost, 0),
      duplicatedEffectsTotal: results.reduce((s, r) => s + r.duplicatedEffects, 0),
      met: results.every((r) => r.lost === 0 && r.duplicatedEffects === 0 && r.non503ServerErrors === 0 && (!('met' in r) || r.met)),
    };
    console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[chaos] failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
