import { IndexedHeap } from '../internal/indexed-heap';
import type { HeapItem } from '../internal/indexed-heap';
import type { SchedulingPolicy } from './policy';
import { TierSlots } from './tier-slots';
import type { SimulationConfig, TraceJob } from './trace';

class QueuedJob implements HeapItem {
  heapIndex = -1;
  constructor(
    readonly job: TraceJob,
    readonly seq: number,
  ) {}
}

class TenantTurn {
  readonly jobs = new IndexedHeap<QueuedJob>((a, b) => (a.job.priority !== b.job.priority ? a.job.priority > b.job.priority : a.seq < b.seq));
  inRotation = false;
  constructor(readonly tenant: string) {}
}

/**
 * Baseline: per tier, tenants take equal turns, one job per turn, regardless of weight or job
 * cost. Within a tenant: priority, then arrival order (as Fairway).
 */
export class RoundRobinPolicy implements SchedulingPolicy {
  readonly name = 'round-robin';
  private readonly slots: TierSlots;
  /** Tier -> tenant -> queued jobs. */
  private readonly turns = new Map<string, Map<string, TenantTurn>>();
  /** Tier -> rotation of tenants with queued jobs (array with a moving head). */
  private readonly rotation = new Map<string, { list: TenantTurn[]; head: number }>();
  private seq = 0;

  constructor(config: SimulationConfig) {
    this.slots = new TierSlots(config.tiers);
    for (const name of this.slots.names) {
      this.turns.set(name, new Map());
      this.rotation.set(name, { list: [], head: 0 });
    }
  }

  enqueue(job: TraceJob): void {
    const tier = this.slots.tierOf(job.jobClass);
    const tenants = this.turns.get(tier);
    if (tenants === undefined) return;
    let turn = tenants.get(job.tenant);
    if (turn === undefined) {
      turn = new TenantTurn(job.tenant);
      tenants.set(job.tenant, turn);
    }
    turn.jobs.push(new QueuedJob(job, this.seq++));
    if (!turn.inRotation) {
      turn.inRotation = true;
      this.rotation.get(tier)?.list.push(turn);
    }
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
    const rotation = this.rotation.get(tier);
    if (rotation === undefined || rotation.head >= rotation.list.length) return undefined;
    const turn = rotation.list[rotation.head] as TenantTurn;
    rotation.head++;
    const queued = turn.jobs.pop() as QueuedJob;
    if (turn.jobs.size > 0) rotation.list.push(turn);
    else {
      turn.inRotation = false;
      this.turns.get(tier)?.delete(turn.tenant);
    }
    if (rotation.head > 1024 && rotation.head * 2 > rotation.list.length) {
      rotation.list.splice(0, rotation.head);
      rotation.head = 0;
    }
    return queued.job;
  }
}
