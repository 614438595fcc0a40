import { FairScheduler, type Dispatch, type Explanation, type JobSpec, type TenantQuotaPatch, type TierConfig, type WaitState } from '@fairway/fair-scheduler';
import { TierSlots } from '@fairway/fair-scheduler/simulation/tier-slots';

/**
 * What the dispatcher needs from a scheduling policy: the fair core, or plain arrival order as the
 * baseline it is measured against (bench:e2e-fairness).
 */
export interface DispatchPolicy {
  enqueue(job: JobSpec, now: number): void;
  dispatchNext(now: number): Dispatch | undefined;
  complete(jobId: string, now: number, actualCost?: number): void;
  cancel(jobId: string): boolean;
  nextWakeAt(now: number): number | undefined;
  setTenantQuota(tenant: string, patch: TenantQuotaPatch, now?: number): void;
  setTierSlots(tier: string, slots: number, now?: number): void;
  /** Each tier's slots and the jobs running in them now. */
  tierUsage(): Array<{ name: string; slots: number; inUse: number }>;
  explain(tenant: string, now: number): Explanation;
  /** `explain(tenant).state` without the rest: asked for every tenant on every metrics tick. */
  waitState(tenant: string, now: number): WaitState;
}

/** The policy names SCHEDULER_POLICY accepts. */
export type PolicyName = 'fair' | 'fifo';

/**
 * Arrival order per tier, what a plain Kafka consumer gives: no weights, no quotas. Kept only as
 * the baseline that shows what the fair core buys. Its slots (and lending) are the simulator's
 * TierSlots, the same bookkeeping as the simulator's fifo baseline.
 */
export class ArrivalOrderPolicy implements DispatchPolicy {
  private readonly queues = new Map<string, JobSpec[]>();
  private readonly slots: TierSlots;

  constructor(tiers: Readonly<Record<string, TierConfig>>) {
    this.slots = new TierSlots(tiers);
    for (const name of this.slots.names) this.queues.set(name, []);
  }

  private tierOf(jobClass: string): string {
    const tier = this.slots.tierOf(jobClass);
    if (!this.slots.has(tier)) throw new Error(`no tier for job class '${jobClass}'`);
    return tier;
  }

  enqueue(job: JobSpec): void {
    this.queues.get(this.tierOf(job.jobClass))?.push(job);
  }

  dispatchNext(): Dispatch | undefined {
    // Every tier's own queue first, then the tiers that lend their idle slots.
    return this.slots.pick((tier) => this.queues.get(tier)?.shift());
  }

  complete(jobId: string): void {
    this.slots.release(jobId);
  }

  cancel(jobId: string): boolean {
    for (const queue of this.queues.values()) {
      const index = queue.findIndex((job) => job.id === jobId);
      if (index >= 0) {
        queue.splice(index, 1);
        return true;
      }
    }
    return false;
  }

  nextWakeAt(): number | undefined {
    return undefined;
  }

  setTierSlots(tier: string, slots: number): void {
    this.slots.resize(tier, slots);
  }

  tierUsage(): Array<{ name: string; slots: number; inUse: number }> {
    return this.slots.usage();
  }

  setTenantQuota(): void {
    // Arrival order has no quotas: that is the point of the baseline.
  }

  explain(tenant: string): Explanation {
    const queued = this.queuedOf(tenant);
    return {
      tenant,
      state: queued > 0 ? 'behind-others' : 'nothing-queued',
      reason: 'arrival-order policy: jobs run in the order they arrived',
      queued,
      inFlight: 0,
    };
  }

  waitState(tenant: string): WaitState {
    return this.queuedOf(tenant) > 0 ? 'behind-others' : 'nothing-queued';
  }

  private queuedOf(tenant: string): number {
    return [...this.queues.values()].reduce((n, q) => n + q.filter((j) => j.tenant === tenant).length, 0);
  }
}

/** The policy for `name` over `tiers`. */
export function createPolicy(name: PolicyName, tiers: Readonly<Record<string, TierConfig>>): DispatchPolicy {
  return name === 'fifo' ? new ArrivalOrderPolicy(tiers) : new FairScheduler({ tiers });
}

/** A tier as SCHEDULER_TIERS names it: fixed slots, or a share (percent) of the workers' capacity. */
export interface TierSpec extends TierConfig {
  /** Percent of the live workers' advertised capacity; `slots` then follows the workers. */
  readonly share?: number;
}

/**
 * Parses SCHEDULER_TIERS: `interactive:2,standard:4>interactive,heavy:2` (fixed slots) or
 * `interactive:25%,standard:50%>interactive,heavy:25%` (shares of the capacity the connected workers
 * advertise) — a tier per job class, and `>a|b` naming the tiers it may lend idle slots to. A tier
 * given as a share starts with 1 slot until the first worker connects.
 */
export function parseTiers(spec: string): Record<string, TierSpec> {
  const tiers: Record<string, TierSpec> = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z][a-z0-9-]*):(\d+)(%)?(?:>([a-z0-9|-]+))?$/.exec(part);
    if (!match) {
      throw new Error(
        `SCHEDULER_TIERS: '${part}' is not <tier>:<slots>[>lendTo|lendTo] or <tier>:<percent>%[>lendTo] (e.g. 'standard:4>interactive', 'standard:50%')`,
      );
    }
    const [, name, amount, percent, lendTo] = match as unknown as [string, string, string, string | undefined, string | undefined];
    const value = Number(amount);
    if (value < 1 || (percent && value > 100)) throw new Error(`SCHEDULER_TIERS: '${part}' needs ${percent ? 'a percent from 1 to 100' : 'at least 1 slot'}`);
    tiers[name] = { slots: percent ? 1 : value, ...(percent ? { share: value } : {}), ...(lendTo ? { lendTo: lendTo.split('|') } : {}) };
  }
  if (Object.keys(tiers).length === 0) throw new Error('SCHEDULER_TIERS must name at least one tier');
  const shared = Object.values(tiers).filter((t) => t.share !== undefined);
  if (shared.length > 0 && shared.length < Object.keys(tiers).length) {
    throw new Error('SCHEDULER_TIERS: give every tier a share (e.g. standard:50%) or every tier a slot count, not a mix');
  }
  return tiers;
}

/**
 * Slots of each share tier for `capacity` worker slots in all: largest-remainder apportionment of
 * the shares (so the tiers add up to the capacity when the shares add up to 100%), at least 1 each.
 * Fixed tiers are left out.
 */
export function slotsForCapacity(tiers: Readonly<Record<string, TierSpec>>, capacity: number): Record<string, number> {
  const shared = Object.entries(tiers).filter(([, t]) => t.share !== undefined) as Array<[string, TierSpec & { share: number }]>;
  const exact = shared.map(([name, t]) => ({ name, exact: (capacity * t.share) / 100 }));
  const slots: Record<string, number> = {};
  // At least 1 slot each (a tier of 0 slots could never run its class); the rest by the shares.
  for (const e of exact) slots[e.name] = Math.max(1, Math.floor(e.exact));
  const target = Math.round(exact.reduce((sum, e) => sum + e.exact, 0));
  let left = target - Object.values(slots).reduce((sum, n) => sum + n, 0);
  const byRemainder = [...exact].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || a.name.localeCompare(b.name));
  for (const e of byRemainder) {
    if (left <= 0) break;
    slots[e.name] = (slots[e.name] ?? 0) + 1;
    left -= 1;
  }
  // Minimums given to small tiers are taken back from the largest ones, as far as they can give.
  while (left < 0) {
    const largest = Object.keys(slots).reduce<string | undefined>(
      (best, name) => (best === undefined || (slots[name] ?? 0) > (slots[best] ?? 0) ? name : best),
      undefined,
    );
    if (largest === undefined || (slots[largest] ?? 0) <= 1) break;
    slots[largest] = (slots[largest] ?? 0) - 1;
    left += 1;
  }
  return slots;
}
