import type { JobSpec, TenantQuota } from '../types';
import type { HeapItem } from './indexed-heap';
import { KeyedHeap, PackedKeyedHeap } from './keyed-heap';
import type { KeyedItem } from './keyed-heap';
import type { TokenBucket } from './token-bucket';

/** Where a job is: in its lane, held back by a per-class cap, or holding a slot. */
export type JobState = 'queued' | 'parked' | 'running';

/** Stands in for the caller's spec once a record is released, so the pool keeps no caller object. */
const RELEASED_SPEC: JobSpec = Object.freeze({ id: '', tenant: '', jobClass: '', estimate: 0 });

/**
 * A job the scheduler holds, queued or running. Records are pooled and reused by the scheduler
 * (see `FairScheduler`): a job lives for many thousands of decisions, long enough to be promoted
 * out of V8's young generation, so allocating one per job made every job cost an old-generation
 * collection. The fields the hot path reads (`estimate`, `jobClass`) are copied from the caller's
 * spec, so they are read from one object shape whatever shape the caller's spec has.
 */
export class JobRecord implements KeyedItem {
  heapIndex = -1;
  /**
   * Order within the tenant's lane: minus the priority (higher priority first)... Written as
   * `0 - priority` because `-0` is a heap-allocated double in V8 and `0 - 0` is the small integer 0.
   */
  heapKey: number;
  /** ...then arrival order within the scheduler (FIFO among equal priorities). */
  heapTie: number;
  state: JobState = 'queued';
  spec: JobSpec;
  id: string;
  jobClass: string;
  estimate: number;
  tenant: TenantState;
  /** The tier the job's class belongs to (its lane). */
  homeTier: TierState;
  /** Tier whose slot the job occupies while running. */
  runningTier: TierState | undefined = undefined;
  /** Position in the tenant's `running` list while running, else -1. */
  runningIndex = -1;
  /** Tokens taken at dispatch, so that cost-based buckets can be corrected at completion. */
  tokensTaken = 0;
  /** Weight the estimate was charged with, so the completion correction uses the same scale. */
  chargedWeight = 1;
  /**
   * The tier's GPS virtual time when the job arrived: WFQ starts a job at max(V(arrival), finish tag
   * of the lane's previous job), so a tenant whose earlier work GPS had long finished does not carry
   * an old, low tag onto work that arrives later, just because its actual queue never emptied.
   */
  startFloor = 0;

  constructor(spec: JobSpec, tenant: TenantState, homeTier: TierState, priority: number, seq: number) {
    this.heapKey = 0 - priority;
    this.heapTie = seq;
    this.spec = spec;
    this.id = spec.id;
    this.jobClass = spec.jobClass;
    this.estimate = spec.estimate;
    this.tenant = tenant;
    this.homeTier = homeTier;
  }

  /** Re-initialises a pooled record for a new job (same fields, same order: one object shape). */
  reuse(spec: JobSpec, tenant: TenantState, homeTier: TierState, priority: number, seq: number): this {
    this.heapIndex = -1;
    this.state = 'queued';
    this.spec = spec;
    this.id = spec.id;
    this.jobClass = spec.jobClass;
    this.estimate = spec.estimate;
    this.tenant = tenant;
    this.homeTier = homeTier;
    this.heapKey = 0 - priority;
    this.heapTie = seq;
    this.runningTier = undefined;
    this.runningIndex = -1;
    this.tokensTaken = 0;
    this.chargedWeight = 1;
    this.startFloor = 0;
    return this;
  }

  /** Drops the reference to the caller's spec before the record goes back to the pool. */
  release(): void {
    this.spec = RELEASED_SPEC;
    this.runningTier = undefined;
  }
}

/**
 * A tenant's queued jobs for one tier. The lane, not the tenant, is what sits in a tier's ready
 * heap, so a tenant with work in several tiers competes in each of them with one key per tier.
 */
export class Lane implements KeyedItem {
  heapIndex = -1;
  /** Ready-heap key: the virtual finish tag of the head job (smallest first). */
  heapKey = 0;
  /** Order of entry into the ready heap; breaks finish-tag ties first-come first-served. */
  heapTie = 0;
  readonly jobs = new KeyedHeap<JobRecord>();
  /** Jobs held back because their class is at the tenant's per-class cap, per class. */
  parked: Map<string, KeyedHeap<JobRecord>> | null = null;
  /**
   * Virtual-time lift of this lane over the tenant's virtual time: raised when the lane (re)joins
   * its tier's competition so that time spent away (idle or blocked by the tenant's own quota)
   * banks no credit. See docs/scheduling.md, "virtual time".
   */
  offset = 0;
  /** Jobs of this lane queued, parked or running (the tier idles when no lane has any). */
  pending = 0;
  /** This lane's backlog in the tier's reference GPS system (see `TierState.settle`). */
  readonly gps: GpsShare = new GpsShare(this);

  constructor(
    /** Owner; reassigned when an idle tenant's lanes are reused by another tenant. */
    public tenant: TenantState,
    readonly tier: TierState,
  ) {}

  /** Hands this (empty, inactive) lane to `tenant`, forgetting everything about its last owner. */
  reuse(tenant: TenantState): void {
    this.tenant = tenant;
    this.heapKey = 0;
    this.heapTie = 0;
    this.offset = 0;
    this.parked = null;
    this.gps.heapKey = 0;
  }

  /** Virtual finish tag of the head job (the ready-heap key). */
  get finishTag(): number {
    return this.heapKey;
  }
}

/**
 * Everything the scheduler keeps per tenant. An idle tenant (nothing queued, nothing running) keeps
 * only its quota reference, virtual time and bucket: `lanes`, `running` and `classInFlight` are dropped.
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
  /**
   * Lanes of an idle tenant that are still backlogged in GPS (it was served ahead of its fluid
   * share): kept until GPS catches up, so that a quick return continues from its GPS finish instead
   * of starting afresh. `null` otherwise, which is what keeps an idle tenant compact.
   */
  departingLanes: Array<Lane | undefined> | null = null;
  /** The tenant's running jobs (unordered; each knows its index); `null` while idle. */
  running: JobRecord[] | null = null;
  /**
   * Running jobs per class, kept only while the quota has `maxInFlightByClass` (the only reader on
   * the hot path); otherwise counted from `running` when asked.
   */
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

/**
 * A lane's backlog in its tier's reference GPS system: it is GPS-backlogged while the tier's virtual
 * time is below `heapKey`, the GPS finish (in virtual time) of all the work it has been given.
 */
export class GpsShare implements KeyedItem {
  heapIndex = -1;
  /** GPS finish of the lane's backlog: start + sum of estimate / weight of its jobs. */
  heapKey = 0;
  heapTie = 0;
  /** Weight the lane is served with in GPS (the tenant's weight). */
  weight = 0;

  constructor(readonly lane: Lane) {}
}

/** One capacity tier at run time. */
export class TierState {
  inUse = 0;
  /** Tiers whose jobs may borrow this tier's idle slots. */
  borrowers: TierState[] = [];
  readonly ready = new PackedKeyedHeap<Lane>();
  /**
   * Virtual time of the tier's reference GPS system at real time `clockAt`: generalised processor
   * sharing of `slots` capacity among the GPS-backlogged lanes by weight, so it advances at
   * `slots / gpsWeight` per ms and a lane leaves GPS when the virtual time reaches its GPS finish.
   * This is WFQ's exact virtual time for a server of rate `slots`. A lane joining the competition
   * starts no earlier than it.
   */
  virtualTime = 0;
  /** Real time (ms) at which `virtualTime` was last settled. */
  clockAt = 0;
  /** Sum of the weights of the GPS-backlogged lanes. */
  gpsWeight = 0;
  /** GPS-backlogged lanes by GPS finish: the next one to leave GPS is on top. */
  readonly gps = new PackedKeyedHeap<GpsShare>();
  private gpsSeq = 0;
  /** Lanes with jobs queued, parked or running; 0 means the tier is idle. */
  activeLanes = 0;
  /** Largest virtual finish tag dispatched in this tier (the clock's floor once the tier idles). */
  maxFinishTag = 0;

  constructor(
    readonly name: string,
    readonly index: number,
    public slots: number,
  ) {}

  /**
   * Brings `virtualTime` up to real time `now` (never backwards), retiring lanes from GPS as the
   * virtual time passes their GPS finish. Amortised O(log n): a lane leaves at most once per job.
   */
  settle(now: number): number {
    if (now > this.clockAt) {
      let at = this.clockAt;
      for (let top = this.gps.peek(); top !== undefined; top = this.gps.peek()) {
        // Real time at which the virtual time reaches this lane's GPS finish.
        const leaves = at + ((top.heapKey - this.virtualTime) * this.gpsWeight) / this.slots;
        if (leaves > now) break;
        at = leaves > at ? leaves : at;
        if (top.heapKey > this.virtualTime) this.virtualTime = top.heapKey;
        this.leaveGps(top);
      }
      if (this.gpsWeight > 0) this.virtualTime += ((now - at) * this.slots) / this.gpsWeight;
      this.clockAt = now;
    }
    return this.virtualTime;
  }

  /** Gives a lane `work` (estimate / weight) more GPS backlog; call after `settle(now)`. */
  addGpsWork(share: GpsShare, weight: number, work: number): void {
    if (share.heapIndex >= 0) {
      share.heapKey += work;
      this.gps.update(share);
      return;
    }
    share.heapKey = this.virtualTime + work;
    share.heapTie = this.gpsSeq++;
    share.weight = weight;
    this.gpsWeight += weight;
    this.gps.push(share);
  }

  /** Takes `work` back from a GPS-backlogged lane (a cancelled job, a job cheaper than estimated). */
  removeGpsWork(share: GpsShare, work: number): void {
    if (share.heapIndex < 0) return;
    share.heapKey -= work;
    if (share.heapKey <= this.virtualTime) this.leaveGps(share);
    else this.gps.update(share);
  }

  /** A live weight change of a GPS-backlogged lane re-rates the clock from now on. */
  reweightGps(share: GpsShare, weight: number): void {
    if (share.heapIndex < 0) return;
    this.gpsWeight += weight - share.weight;
    share.weight = weight;
  }

  /**
   * The tier has no job left: GPS would have finished everything, so the clock moves to the largest
   * finish tag dispatched and no lane carries a lead or a debt into the next busy period.
   */
  idle(): void {
    for (let top = this.gps.peek(); top !== undefined; top = this.gps.peek()) this.leaveGps(top);
    if (this.maxFinishTag > this.virtualTime) this.virtualTime = this.maxFinishTag;
  }

  private leaveGps(share: GpsShare): void {
    this.gps.remove(share);
    this.gpsWeight -= share.weight;
    // Summing and subtracting floats drifts; the last lane leaving resets the sum exactly.
    if (this.gps.size === 0 || this.gpsWeight < 1e-12) this.gpsWeight = 0;
    const tenant = share.lane.tenant;
    const departing = tenant.departingLanes;
    if (departing !== null && departing.every((lane) => lane === undefined || lane.gps.heapIndex < 0)) {
      // GPS has caught up with an idle tenant: nothing to continue from any more.
      tenant.departingLanes = null;
    }
  }
}
