import { IndexedHeap } from '../internal/indexed-heap';
import type { HeapItem } from '../internal/indexed-heap';
import type { FluidJob } from './fluid-ideal';
import type { SchedulingPolicy } from './policy';
import { TierSlots } from './tier-slots';
import { quotaOf, type SimulationConfig, type TraceJob } from './trace';

class Queued implements HeapItem {
  heapIndex = -1;
  constructor(
    readonly job: TraceJob,
    readonly key: number,
    readonly seq: number,
  ) {}
}

/**
 * A yardstick, not a scheduler: dispatches, in every tier, the queued job whose finish in the fluid
 * ideal of the WHOLE trace (future arrivals included) is earliest, under the same slots, lending and
 * `maxInFlight` caps as Fairway. No online scheduler can know those finishes (a later arrival changes
 * them), so a trace this order cannot keep within `fluid finish + L_max` is one that ordering by the
 * ideal does not fix, whatever the clock. `bench:fairness -- --random N` runs it beside Fairway.
 */
export class ClairvoyantPolicy implements SchedulingPolicy {
  readonly name = 'clairvoyant';
  private readonly slots: TierSlots;
  private readonly queues = new Map<string, IndexedHeap<Queued>>();
  private readonly inFlight = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly config: SimulationConfig,
    private readonly ideal: ReadonlyMap<string, FluidJob>,
  ) {
    this.slots = new TierSlots(config.tiers);
    for (const name of this.slots.names) {
      this.queues.set(name, new IndexedHeap<Queued>((a, b) => (a.key !== b.key ? a.key < b.key : a.seq < b.seq)));
    }
  }

  enqueue(job: TraceJob): void {
    const key = this.ideal.get(job.id)?.finish ?? Infinity;
    this.queues.get(this.slots.tierOf(job.jobClass))?.push(new Queued(job, key, this.seq++));
  }

  dispatchNext(): { job: TraceJob; tier: string } | undefined {
    return this.slots.pick((tier) => this.take(tier));
  }

  complete(job: TraceJob): void {
    this.slots.release(job.id);
    this.inFlight.set(job.tenant, (this.inFlight.get(job.tenant) ?? 1) - 1);
  }

  nextWakeAt(): undefined {
    return undefined;
  }

  /** The earliest-finishing queued job of `tier` whose tenant is under its cap (capped ones stay). */
  private take(tier: string): TraceJob | undefined {
    const queue = this.queues.get(tier) as IndexedHeap<Queued>;
    const skipped: Queued[] = [];
    let chosen: Queued | undefined;
    for (let top = queue.pop(); top !== undefined; top = queue.pop()) {
      const cap = quotaOf(this.config, top.job.tenant).maxInFlight ?? Infinity;
      if ((this.inFlight.get(top.job.tenant) ?? 0) < cap) {
        chosen = top;
        break;
      }
      skipped.push(top);
    }
    for (const item of skipped) queue.push(item);
    if (chosen === undefined) return undefined;
    this.inFlight.set(chosen.job.tenant, (this.inFlight.get(chosen.job.tenant) ?? 0) + 1);
    return chosen.job;
  }
}
