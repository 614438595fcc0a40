import { FairScheduler, type Dispatch, type Explanation, type JobSpec, type TenantQuotaPatch, type TierConfig } from '@fairway/fair-scheduler';

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
  explain(tenant: string, now: number): Explanation;
}

/** The policy names SCHEDULER_POLICY accepts. */
export type PolicyName = 'fair' | 'fifo';

/**
 * Arrival order per tier, what a plain Kafka consumer gives: no weights, no quotas. Kept only as
 * the baseline that shows what the fair core buys.
 */
export class ArrivalOrderPolicy implements DispatchPolicy {
  private readonly queues = new Map<string, JobSpec[]>();
  private readonly inUse = new Map<string, number>();
  private readonly running = new Map<string, string>();

  constructor(private readonly tiers: Readonly<Record<string, TierConfig>>) {
    for (const name of Object.keys(tiers)) {
      this.queues.set(name, []);
      this.inUse.set(name, 0);
    }
  }

  private tierOf(jobClass: string): string {
    if (this.queues.has(jobClass)) return jobClass;
    if (this.queues.has('default')) return 'default';
    throw new Error(`no tier for job class '${jobClass}'`);
  }

  enqueue(job: JobSpec): void {
    this.queues.get(this.tierOf(job.jobClass))?.push(job);
  }

  dispatchNext(): Dispatch | undefined {
    let best: { tier: string; job: JobSpec } | undefined;
    for (const [tier, queue] of this.queues) {
      const head = queue[0];
      if (!head || (this.inUse.get(tier) ?? 0) >= (this.tiers[tier]?.slots ?? 0)) continue;
      if (!best) best = { tier, job: head };
    }
    if (!best) return undefined;
    this.queues.get(best.tier)?.shift();
    this.inUse.set(best.tier, (this.inUse.get(best.tier) ?? 0) + 1);
    this.running.set(best.job.id, best.tier);
    return best;
  }

  complete(jobId: string): void {
    const tier = this.running.get(jobId);
    if (tier === undefined) return;
    this.running.delete(jobId);
    this.inUse.set(tier, (this.inUse.get(tier) ?? 1) - 1);
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

  setTenantQuota(): void {
    // Arrival order has no quotas: that is the point of the baseline.
  }

  explain(tenant: string): Explanation {
    const queued = [...this.queues.values()].reduce((n, q) => n + q.filter((j) => j.tenant === tenant).length, 0);
    return { tenant, state: queued > 0 ? 'behind-others' : 'nothing-queued', reason: 'arrival-order policy: jobs run in the order they arrived', queued, inFlight: 0 };
  }
}

/** The policy for `name` over `tiers`. */
export function createPolicy(name: PolicyName, tiers: Readonly<Record<string, TierConfig>>): DispatchPolicy {
  return name === 'fifo' ? new ArrivalOrderPolicy(tiers) : new FairScheduler({ tiers });
}

/**
 * Parses SCHEDULER_TIERS: `interactive:2,standard:4>interactive,heavy:2` — a tier per job class
 * with its slots, and `>a|b` naming the tiers it may lend idle slots to.
 */
export function parseTiers(spec: string): Record<string, TierConfig> {
  const tiers: Record<string, TierConfig> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z][a-z0-9-]*):(\d+)(?:>([a-z0-9|-]+))?$/.exec(part);
    if (!match) throw new Error(`SCHEDULER_TIERS: '${part}' is not <tier>:<slots>[>lendTo|lendTo] (e.g. 'standard:4>interactive')`);
    const [, name, slots, lendTo] = match as unknown as [string, string, string, string | undefined];
    tiers[name] = { slots: Number(slots), ...(lendTo ? { lendTo: lendTo.split('|') } : {}) };
  }
  if (Object.keys(tiers).length === 0) throw new Error('SCHEDULER_TIERS must name at least one tier');
  return tiers;
}
