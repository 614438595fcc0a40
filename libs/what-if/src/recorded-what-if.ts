import { ValidationError } from '@fairway/errors';
import type { TenantQuota, TierConfig } from '@fairway/fair-scheduler';
import { percentile } from '@fairway/fair-scheduler/simulation/metrics';
import type { RunSummary } from '@fairway/fair-scheduler/simulation/metrics';
import type { SimulationConfig, TraceJob } from '@fairway/fair-scheduler/simulation/trace';
import { createPolicy, runWhatIf } from '@fairway/fair-scheduler/simulation/what-if';
import { applyQuotaPatch, QUOTA_DEFAULTS, toCoreQuota, type QuotaLimits } from '@fairway/quota';
import type { QuotaChanges } from './quota-changes';
import type { RecordedTrace } from './trace-format';

/** A tenant's wait percentiles, ms. */
export interface WaitFigures {
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
}

/** One tenant's line of a what-if: its waits as recorded, as replayed, under the change, and ideal. */
export interface TenantWhatIf {
  readonly tenant: string;
  readonly jobs: number;
  /** Its quota as recorded, and as proposed (the same object when the change leaves it alone). */
  readonly quota: { readonly recorded: QuotaLimits; readonly proposed: QuotaLimits };
  /** What the jobs table says: started_at - accepted_at. */
  readonly recorded: WaitFigures;
  /** The fair core's simulator replaying the trace with the recorded quotas. */
  readonly simulated: WaitFigures;
  /** The same replay with the proposed quotas. */
  readonly proposed: WaitFigures;
  /** The fluid ideal (water-filled GPS) with the proposed quotas: what perfectly divisible capacity would give. */
  readonly ideal: WaitFigures;
  /** The fluid ideal with the recorded quotas. */
  readonly idealRecorded: WaitFigures;
}

/** The answer of a what-if over a recorded trace. */
export interface WhatIfReport {
  readonly from: string;
  readonly to: string;
  readonly jobs: number;
  /** Jobs that arrived in the window but had not finished when the trace was read (left out). */
  readonly unfinished: number;
  readonly tiers: Readonly<Record<string, TierConfig>>;
  readonly changes: QuotaChanges;
  readonly tenants: readonly TenantWhatIf[];
  /**
   * How far the replay with the recorded quotas lands from the recorded waits, worst over the
   * tenants with at least 20 jobs: the simulation leaves out dispatch latency (Kafka, the claim,
   * the gRPC hop), so read the proposed figures against `simulated`, not against `recorded`.
   */
  readonly fidelity: { readonly worstP50ErrorMs: number; readonly worstP99ErrorMs: number };
  /** Per tier, ms a slot is held per job beyond its measured cost ({@link estimateDispatchOverhead}), added to every job's cost in the replays. */
  readonly dispatchOverheadMs: Readonly<Record<string, number>>;
}

/** A tenant needs this many jobs before its p99 says something about the replay's fidelity. */
const FIDELITY_MIN_JOBS = 20;
/** Jobs started while a tier was backlogged before its dispatch overhead is estimated at all. */
const OVERHEAD_MIN_JOBS = 20;

/**
 * Per tier, the time a slot is held beyond the jobs' measured cost, ms per job, estimated from the
 * recorded trace itself. A real slot is taken when the scheduler decides, before the claim sets
 * `started_at`, and given back once the outcome is recorded, after `finished_at`; the trace's cost
 * (finished - started) misses both ends. While a tier's demand fills its slots and some of it waits
 * (demand: each tenant's running and waiting jobs, capped by its maxInFlight; a rate-limited
 * tenant's waiting jobs are not counted, its bucket may hold them), the work-conserving scheduler holds every slot, so over those
 * periods `slots x time - measured running time` is the overhead, shared by the jobs started in
 * them. A replay without it served ~20% faster than the recorded run in the integration test
 * (80-120 ms jobs). Lending between tiers is not modelled.
 */
export function estimateDispatchOverhead(
  jobs: readonly TraceJob[],
  starts: ReadonlyMap<string, number>,
  tiers: Readonly<Record<string, TierConfig>>,
  quotas: ReadonlyMap<string, QuotaLimits>,
): Record<string, number> {
  const names = Object.keys(tiers);
  const catchAll = names.length === 1 && names[0] === 'default';
  type Event = { at: number; tenant: string; waiting: number; running: number };
  const events = new Map<string, Event[]>();
  for (const job of jobs) {
    const tier = catchAll ? 'default' : job.jobClass;
    const start = starts.get(job.id) as number;
    const list = events.get(tier) ?? [];
    list.push(
      { at: job.t, tenant: job.tenant, waiting: 1, running: 0 },
      { at: start, tenant: job.tenant, waiting: -1, running: 1 },
      { at: start + job.cost, tenant: job.tenant, waiting: 0, running: -1 },
    );
    events.set(tier, list);
  }
  const overhead: Record<string, number> = {};
  for (const [tier, list] of events) {
    const slots = tiers[tier]?.slots;
    if (slots === undefined) continue;
    // At one instant: finishes, then arrivals, then starts (a start may take the slot a finish freed).
    list.sort((a, b) => a.at - b.at || a.running - b.running);
    const present = new Map<string, { waiting: number; running: number }>();
    const demandOf = (tenant: string, counts: { waiting: number; running: number }) => {
      const quota = quotas.get(tenant) ?? QUOTA_DEFAULTS;
      const cap = Math.min(quota.maxInFlight ?? Infinity, quota.maxInFlightByClass?.[tier] ?? Infinity);
      return Math.min(cap, counts.running + (quota.rate === null ? counts.waiting : 0));
    };
    let demand = 0;
    let running = 0;
    let saturatedMs = 0;
    let servedSlotMs = 0;
    let startedSaturated = 0;
    for (let i = 0; i < list.length; i++) {
      const event = list[i] as Event;
      if (event.running === 1 && demand >= slots && demand > running) startedSaturated += 1;
      const counts = present.get(event.tenant) ?? { waiting: 0, running: 0 };
      demand -= demandOf(event.tenant, counts);
      counts.waiting += event.waiting;
      counts.running += event.running;
      demand += demandOf(event.tenant, counts);
      present.set(event.tenant, counts);
      running += event.running;
      const next = list[i + 1];
      if (next !== undefined && demand >= slots && demand > running) {
        saturatedMs += next.at - event.at;
        servedSlotMs += Math.min(running, slots) * (next.at - event.at);
      }
    }
    overhead[tier] = startedSaturated >= OVERHEAD_MIN_JOBS ? Math.max(0, (slots * saturatedMs - servedSlotMs) / startedSaturated) : 0;
  }
  return overhead;
}

/** The core's quota (no nulls: the simulator's config leaves an unset limit out) of @fairway/quota limits. */
function coreQuota(limits: QuotaLimits): Partial<TenantQuota> {
  return Object.fromEntries(Object.entries(toCoreQuota(limits)).filter(([, value]) => value !== null && value !== undefined)) as Partial<TenantQuota>;
}

function figures(summary: RunSummary, tenant: string): WaitFigures {
  const line = summary.tenants[tenant];
  return { waitP50Ms: line?.waitP50Ms ?? 0, waitP99Ms: line?.waitP99Ms ?? 0 };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const rounded = (f: WaitFigures): WaitFigures => ({ waitP50Ms: round(f.waitP50Ms), waitP99Ms: round(f.waitP99Ms) });

/**
 * Replays `trace` through the fair core's simulator (libs/fair-scheduler, the code the scheduler
 * runs) twice, with the quotas it was recorded under and with `changes` applied to them, and puts
 * each tenant's recorded waits, both replays and the fluid ideal side by side.
 *
 * @param tiers capacity to simulate instead of the trace's own (e.g. with the lending the trace could not record).
 * @throws ValidationError when a change names a tenant without jobs in the trace, the trace records
 *   no capacity, or a job's class has no tier.
 */
export function whatIfOnRecordedTrace(
  trace: RecordedTrace,
  changes: QuotaChanges,
  tiers: Readonly<Record<string, TierConfig>> = trace.end.tiers,
): WhatIfReport {
  if (Object.keys(tiers).length === 0) {
    throw new ValidationError('the trace records no capacity (no worker was connected when it was written): give the tiers to simulate', [
      { path: 'tiers', message: 'empty' },
    ]);
  }
  const recordedWaits = new Map<string, number[]>();
  const recordedStarts = new Map<string, number>();
  const measured: TraceJob[] = trace.jobs.map((job) => {
    const waits = recordedWaits.get(job.tenant) ?? [];
    waits.push(job.wait);
    recordedWaits.set(job.tenant, waits);
    recordedStarts.set(job.id, job.t + job.wait);
    return { id: job.id, t: job.t, tenant: job.tenant, jobClass: job.class, cost: job.cost, estimate: job.cost, priority: job.priority };
  });
  const unknown = Object.keys(changes).filter((tenant) => !recordedWaits.has(tenant));
  if (unknown.length > 0) {
    throw new ValidationError(`no job of ${unknown.join(', ')} in the trace: a change to a tenant that sent nothing changes nothing`, [
      ...unknown.map((tenant) => ({ path: `changes.${tenant}`, message: 'no job in the trace' })),
    ]);
  }
  const tenants = [...recordedWaits.keys()].sort();
  const recordedQuota = new Map(tenants.map((tenant) => [tenant, trace.end.quotas[tenant] ?? QUOTA_DEFAULTS]));
  const proposedQuota = new Map(
    tenants.map((tenant) => {
      const patch = changes[tenant];
      const recorded = recordedQuota.get(tenant) as QuotaLimits;
      return [tenant, patch === undefined ? recorded : applyQuotaPatch(recorded, patch)];
    }),
  );
  const overhead = estimateDispatchOverhead(measured, recordedStarts, tiers, recordedQuota);
  const names = Object.keys(tiers);
  const catchAll = names.length === 1 && names[0] === 'default';
  const jobs = measured.map((job) => {
    const cost = job.cost + (overhead[catchAll ? 'default' : job.jobClass] ?? 0);
    return { ...job, cost, estimate: cost };
  });
  const config = (quotas: Map<string, QuotaLimits>): SimulationConfig => ({
    tiers,
    defaults: {},
    tenants: Object.fromEntries([...quotas].map(([tenant, limits]) => [tenant, coreQuota(limits)])),
  });
  const run = (simulation: SimulationConfig) => {
    try {
      return runWhatIf(jobs, simulation, createPolicy('fairway', simulation));
    } catch (error) {
      throw new ValidationError(`the trace cannot be simulated on tiers ${Object.keys(tiers).join(', ')}: ${(error as Error).message}`, [
        { path: 'tiers', message: (error as Error).message },
      ]);
    }
  };
  const before = run(config(recordedQuota));
  const after = Object.keys(changes).length === 0 ? before : run(config(proposedQuota));
  let worstP50 = 0;
  let worstP99 = 0;
  const lines = tenants.map((tenant): TenantWhatIf => {
    const waits = recordedWaits.get(tenant) as number[];
    const recorded = { waitP50Ms: percentile(waits, 0.5), waitP99Ms: percentile(waits, 0.99) };
    const simulated = figures(before.summary, tenant);
    if (waits.length >= FIDELITY_MIN_JOBS) {
      worstP50 = Math.max(worstP50, Math.abs(simulated.waitP50Ms - recorded.waitP50Ms));
      worstP99 = Math.max(worstP99, Math.abs(simulated.waitP99Ms - recorded.waitP99Ms));
    }
    return {
      tenant,
      jobs: waits.length,
      quota: { recorded: recordedQuota.get(tenant) as QuotaLimits, proposed: proposedQuota.get(tenant) as QuotaLimits },
      recorded: rounded(recorded),
      simulated: rounded(simulated),
      proposed: rounded(figures(after.summary, tenant)),
      ideal: rounded(figures(after.ideal, tenant)),
      idealRecorded: rounded(figures(before.ideal, tenant)),
    };
  });
  return {
    from: trace.end.from,
    to: trace.end.to,
    jobs: jobs.length,
    unfinished: trace.end.unfinished,
    tiers,
    changes,
    tenants: lines,
    fidelity: { worstP50ErrorMs: round(worstP50), worstP99ErrorMs: round(worstP99) },
    dispatchOverheadMs: Object.fromEntries(Object.entries(overhead).map(([tier, ms]) => [tier, round(ms)])),
  };
}
