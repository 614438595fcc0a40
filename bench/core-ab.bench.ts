/**
 * One fair-scheduling core, loaded from the sources named, through bench:core's cycle or the
 * tenant-churn-10k trace, timed in CPU ms. For an A/B against an older core (a worktree checked
 * out at its commit), alternate processes of the two under the bench lock:
 *
 *   node --expose-gc scripts/run-ts.cjs bench/core-ab.bench.ts --core <core src dir> [--scenario cycle|churn] [--rounds 9]
 *
 * - `cycle`: bench:core's cycle (one complete + one enqueue + one dispatchNext; 50,000 tenants
 *   registered, 5,000 active, 64 slots busy), 300,000 warm-up cycles, then rounds of 300,000.
 *   Unit: cycles per CPU second of this process.
 * - `churn`: bench:fairness's tenant-churn-10k trace (two backlogged tenants with 500 jobs of 50 ms,
 *   10,000 visitors with two jobs of 5 ms over 20 s, 8 slots) driven through one long-lived core by
 *   a minimal discrete-event loop (completions, then arrivals, then decisions; real cost =
 *   estimate), pass after pass, each pass starting after the last ended (ids and tenants reused).
 *   Two passes warm up, then one pass a round. Unit: CPU ms per pass (21,000 jobs).
 *
 * Why not both cores in one process, or a new core per pass: two cores in one process measured
 * each other (the round after a switch of core was up to 4x slower), and a core built per pass
 * had its optimised code thrown away when the last one was collected (V8 deoptimised it on "weak
 * objects"), so every other pass ran 3-4x slower. Prints one JSON line: the median and the rounds.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';

/** The slice of the core's API this benchmark drives (stable across the cores compared). */
interface Core {
  enqueue(job: { id: string; tenant: string; jobClass: string; estimate: number }, now: number): void;
  dispatchNext(now: number): { job: { id: string; estimate: number } } | undefined;
  complete(jobId: string, now: number, actualCost?: number): unknown;
  setTenantQuota(tenant: string, patch: { weight?: number }, now?: number): unknown;
  snapshot(): { runningJobs: number };
}
type CoreClass = new (options: { tiers: Record<string, { slots: number }> }) => Core;

function loadCore(dir: string): CoreClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(path.resolve(dir, 'index.ts')) as { FairScheduler: CoreClass };
  return module.FairScheduler;
}

function cpuMs(body: () => void): number {
  const start = process.cpuUsage();
  body();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function gc(): void {
  (global as unknown as { gc?: () => void }).gc?.();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** bench:core's cycle, the same numbers (see bench/core.bench.ts). */
class CycleDriver {
  private static readonly RING = 1 << 18;
  private readonly scheduler: Core;
  private readonly specs: Array<{ id: string; tenant: string; jobClass: string; estimate: number }>;
  private readonly running = new Array<string>(128).fill('');
  private head = 0;
  private tail = 0;
  private cycle = 0;
  private time = 0;

  constructor(Scheduler: CoreClass) {
    const active = 5_000;
    this.scheduler = new Scheduler({ tiers: { default: { slots: 64 } } });
    for (let i = 0; i < 50_000; i++) this.scheduler.setTenantQuota(`tenant-${i}`, { weight: 1 + (i % 3) }, 0);
    let seq = 0;
    for (let i = 0; i < active; i++) {
      for (let k = 0; k < 2; k++) this.scheduler.enqueue({ id: `j${seq++}`, tenant: `tenant-${i}`, jobClass: 'default', estimate: 1 + (seq % 7) }, 0);
    }
    this.specs = Array.from({ length: CycleDriver.RING }, (_, i) => ({
      id: `c${i}`,
      tenant: `tenant-${i % active}`,
      jobClass: 'default',
      estimate: 1 + (i % 7),
    }));
    for (let d = this.scheduler.dispatchNext(0); d; d = this.scheduler.dispatchNext(0)) {
      this.running[this.tail] = d.job.id;
      this.tail = (this.tail + 1) % 128;
    }
  }

  run(cycles: number): void {
    const { scheduler, specs, running } = this;
    let { head, tail, cycle, time } = this;
    for (let i = 0; i < cycles; i++, cycle++) {
      time += 0.01;
      scheduler.complete(running[head] as string, time);
      head = (head + 1) % 128;
      scheduler.enqueue(specs[cycle % CycleDriver.RING] as (typeof specs)[number], time);
      const d = scheduler.dispatchNext(time);
      if (d !== undefined) {
        running[tail] = d.job.id;
        tail = (tail + 1) % 128;
      }
    }
    this.head = head;
    this.tail = tail;
    this.cycle = cycle;
    this.time = time;
    if (scheduler.snapshot().runningJobs !== 64) throw new Error('every cycle should leave all slots busy');
  }
}

interface ChurnJob {
  readonly id: string;
  readonly t: number;
  readonly tenant: string;
  readonly cost: number;
}

/** tenant-churn-10k of bench/lib/fairness/scenarios.ts (mulberry32, seed 4), sorted by arrival. */
function churnTrace(): ChurnJob[] {
  let state = 4;
  const rnd = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const trace: ChurnJob[] = [];
  for (const tenant of ['bg0', 'bg1']) for (let k = 0; k < 500; k++) trace.push({ id: `${tenant}-${k}`, t: 0, tenant, cost: 50 });
  for (let i = 0; i < 10_000; i++) {
    const tenant = `visitor${i}`;
    const arrival = Math.floor(rnd() * 20_000);
    trace.push({ id: `${tenant}-0`, t: arrival, tenant, cost: 5 });
    trace.push({ id: `${tenant}-1`, t: arrival + Math.floor(rnd() * 50), tenant, cost: 5 });
  }
  return trace
    .map((job, index) => ({ job, index }))
    .sort((x, y) => x.job.t - y.job.t || x.index - y.index)
    .map(({ job }) => job);
}

/**
 * Runs the whole trace once more through `scheduler`, from `offset` ms on (after the previous pass
 * ended: every job is done, so ids and tenants are reused, as a long-lived scheduler sees them).
 * Returns the time the pass ended.
 */
function runChurn(scheduler: Core, trace: readonly ChurnJob[], offset: number): number {
  // Running jobs: at most 8, so a linear scan for the earliest finish is cheaper than a heap.
  const runId: string[] = [];
  const runFinish: number[] = [];
  let next = 0;
  let now = offset;
  for (;;) {
    let earliest = Infinity;
    for (const finish of runFinish) if (finish < earliest) earliest = finish;
    const arrivalAt = next < trace.length ? offset + (trace[next] as ChurnJob).t : Infinity;
    const at = Math.min(arrivalAt, earliest);
    if (at === Infinity) break;
    now = at;
    for (let i = 0; i < runFinish.length;) {
      if ((runFinish[i] as number) <= now) {
        scheduler.complete(runId[i] as string, now, undefined);
        runId[i] = runId[runId.length - 1] as string;
        runFinish[i] = runFinish[runFinish.length - 1] as number;
        runId.pop();
        runFinish.pop();
      } else {
        i++;
      }
    }
    for (; next < trace.length && offset + (trace[next] as ChurnJob).t <= now; next++) {
      const job = trace[next] as ChurnJob;
      scheduler.enqueue({ id: job.id, tenant: job.tenant, jobClass: 'default', estimate: job.cost }, now);
    }
    for (let d = scheduler.dispatchNext(now); d !== undefined; d = scheduler.dispatchNext(now)) {
      runId.push(d.job.id);
      runFinish.push(now + d.job.estimate);
    }
  }
  return now;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      core: { type: 'string' },
      scenario: { type: 'string', default: 'cycle' },
      rounds: { type: 'string', default: '7' },
    },
    strict: true,
  });
  const rounds = Number(values.rounds);
  if (values.core === undefined || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: core-ab.bench.ts --core <core src dir> [--scenario cycle|churn] [--rounds N >= 1]\n');
    process.exit(2);
  }
  if (values.scenario !== 'cycle' && values.scenario !== 'churn') {
    process.stderr.write(`--scenario must be cycle or churn (got '${values.scenario}')\n`);
    process.exit(2);
  }
  const core = loadCore(values.core);
  const samples: number[] = [];
  const impl = values.core;
  if (values.scenario === 'cycle') {
    const cycles = 300_000;
    const driver = new CycleDriver(core);
    driver.run(cycles);
    gc();
    for (let r = 0; r < rounds; r++) samples.push(cycles / (cpuMs(() => driver.run(cycles)) / 1000));
    console.log(
      JSON.stringify({ impl, scenario: 'cycle', unit: 'cycles per CPU second', median: Math.round(median(samples)), rounds: samples.map(Math.round) }),
    );
  } else {
    const trace = churnTrace();
    const scheduler = new core({ tiers: { default: { slots: 8 } } });
    let end = runChurn(scheduler, trace, 0);
    end = runChurn(scheduler, trace, end + 1000);
    for (let r = 0; r < rounds; r++) {
      gc();
      samples.push(cpuMs(() => (end = runChurn(scheduler, trace, end + 1000))));
    }
    const tenths = (ms: number): number => Math.round(ms * 10) / 10;
    console.log(
      JSON.stringify({
        impl,
        scenario: 'churn',
        unit: 'CPU ms per run of 21,000 jobs',
        median: tenths(median(samples)),
        rounds: samples.map(tenths),
        passEndMs: end,
      }),
    );
  }
}

main();
