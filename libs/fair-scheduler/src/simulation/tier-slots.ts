import type { TierConfig } from '../types';

/**
 * Slot accounting shared by the baseline policies (the simulator's fifo and round-robin, and the
 * scheduler's arrival-order baseline): per-tier slot counts and opt-in lending, the same capacity
 * rules Fairway's scheduler applies, so that comparisons differ only in the order.
 */
export class TierSlots {
  private readonly slots = new Map<string, number>();
  private readonly inUse = new Map<string, number>();
  /** Lender tier -> tiers that may borrow its idle slots. */
  readonly borrowers = new Map<string, readonly string[]>();
  /** Tier of each running job, so completion frees the right slot. */
  private readonly runningIn = new Map<string, string>();
  readonly names: readonly string[];
  private readonly catchAll: boolean;

  constructor(tiers: Readonly<Record<string, TierConfig>>) {
    this.names = Object.keys(tiers);
    for (const [name, tier] of Object.entries(tiers)) {
      this.slots.set(name, tier.slots);
      this.inUse.set(name, 0);
      this.borrowers.set(name, tier.lendTo ?? []);
    }
    this.catchAll = this.names.length === 1 && this.names[0] === 'default';
  }

  /** The tier a job class belongs to: its own, else a 'default' tier when there is one. */
  tierOf(jobClass: string): string {
    if (this.catchAll || (!this.slots.has(jobClass) && this.slots.has('default'))) return 'default';
    return jobClass;
  }

  /** True when `tier` is one of these tiers. */
  has(tier: string): boolean {
    return this.slots.has(tier);
  }

  /** Changes a tier's slot count (the workers' capacity changed); running jobs keep theirs. */
  resize(tier: string, slots: number): void {
    if (this.slots.has(tier)) this.slots.set(tier, slots);
  }

  /** Each tier's slots and the jobs running in them now. */
  usage(): Array<{ name: string; slots: number; inUse: number }> {
    return this.names.map((name) => ({ name, slots: this.slots.get(name) ?? 0, inUse: this.inUse.get(name) ?? 0 }));
  }

  free(tier: string): boolean {
    return (this.inUse.get(tier) ?? 0) < (this.slots.get(tier) ?? 0);
  }

  occupy(jobId: string, tier: string): void {
    this.inUse.set(tier, (this.inUse.get(tier) ?? 0) + 1);
    this.runningIn.set(jobId, tier);
  }

  /**
   * The next job to start and the tier whose slot it takes: first each tier with a free slot from
   * its own queue, then, still with a free slot, from the queues of the tiers it lends to. `take`
   * removes and returns the head of a tier's queue (in the policy's own order), or undefined.
   */
  pick<J extends { id: string }>(take: (tier: string) => J | undefined): { job: J; tier: string } | undefined {
    for (const tier of this.names) {
      if (!this.free(tier)) continue;
      const job = take(tier);
      if (job !== undefined) {
        this.occupy(job.id, tier);
        return { job, tier };
      }
    }
    for (const tier of this.names) {
      if (!this.free(tier)) continue;
      for (const borrower of this.borrowers.get(tier) ?? []) {
        const job = take(borrower);
        if (job !== undefined) {
          this.occupy(job.id, tier);
          return { job, tier };
        }
      }
    }
    return undefined;
  }

  release(jobId: string): void {
    const tier = this.runningIn.get(jobId);
    if (tier === undefined) return;
    this.runningIn.delete(jobId);
    this.inUse.set(tier, (this.inUse.get(tier) ?? 1) - 1);
  }
}
