import type { SimulationConfig, TraceJob } from './trace';
import { quotaOf } from './trace';
import { waterFill } from './water-fill';

/** A job's fate in the fluid ideal. */
export interface FluidJob {
  readonly id: string;
  readonly tenant: string;
  readonly arrival: number;
  /** First instant the job received service. */
  readonly start: number;
  readonly finish: number;
}

class FluidJobState {
  remaining: number;
  rate = 0;
  start = NaN;
  constructor(
    readonly job: TraceJob,
    readonly seq: number,
    readonly owner: FluidTenant,
  ) {
    this.remaining = job.cost;
  }
}

class FluidTenant {
  /** Queued and in-service jobs in service order: priority, then arrival. */
  readonly jobs: FluidJobState[] = [];
  constructor(
    readonly name: string,
    readonly tier: Map<string, FluidTenant>,
    readonly weight: number,
    readonly cap: number,
  ) {}

  add(job: FluidJobState): void {
    // Binary search for the insertion point keeps the order without re-sorting.
    let low = 0;
    let high = this.jobs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.jobs[mid] as FluidJobState;
      const before = other.job.priority !== job.job.priority ? other.job.priority > job.job.priority : other.seq < job.seq;
      if (before) low = mid + 1;
      else high = mid;
    }
    this.jobs.splice(low, 0, job);
  }
}

/**
 * Reference fluid ideal: generalised processor sharing over the same tiers, slots, weights and
 * `maxInFlight` caps, computed exactly and event by event (arrivals and fluid completions).
 *
 * Model: within a tier, tenant i is entitled to `min(d_i, level * w_i)` slots where
 * `d_i = min(jobs present, maxInFlight)` (a job never runs on more than one slot); a tenant's rate
 * goes to its jobs in its own order (priority, then arrival), one slot's worth each. Token buckets,
 * per-class caps and lending are not modelled: the ideal answers "what would perfectly divisible,
 * pre-emptible capacity give", which is what the scheduler's bound is stated against.
 */
export function computeFluidIdeal(trace: readonly TraceJob[], config: SimulationConfig): Map<string, FluidJob> {
  const tierNames = Object.keys(config.tiers);
  const catchAll = tierNames.length === 1 && tierNames[0] === 'default';
  const tiers = new Map<string, { slots: number; tenants: Map<string, FluidTenant> }>();
  for (const name of tierNames) tiers.set(name, { slots: config.tiers[name]?.slots ?? 0, tenants: new Map() });
  const arrivals = trace.map((job, index) => ({ job, index })).sort((a, b) => a.job.t - b.job.t || a.index - b.index);
  const result = new Map<string, FluidJob>();
  let rated: FluidJobState[] = [];
  const demands: number[] = [];
  const weights: number[] = [];
  const rates: number[] = [];
  let next = 0;
  let now = 0;
  let present = 0;

  const finish = (state: FluidJobState, at: number): void => {
    result.set(state.job.id, {
      id: state.job.id,
      tenant: state.job.tenant,
      arrival: state.job.t,
      start: Number.isNaN(state.start) ? at : state.start,
      finish: at,
    });
  };

  while (next < arrivals.length || present > 0) {
    for (; next < arrivals.length && (arrivals[next]?.job.t as number) <= now; next++) {
      // Arrival order (not trace line order) is the within-tenant order, as in the scheduler.
      const { job } = arrivals[next] as { job: TraceJob };
      const index = next;
      if (job.cost <= 0) {
        result.set(job.id, { id: job.id, tenant: job.tenant, arrival: job.t, start: now, finish: now });
        continue;
      }
      const tierName = catchAll ? 'default' : job.jobClass;
      const tier = tiers.get(tierName);
      if (tier === undefined) continue;
      let tenant = tier.tenants.get(job.tenant);
      if (tenant === undefined) {
        const quota = quotaOf(config, job.tenant);
        tenant = new FluidTenant(job.tenant, tier.tenants, quota.weight ?? 1, quota.maxInFlight ?? Infinity);
        tier.tenants.set(job.tenant, tenant);
      }
      tenant.add(new FluidJobState(job, index, tenant));
      present++;
    }
    for (const state of rated) state.rate = 0;
    rated = [];
    for (const tier of tiers.values()) {
      const tenants = [...tier.tenants.values()];
      demands.length = 0;
      weights.length = 0;
      for (const tenant of tenants) {
        demands.push(Math.min(tenant.jobs.length, tenant.cap));
        weights.push(tenant.weight);
      }
      waterFill(demands, weights, tier.slots, rates);
      tenants.forEach((tenant, i) => {
        let rate = rates[i] as number;
        for (const state of tenant.jobs) {
          if (rate <= 1e-12) break;
          const give = Math.min(1, rate);
          state.rate = give;
          if (Number.isNaN(state.start)) state.start = now;
          rated.push(state);
          rate -= give;
        }
      });
    }
    let step = Infinity;
    for (const state of rated) step = Math.min(step, state.remaining / state.rate);
    const arrivalAt = next < arrivals.length ? (arrivals[next]?.job.t as number) : Infinity;
    const at = Math.min(arrivalAt, now + step);
    if (at === Infinity) break;
    const dt = at - now;
    now = at;
    const touched = new Set<FluidTenant>();
    for (const state of rated) {
      state.remaining -= state.rate * dt;
      // Relative tolerance: the job that defined the step lands on zero up to rounding.
      if (state.remaining <= 1e-9 * Math.max(1, state.job.cost)) {
        state.remaining = 0;
        finish(state, now);
        present--;
        touched.add(state.owner);
      }
    }
    // Finished jobs are always among the first ceil(rate) of their tenant, so only tenants that
    // finished something need compacting, and only their served prefix moves.
    for (const tenant of touched) {
      let served = 0;
      while (served < tenant.jobs.length && (tenant.jobs[served] as FluidJobState).rate > 0) served++;
      const unfinished = tenant.jobs.slice(0, served).filter((state) => state.remaining > 0);
      tenant.jobs.splice(0, served, ...unfinished);
      if (tenant.jobs.length === 0) tenant.tier.delete(tenant.name);
    }
  }
  return result;
}
