/**
 * Core throughput and memory benchmark.
 *
 *   npm run -s bench:core -- --json
 *
 * fairway: cycles/s, a cycle = one enqueue + one dispatchNext + one complete, with 50,000 tenants
 * registered and 5,000 active (each keeps 2 jobs queued; 64 slots stay busy); bytes per idle
 * tenant from heapUsed deltas after global.gc. bottleneck-group (baseline, same run): real
 * Bottleneck.Group throughput in jobs/s with 5,000 keys, each job an immediately resolving promise.
 * Re-spawns itself with --expose-gc when global.gc is missing.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import Bottleneck from 'bottleneck';
import { FairScheduler } from '../libs/fair-scheduler/src';

const REGISTERED = 50_000;
const ACTIVE = 5_000;
const SLOTS = 64;

function gc(): void {
  (global as unknown as { gc: () => void }).gc();
}

function fairwayCycles(): number {
  const scheduler = new FairScheduler({ tiers: { default: { slots: SLOTS } } });
  for (let i = 0; i < REGISTERED; i++) scheduler.setTenantQuota(`tenant-${i}`, { weight: 1 + (i % 3) }, 0);
  let seq = 0;
  let now = 0;
  const running: string[] = [];
  for (let i = 0; i < ACTIVE; i++) {
    for (let k = 0; k < 2; k++) scheduler.enqueue({ id: `j${seq++}`, tenant: `tenant-${i}`, jobClass: 'default', estimate: 1 + (seq % 7) }, now);
  }
  for (let d = scheduler.dispatchNext(now); d; d = scheduler.dispatchNext(now)) running.push(d.job.id);
  const ids: string[] = [];
  const cycles = 1_000_000;
  for (let i = 0; i < cycles + 1; i++) ids.push(`c${i}`);
  const tenantOf = (i: number): string => `tenant-${i % ACTIVE}`;
  const tenants = Array.from({ length: ACTIVE }, (_, i) => tenantOf(i));
  let head = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    now += 0.01;
    scheduler.complete(running[head] as string, now);
    running[head] = '';
    head++;
    scheduler.enqueue({ id: ids[i] as string, tenant: tenants[i % ACTIVE] as string, jobClass: 'default', estimate: 1 + (i % 7) }, now);
    const d = scheduler.dispatchNext(now);
    if (d !== undefined) running.push(d.job.id);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return cycles / seconds;
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

async function bottleneckJobsPerSec(): Promise<number> {
  const group = new Bottleneck.Group({ maxConcurrent: 2 });
  const jobs = 20_000;
  const started = process.hrtime.bigint();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < jobs; i++) pending.push(group.key(`tenant-${i % ACTIVE}`).schedule(() => Promise.resolve(i)));
  await Promise.all(pending);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await group.disconnect?.();
  return jobs / seconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } }, strict: true });
  const results = [
    { impl: 'fairway', cyclesPerSec: Math.round(fairwayCycles()), bytesPerIdleTenant: Math.round(bytesPerIdleTenant()), registeredTenants: REGISTERED, activeTenants: ACTIVE },
    { impl: 'bottleneck-group', cyclesPerSec: Math.round(await bottleneckJobsPerSec()), unit: 'jobs/s (schedule -> resolve), 5,000 keys, maxConcurrent 2' },
  ];
  if (values.json === true) console.log(JSON.stringify({ results }, null, 2));
  else console.table(results);
  process.exit(0);
}

if (typeof (global as { gc?: unknown }).gc !== 'function') {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, require.resolve('../scripts/run-ts.cjs'), __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
} else {
  void main();
}
