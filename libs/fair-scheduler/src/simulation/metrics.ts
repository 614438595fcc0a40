import type { ScheduledJob } from './discrete-event';
import type { FluidJob } from './fluid-ideal';
import type { SimulationConfig } from './trace';
import { quotaOf } from './trace';
import { waterFill } from './water-fill';

/** Nearest-rank percentile (`p` in 0..1) of `values`; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Per-tenant figures of one run. Times in ms; service in slot-ms. */
export interface TenantSummary {
  readonly jobs: number;
  readonly waitP50Ms: number;
  readonly waitP99Ms: number;
  readonly sojournP50Ms: number;
  readonly sojournP99Ms: number;
  /** Slot-ms of service received while its tier was contended (demand > slots). */
  readonly contendedServiceSlotMs: number;
  /** Slot-ms it was entitled to over the same periods (weighted water-filling of the backlog). */
  readonly entitledSlotMs: number;
  /** service / entitlement; 1 is exactly its weighted share. */
  readonly shareRatio: number;
}

/** Summary of one run of one policy (or of the fluid ideal). */
export interface RunSummary {
  readonly policy: string;
  readonly jobs: number;
  readonly makespanMs: number;
  readonly tenants: Record<string, TenantSummary>;
  /**
   * Jain's index over tenants' share ratios in contended periods: 1 means every tenant got exactly
   * its weighted entitlement.
   */
  readonly jainIndex: number;
  /** Largest |shareRatio - 1| among tenants with at least 1% of the contended entitlement, in %. */
  readonly maxShareErrorPct: number;
}

/** Jain's fairness index of `values`: (sum x)^2 / (n * sum x^2); 1 for an empty list. */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) return 1;
  let sum = 0;
  let squares = 0;
  for (const value of values) {
    sum += value;
    squares += value * value;
  }
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

interface Presence {
  present: number;
  running: number;
}

/**
 * Integrates, per tenant, the service received and the service it was entitled to while its tier
 * was contended, by sweeping the schedule's arrival/start/finish events.
 */
function contendedShares(schedule: readonly ScheduledJob[], config: SimulationConfig): Map<string, { service: number; entitled: number }> {
  const tierNames = Object.keys(config.tiers);
  const catchAll = tierNames.length === 1 && tierNames[0] === 'default';
  type Event = { at: number; tier: string; tenant: string; present: number; running: number };
  const events: Event[] = [];
  for (const job of schedule) {
    const tier = catchAll ? 'default' : job.jobClass;
    events.push({ at: job.arrival, tier, tenant: job.tenant, present: 1, running: 0 });
    events.push({ at: job.start, tier, tenant: job.tenant, present: 0, running: 1 });
    events.push({ at: job.finish, tier, tenant: job.tenant, present: -1, running: -1 });
  }
  events.sort((a, b) => a.at - b.at);
  const byTier = new Map<string, Map<string, Presence>>();
  for (const name of tierNames) byTier.set(name, new Map());
  const totals = new Map<string, { service: number; entitled: number }>();
  const caps = new Map<string, { weight: number; cap: number }>();
  const quota = (tenant: string): { weight: number; cap: number } => {
    let known = caps.get(tenant);
    if (known === undefined) {
      const q = quotaOf(config, tenant);
      known = { weight: q.weight ?? 1, cap: q.maxInFlight ?? Infinity };
      caps.set(tenant, known);
    }
    return known;
  };
  const demands: number[] = [];
  const weights: number[] = [];
  const rates: number[] = [];
  let index = 0;
  while (index < events.length) {
    const at = (events[index] as Event).at;
    for (; index < events.length && (events[index] as Event).at === at; index++) {
      const event = events[index] as Event;
      const tenants = byTier.get(event.tier);
      if (tenants === undefined) continue;
      const presence = tenants.get(event.tenant) ?? { present: 0, running: 0 };
      presence.present += event.present;
      presence.running += event.running;
      if (presence.present === 0) tenants.delete(event.tenant);
      else tenants.set(event.tenant, presence);
    }
    if (index >= events.length) break;
    const dt = (events[index] as Event).at - at;
    for (const [tierName, tenants] of byTier) {
      if (tenants.size < 2) continue;
      const slots = config.tiers[tierName]?.slots ?? 0;
      const names = [...tenants.keys()];
      demands.length = 0;
      weights.length = 0;
      let demand = 0;
      for (const name of names) {
        const q = quota(name);
        const d = Math.min((tenants.get(name) as Presence).present, q.cap);
        demands.push(d);
        weights.push(q.weight);
        demand += d;
      }
      if (demand <= slots) continue;
      waterFill(demands, weights, slots, rates);
      names.forEach((name, i) => {
        const total = totals.get(name) ?? { service: 0, entitled: 0 };
        total.service += (tenants.get(name) as Presence).running * dt;
        total.entitled += (rates[i] as number) * dt;
        totals.set(name, total);
      });
    }
  }
  return totals;
}

function summarize(
  policy: string,
  jobs: ReadonlyArray<{ tenant: string; arrival: number; start: number; finish: number }>,
  shares: Map<string, { service: number; entitled: number }> | undefined,
): RunSummary {
  const perTenant = new Map<string, { waits: number[]; sojourns: number[] }>();
  let makespan = 0;
  for (const job of jobs) {
    const entry = perTenant.get(job.tenant) ?? { waits: [], sojourns: [] };
    entry.waits.push(job.start - job.arrival);
    entry.sojourns.push(job.finish - job.arrival);
    perTenant.set(job.tenant, entry);
    if (job.finish > makespan) makespan = job.finish;
  }
  let totalEntitled = 0;
  for (const share of shares?.values() ?? []) totalEntitled += share.entitled;
  const tenants: Record<string, TenantSummary> = {};
  const ratios: number[] = [];
  let maxError = 0;
  for (const [tenant, entry] of [...perTenant].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const share = shares === undefined ? undefined : (shares.get(tenant) ?? { service: 0, entitled: 0 });
    // The fluid ideal receives exactly its entitlement by construction.
    const ratio = share === undefined ? 1 : share.entitled > 0 ? share.service / share.entitled : 1;
    if (share === undefined || share.entitled > 0) ratios.push(ratio);
    if (share !== undefined && share.entitled >= 0.01 * totalEntitled) maxError = Math.max(maxError, Math.abs(ratio - 1));
    tenants[tenant] = {
      jobs: entry.waits.length,
      waitP50Ms: percentile(entry.waits, 0.5),
      waitP99Ms: percentile(entry.waits, 0.99),
      sojournP50Ms: percentile(entry.sojourns, 0.5),
      sojournP99Ms: percentile(entry.sojourns, 0.99),
      contendedServiceSlotMs: share?.service ?? NaN,
      entitledSlotMs: share?.entitled ?? NaN,
      shareRatio: ratio,
    };
  }
  return {
    policy,
    jobs: jobs.length,
    makespanMs: makespan,
    tenants,
    jainIndex: jainIndex(ratios),
    maxShareErrorPct: maxError * 100,
  };
}

/** Figures of a simulated schedule, shares measured against weighted water-filling. */
export function summarizeSchedule(policy: string, schedule: readonly ScheduledJob[], config: SimulationConfig): RunSummary {
  return summarize(policy, schedule, contendedShares(schedule, config));
}

/** Figures of the fluid ideal (its share ratios are 1 by construction). */
export function summarizeIdeal(ideal: ReadonlyMap<string, FluidJob>): RunSummary {
  return summarize('ideal', [...ideal.values()], undefined);
}

/** How many jobs finish later than their fluid-ideal finish plus `slackMs`, and the worst excess. */
export function checkFinishBound(
  schedule: readonly ScheduledJob[],
  ideal: ReadonlyMap<string, FluidJob>,
  slackMs: number,
): { jobsOverBound: number; worstExcessMs: number } {
  let over = 0;
  let worst = -Infinity;
  for (const job of schedule) {
    const fluid = ideal.get(job.id);
    if (fluid === undefined) continue;
    const excess = job.finish - (fluid.finish + slackMs);
    if (excess > 1e-6 * Math.max(1, fluid.finish)) over++;
    if (excess > worst) worst = excess;
  }
  return { jobsOverBound: over, worstExcessMs: worst === -Infinity ? 0 : worst };
}

/**
 * How many jobs finish later than the multi-slot bound `fluid finish + slackMs + (1 - 1/S) * cost`,
 * where S is the slot count of the tier the job ran in and `slackMs` the largest job cost. With one
 * slot it is the classic PGPS bound; with S slots the extra `(1 - 1/S) * cost` is what any
 * work-conserving, non-preemptive scheduler can be forced to pay (docs/scheduling.md derives it).
 */
export function checkMultiSlotFinishBound(
  schedule: readonly ScheduledJob[],
  ideal: ReadonlyMap<string, FluidJob>,
  slackMs: number,
  config: SimulationConfig,
): { jobsOverBound: number; worstExcessMs: number } {
  let over = 0;
  let worst = -Infinity;
  for (const job of schedule) {
    const fluid = ideal.get(job.id);
    if (fluid === undefined) continue;
    const slots = config.tiers[job.tier]?.slots ?? 1;
    const excess = job.finish - (fluid.finish + slackMs + (1 - 1 / slots) * job.cost);
    if (excess > 1e-6 * Math.max(1, fluid.finish)) over++;
    if (excess > worst) worst = excess;
  }
  return { jobsOverBound: over, worstExcessMs: worst === -Infinity ? 0 : worst };
}

/**
 * `L_max` of each tier: the largest cost among the jobs that can hold one of its slots, i.e. its own
 * class and the classes it lends to (a borrowed slot is held until that job completes).
 */
export function tierLmax(jobs: ReadonlyArray<{ jobClass: string; cost: number }>, config: SimulationConfig): Map<string, number> {
  const names = Object.keys(config.tiers);
  const catchAll = names.length === 1 && names[0] === 'default';
  const byClass = new Map<string, number>();
  for (const job of jobs) {
    const tier = catchAll ? 'default' : job.jobClass;
    byClass.set(tier, Math.max(byClass.get(tier) ?? 0, job.cost));
  }
  const lmax = new Map<string, number>();
  for (const name of names) {
    let largest = byClass.get(name) ?? 0;
    for (const borrower of config.tiers[name]?.lendTo ?? []) largest = Math.max(largest, byClass.get(borrower) ?? 0);
    lmax.set(name, largest);
  }
  return lmax;
}

/** What a bound check reports: the jobs over it, and the worst excess in ms and in L_max. */
type BoundCheck = { jobsOverBound: number; worstExcessMs: number; worstExcessLmax: number; over: ScheduledJob[] };

/** Counts the jobs past their bound (`excess` > 0, up to rounding) and keeps the worst excess. */
function boundTally(): { add(job: ScheduledJob, excess: number, slack: number, scale: number): void; result(): BoundCheck } {
  const over: ScheduledJob[] = [];
  let worst = -Infinity;
  let worstRelative = -Infinity;
  return {
    add(job, excess, slack, scale) {
      if (excess > 1e-6 * Math.max(1, scale)) over.push(job);
      if (excess > worst) worst = excess;
      if (slack > 0 && excess / slack > worstRelative) worstRelative = excess / slack;
    },
    result: () => ({
      jobsOverBound: over.length,
      worstExcessMs: worst === -Infinity ? 0 : worst,
      worstExcessLmax: worstRelative === -Infinity ? 0 : worstRelative,
      over,
    }),
  };
}

/**
 * The plain bound with `L_max` per tier: how many jobs finish later than their fluid (water-filled
 * GPS) finish + `L_max` of their own tier ({@link tierLmax}), the worst excess, and the worst
 * excess as a fraction of that `L_max`.
 */
export function checkTierFinishBound(schedule: readonly ScheduledJob[], ideal: ReadonlyMap<string, FluidJob>, config: SimulationConfig): BoundCheck {
  const lmax = tierLmax(schedule, config);
  const catchAll = Object.keys(config.tiers).length === 1 && config.tiers['default'] !== undefined;
  const tally = boundTally();
  for (const job of schedule) {
    const fluid = ideal.get(job.id);
    if (fluid === undefined) continue;
    const slack = lmax.get(catchAll ? 'default' : job.jobClass) ?? 0;
    tally.add(job, job.finish - (fluid.finish + slack), slack, fluid.finish);
  }
  return tally.result();
}

/**
 * The bound under misestimates (docs/scheduling.md, "Estimates"): a job J finishes by its finish
 * in the fluid ideal **of the estimates** (`estimatedIdeal`: the same trace with each cost replaced
 * by its estimate) + `L_max` of J's tier (real costs: a slot is held for a job's real cost) + `U_J`,
 * the underestimation (`cost - estimate` where positive) of the jobs that started on a slot J could
 * hold (its tier's, or a tier that lends to its class) no later than J. With exact estimates
 * `U_J = 0` and it is the plain bound on the real costs. Counts the jobs over it among those
 * `counted` selects: the jobs of tenants whose own estimates are exact (a tenant that underestimates
 * pays for it with its later jobs, which the reference pushes back by the difference over its
 * share: `U / (w_i / W)`, not `U`).
 */
export function checkMisestimateBound(
  schedule: readonly ScheduledJob[],
  trace: ReadonlyArray<{ id: string; estimate: number }>,
  estimatedIdeal: ReadonlyMap<string, FluidJob>,
  config: SimulationConfig,
  counted: (job: ScheduledJob) => boolean = () => true,
): BoundCheck {
  const lmax = tierLmax(schedule, config);
  const catchAll = Object.keys(config.tiers).length === 1 && config.tiers['default'] !== undefined;
  const estimates = new Map(trace.map((job) => [job.id, job.estimate]));
  // Tiers whose slots a job of each class can hold: its own and those that lend to it.
  const slotTiers = new Map<string, Set<string>>();
  for (const [name, tier] of Object.entries(config.tiers)) {
    if (!slotTiers.has(name)) slotTiers.set(name, new Set());
    (slotTiers.get(name) as Set<string>).add(name);
    for (const borrower of tier.lendTo ?? []) {
      if (!slotTiers.has(borrower)) slotTiers.set(borrower, new Set());
      (slotTiers.get(borrower) as Set<string>).add(name);
    }
  }
  const byStart = [...schedule].sort((a, b) => a.start - b.start);
  const tally = boundTally();
  for (const job of schedule) {
    const fluid = estimatedIdeal.get(job.id);
    if (fluid === undefined || !counted(job)) continue;
    const tier = catchAll ? 'default' : job.jobClass;
    const slots = slotTiers.get(tier) ?? new Set([tier]);
    let underestimated = 0;
    for (const other of byStart) {
      if (other.start > job.start) break;
      if (!slots.has(other.tier)) continue;
      underestimated += Math.max(0, other.cost - (estimates.get(other.id) ?? other.cost));
    }
    const slack = lmax.get(tier) ?? 0;
    tally.add(job, job.finish - (fluid.finish + slack + underestimated), slack, fluid.finish);
  }
  return tally.result();
}
