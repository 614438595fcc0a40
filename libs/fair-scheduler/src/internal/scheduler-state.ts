import type { JobSpec, TenantQuota } from '../types';
import type { HeapItem } from './indexed-heap';
import { IndexedHeap } from './indexed-heap';
import type { TokenBucket } from './token-bucket';

/** A job the scheduler holds, queued or running. */
export class JobRecord implements HeapItem {
  heapIndex = -1;
  state: 'queued' | 'parked' | 'running' = 'queued';
  /** Tier whose slot the job occupies while running. */
  runningTier: TierState | undefined = undefined;
  /** Tokens taken at dispatch, so that cost-based buckets can be corrected at completion. */
  tokensTaken = 0;
  /** Weight the estimate was charged with, so the completion correction uses the same scale. */
  chargedWeight = 1;

  constructor(
    readonly spec: JobSpec,
    readonly tenant: TenantState,
    /** The tier the job's class belongs to (its lane). */
    readonly homeTier: TierState,
    readonly priority: number,
    /** Arrival order within the scheduler; breaks priority ties (FIFO). */
    readonly seq: number,
  ) {}
}

/** Within one tenant: higher priority first, then arrival order. */
export function jobBefore(a: JobRecord, b: JobRecord): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

/**
 * A tenant's queued jobs for one tier. The lane, not the tenant, is what sits in a tier's ready
 * heap, so a tenant with work in several tiers competes in each of them with one key per tier.
 */
export class Lane implements HeapItem {
  heapIndex = -1;
  readonly jobs = new IndexedHeap<JobRecord>(jobBefore);
  /** Jobs held back because their class is at the tenant's per-class cap, per class. */
  parked: Map<string, IndexedHeap<JobRecord>> | null = null;
  /**
   * Virtual-time lift of this lane over the tenant's virtual time: raised when the lane (re)joins
   * its tier's competition so that time spent away (idle or blocked by the tenant's own quota)
   * banks no credit. See docs/scheduling.md, "virtual time".
   */
  offset = 0;
  /** Virtual finish tag of the head job: the ready-heap key. */
  finishTag = 0;
  /** Order of entry into the ready heap; breaks finish-tag ties first-come first-served. */
  entrySeq = 0;
  /** Jobs of this lane queued, parked or running: the lane is active (counts in GPS) while > 0. */
  pending = 0;
  /** Weight this lane adds to its tier's `activeWeight` while active. */
  activeWeight = 0;

  constructor(
    readonly tenant: TenantState,
    readonly tier: TierState,
  ) {}
}

/** Ready-heap order: smallest virtual finish tag first. */
export function laneBefore(a: Lane, b: Lane): boolean {
  return a.finishTag !== b.finishTag ? a.finishTag < b.finishTag : a.entrySeq < b.entrySeq;
}

/**
 * Everything the scheduler keeps per tenant. An idle tenant (nothing queued, nothing running) keeps
 * only its quota reference, virtual time and bucket: `lanes` and `classInFlight` are dropped.
 */
export class TenantState implements HeapItem {
  /** Position in the token wake-up heap. */
  heapIndex = -1;
  /** When the tenant is token-blocked: time (ms) its bucket covers its cheapest head job. */
  wakeAt = 0;
  /** Normalised service charged so far: sum of cost / weight. */
  virtualTime = 0;
  queued = 0;
  inFlight = 0;
  /** Indexed by tier index; `null` while idle. */
  lanes: Array<Lane | undefined> | null = null;
  classInFlight: Map<string, number> | null = null;
  bucket: TokenBucket | undefined = undefined;

  constructor(
    readonly id: string,
    public quota: TenantQuota,
  ) {}
}

/** Wake-up heap order: earliest refill first. */
export function wakeBefore(a: TenantState, b: TenantState): boolean {
  return a.wakeAt < b.wakeAt;
}

/** One capacity tier at run time. */
export class TierState {
  inUse = 0;
  /** Tiers whose jobs may borrow this tier's idle slots. */
  borrowers: TierState[] = [];
  readonly ready = new IndexedHeap<Lane>(laneBefore);
  /**
   * System virtual time of the tier at real time `clockAt`: an estimate of GPS virtual time (the
   * normalised service a continuously backlogged tenant would have received). It advances at
   * `slots / activeWeight` per ms while any lane is active. A lane joining the competition starts
   * no earlier than this.
   */
  virtualTime = 0;
  /** Real time (ms) at which `virtualTime` was last settled. */
  clockAt = 0;
  /** Sum of the weights of the active lanes (queued, parked or running jobs) of this tier. */
  activeWeight = 0;
  /** Largest virtual finish tag dispatched in this tier (the clock's floor once the tier idles). */
  maxFinishTag = 0;

  constructor(
    readonly name: string,
    readonly index: number,
    public slots: number,
  ) {}

  /** Brings `virtualTime` up to real time `now` (never backwards). */
  settle(now: number): number {
    if (now > this.clockAt) {
      if (this.activeWeight > 0) this.virtualTime += ((now - this.clockAt) * this.slots) / this.activeWeight;
      this.clockAt = now;
    }
    return this.virtualTime;
  }
}
