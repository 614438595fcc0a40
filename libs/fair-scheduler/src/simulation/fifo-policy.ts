import type { SchedulingPolicy } from './policy';
import { TierSlots } from './tier-slots';
import type { SimulationConfig, TraceJob } from './trace';

/**
 * Baseline: one arrival-order queue per tier, no weights, no quotas. What a plain work queue does.
 */
export class FifoPolicy implements SchedulingPolicy {
  readonly name = 'fifo';
  private readonly slots: TierSlots;
  private readonly queues = new Map<string, TraceJob[]>();
  private readonly heads = new Map<string, number>();

  constructor(config: SimulationConfig) {
    this.slots = new TierSlots(config.tiers);
    for (const name of this.slots.names) {
      this.queues.set(name, []);
      this.heads.set(name, 0);
    }
  }

  enqueue(job: TraceJob): void {
    this.queues.get(this.slots.tierOf(job.jobClass))?.push(job);
  }

  dispatchNext(): { job: TraceJob; tier: string } | undefined {
    return this.slots.pick((tier) => this.take(tier));
  }

  complete(job: TraceJob): void {
    this.slots.release(job.id);
  }

  nextWakeAt(): undefined {
    return undefined;
  }

  private take(tier: string): TraceJob | undefined {
    const queue = this.queues.get(tier) as TraceJob[];
    const head = this.heads.get(tier) as number;
    if (head >= queue.length) return undefined;
    const job = queue[head];
    // Compact now and then instead of shift(): shift() is O(n) per call on large queues.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head + 1);
      this.heads.set(tier, 0);
    } else {
      this.heads.set(tier, head + 1);
    }
    return job;
  }
}
