/**
 * Core throughput and memory benchmark.
 *
 *   npm run -s bench:core -- --json
 *
 * fairway: cycles/s, a cycle = one complete + one enqueue + one dispatchNext, with 50,000 tenants
 * registered and 5,000 active (2 jobs queued each at the start; 64 slots stay busy). Reported: the
 * median of 7 timed rounds of 300,000 cycles after 300,000 warm-up cycles and a GC. Bytes per idle
 * tenant from heapUsed deltas after global.gc. bottleneck-group (baseline, same run): real
 * Bottleneck.Group throughput in jobs/s with 5,000 keys, each job an immediately resolving promise,
 * median of 3 rounds after a warm-up round. Progress goes to stderr, JSON to stdout.
 * Re-spawns itself with --expose-gc when global.gc is missing.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import Bottleneck from 'bottleneck';
import { FairScheduler } from '@fairway/fair-scheduler';
import type { JobSpec } from '@fairway/fair-scheduler';

const REGISTERED = 50_000;
const ACTIVE = 5_000;
const SLOTS = 64;

function gc(): void {
  (global as unknown as { gc: () => void }).gc();
}

/** Cycles not timed first, so that the timed rounds measure optimised code, not the JIT warming up. */
const WARMUP_CYCLES = 300_000;
const ROUNDS = 7;
const CYCLES_PER_ROUND = 300_000;
/**
 * Job specs are built before timing and reused round-robin: the harness allocates nothing per
 * cycle. 2^18 is far above the number of jobs alive at once (10,064) and above the longest wait
 * (about 35,000 cycles for a weight-1 tenant), so an id is never reused while its job is live
 * (a reuse would throw DUPLICATE_JOB, not pass silently).
 */
const SPEC_RING = 1 << 18;
/** Running job ids in dispatch order; never more than SLOTS at once. */
const RUNNING_RING = 128;

/**
 * Steady-state cycles per second: the median of ROUNDS timed rounds after a warm-up, with a full
 * GC before the first timed round so that setup garbage is not collected on the clock.
 */
function fairwayCycles(): Throughput {
  const scheduler = new FairScheduler({ tiers: { default: { slots: SLOTS } } });
  for (let i = 0; i < REGISTERED; i++) scheduler.setTenantQuota(`tenant-${i}`, { weight: 1 + (i % 3) }, 0);
  const tenants = Array.from({ length: ACTIVE }, (_, i) => `tenant-${i}`);
  const now = 0;
  let seq = 0;
  for (let i = 0; i < ACTIVE; i++) {
    for (let k = 0; k < 2; k++) scheduler.enqueue({ id: `j${seq++}`, tenant: tenants[i] as string, jobClass: 'default', estimate: 1 + (seq % 7) }, now);
  }
  const specs: JobSpec[] = Array.from({ length: SPEC_RING }, (_, i) => ({
    id: `c${i}`,
    tenant: tenants[i % ACTIVE] as string,
    jobClass: 'default',
    estimate: 1 + (i % 7),
  }));
  const driver: Driver = { scheduler, specs, running: new Array<string>(RUNNING_RING).fill(''), head: 0, tail: 0, cycle: 0, time: now };
  for (let d = scheduler.dispatchNext(now); d; d = scheduler.dispatchNext(now)) {
    driver.running[driver.tail] = d.job.id;
    driver.tail = (driver.tail + 1) % RUNNING_RING;
  }
  const run = (cycles: number): void => runCycles(driver, cycles);
  run(WARMUP_CYCLES);
  gc();
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(timed(CYCLES_PER_ROUND, () => run(CYCLES_PER_ROUND)));
  if (scheduler.snapshot().runningJobs !== SLOTS) throw new Error('every cycle should leave all slots busy');
  return throughput(rounds);
}

/** One timed round: operations per wall-clock second and per second of this process's CPU time. */
interface Round {
  readonly perSec: number;
  readonly perCpuSec: number;
}

/** Medians over rounds, plus the wall-clock rate of every round (to show the noise). */
interface Throughput {
  readonly median: number;
  readonly medianPerCpuSec: number;
  readonly rounds: number[];
}

function timed(operations: number, body: () => void): Round {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  body();
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { perSec: operations / wallSeconds, perCpuSec: operations / ((used.user + used.system) / 1e6) };
}

function throughput(rounds: readonly Round[]): Throughput {
  return {
    median: median(rounds.map((round) => round.perSec)),
    medianPerCpuSec: median(rounds.map((round) => round.perCpuSec)),
    rounds: rounds.map((round) => round.perSec),
  };
}

/** State of the cycle loop between rounds. */
interface Driver {
  readonly scheduler: FairScheduler;
  readonly specs: readonly JobSpec[];
  /** Ring of running job ids, oldest at `head`. */
  readonly running: string[];
  head: number;
  tail: number;
  cycle: number;
  time: number;
}

/**
 * `cycles` cycles: complete the oldest running job, enqueue the next spec, dispatch one job. The
 * loop works on locals copied from `driver` (written back at the end): variables captured by a
 * closure live in a heap context, and every write of a double there allocates a heap number, which
 * would be harness garbage in each cycle.
 */
function runCycles(driver: Driver, cycles: number): void {
  const { scheduler, specs, running } = driver;
  let { head, tail, cycle, time } = driver;
  for (let i = 0; i < cycles; i++, cycle++) {
    time += 0.01;
    scheduler.complete(running[head] as string, time);
    head = (head + 1) % RUNNING_RING;
    scheduler.enqueue(specs[cycle % SPEC_RING] as JobSpec, time);
    const d = scheduler.dispatchNext(time);
    if (d !== undefined) {
      running[tail] = d.job.id;
      tail = (tail + 1) % RUNNING_RING;
    }
  }
  Object.assign(driver, { head, tail, cycle, time });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function bytesPerIdleTenant(): number {
  const scheduler = new FairScheduler({ tiers: { default: { slots: SLOTS } } });
  const count = 100_000;
  // Tenant ids are created before the baseline: they belong to the caller, not to the scheduler.
  const names = Array.from({ length: count }, (_, i) => `tenant-${i}`);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    const tenant = names[i] as string;
    scheduler.enqueue({ id: 'x', tenant, jobClass: 'default', estimate: 5 }, i);
    scheduler.dispatchNext(i);
    scheduler.complete('x', i + 1, 5);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (scheduler.snapshot().activeTenants !== 0) throw new Error('tenants should be idle');
  return (after - before) / count;
}

const BOTTLENECK_JOBS_PER_ROUND = 20_000;
const BOTTLENECK_ROUNDS = 3;

/**
 * Baseline, measured as fairly as Fairway: a warm-up round first (it creates the 5,000 per-key
 * limiters and lets the JIT settle), a GC, then the median of timed rounds. Each job is one shared
 * task function returning a resolved promise, so the harness adds no closure per job.
 */
async function bottleneckJobsPerSec(): Promise<Throughput> {
  const group = new Bottleneck.Group({ maxConcurrent: 2 });
  const keys = Array.from({ length: ACTIVE }, (_, i) => `tenant-${i}`);
  const task = (): Promise<number> => Promise.resolve(0);
  const round = async (): Promise<Round> => {
    const pending = new Array<Promise<number>>(BOTTLENECK_JOBS_PER_ROUND);
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < BOTTLENECK_JOBS_PER_ROUND; i++) pending[i] = group.key(keys[i % ACTIVE] as string).schedule(task);
    await Promise.all(pending);
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    return { perSec: BOTTLENECK_JOBS_PER_ROUND / wallSeconds, perCpuSec: BOTTLENECK_JOBS_PER_ROUND / ((used.user + used.system) / 1e6) };
  };
  await round();
  gc();
  const rounds: Round[] = [];
  for (let r = 0; r < BOTTLENECK_ROUNDS; r++) rounds.push(await round());
  await group.disconnect?.();
  return throughput(rounds);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } }, strict: true });
  process.stderr.write('bench:core: fairway cycles...\n');
  const fairway = fairwayCycles();
  process.stderr.write('bench:core: bytes per idle tenant...\n');
  const idleBytes = bytesPerIdleTenant();
  process.stderr.write('bench:core: bottleneck-group...\n');
  const bottleneck = await bottleneckJobsPerSec();
  const results = [
    {
      impl: 'fairway',
      cyclesPerSec: Math.round(fairway.median),
      cyclesPerCpuSec: Math.round(fairway.medianPerCpuSec),
      roundsCyclesPerSec: fairway.rounds.map(Math.round),
      timesBottleneck: Math.round((fairway.median / bottleneck.median) * 10) / 10,
      bytesPerIdleTenant: Math.round(idleBytes),
      registeredTenants: REGISTERED,
      activeTenants: ACTIVE,
    },
    {
      impl: 'bottleneck-group',
      cyclesPerSec: Math.round(bottleneck.median),
      cyclesPerCpuSec: Math.round(bottleneck.medianPerCpuSec),
      roundsCyclesPerSec: bottleneck.rounds.map(Math.round),
      unit: 'jobs/s (schedule -> resolve), 5,000 keys, maxConcurrent 2',
    },
  ];
  if (values.json === true) console.log(JSON.stringify({ results }, null, 2));
  else console.table(results);
  process.exit(0);
}

if (typeof (global as { gc?: unknown }).gc !== 'function') {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, require.resolve('../scripts/run-ts.cjs'), __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
} else {
  void main();
}
