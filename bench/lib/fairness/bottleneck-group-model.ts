import type { SchedulingPolicy } from '@fairway/fair-scheduler/simulation/policy';
import { TierSlots } from '@fairway/fair-scheduler/simulation/tier-slots';
import type { SimulationConfig, TraceJob } from '@fairway/fair-scheduler/simulation/trace';

/**
 * Deterministic model of the usual Bottleneck set-up: a `Bottleneck.Group` keyed by tenant with
 * `maxConcurrent: perKey`, whose jobs then wait for a worker slot.
 *
 * What Bottleneck does, and what this reproduces in virtual time:
 * - each key's limiter keeps its own queue, FIFO within a priority (Bottleneck's default);
 * - the limiter *starts* a job (calls its function) as soon as the key has fewer than `perKey`
 *   running; a started job counts as running for its key until its promise settles, including the
 *   time it spends waiting for a worker slot;
 * - started jobs contend for the tier's slots in the order they were started (a FIFO semaphore,
 *   as with a chained global limiter `maxConcurrent: slots`).
 * Bottleneck's own asynchrony (setTimeout/promise hops) only adds latency, never reorders these
 * FIFO queues, so the order is exact and the timing is an optimistic lower bound for it.
 */
export class BottleneckGroupModel implements SchedulingPolicy {
  readonly name = 'bottleneck-group';
  private readonly slots: TierSlots;
  private readonly keyQueues = new Map<string, TraceJob[]>();
  private readonly keyRunning = new Map<string, number>();
  private readonly started = new Map<string, { list: TraceJob[]; head: number }>();

  constructor(
    config: SimulationConfig,
    private readonly perKey: number,
  ) {
    this.slots = new TierSlots(config.tiers);
    for (const name of this.slots.names) this.started.set(name, { list: [], head: 0 });
  }

  enqueue(job: TraceJob): void {
    const queue = this.keyQueues.get(job.tenant) ?? [];
    queue.push(job);
    this.keyQueues.set(job.tenant, queue);
    this.release(job.tenant);
  }

  dispatchNext(): { job: TraceJob; tier: string } | undefined {
    for (const tier of this.slots.names) {
      if (!this.slots.free(tier)) continue;
      const fifo = this.started.get(tier) as { list: TraceJob[]; head: number };
      if (fifo.head < fifo.list.length) {
        const job = fifo.list[fifo.head++] as TraceJob;
        if (fifo.head > 1024 && fifo.head * 2 > fifo.list.length) {
          fifo.list.splice(0, fifo.head);
          fifo.head = 0;
        }
        this.slots.occupy(job.id, tier);
        return { job, tier };
      }
    }
    return undefined;
  }

  complete(job: TraceJob): void {
    this.slots.release(job.id);
    this.keyRunning.set(job.tenant, (this.keyRunning.get(job.tenant) ?? 1) - 1);
    this.release(job.tenant);
  }

  nextWakeAt(): undefined {
    return undefined;
  }

  private release(tenant: string): void {
    const queue = this.keyQueues.get(tenant);
    while (queue !== undefined && queue.length > 0 && (this.keyRunning.get(tenant) ?? 0) < this.perKey) {
      // Bottleneck orders by priority (0 highest), FIFO within one; the traces use one priority.
      const job = queue.shift() as TraceJob;
      this.keyRunning.set(tenant, (this.keyRunning.get(tenant) ?? 0) + 1);
      this.started.get(this.slots.tierOf(job.jobClass))?.list.push(job);
    }
    if (queue !== undefined && queue.length === 0) this.keyQueues.delete(tenant);
  }
}
