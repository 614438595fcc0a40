import type { JobSpec, TenantQuota } from '../types';
import type { FluidJob } from './fluid-job';
import type { HeapItem } from './indexed-heap';
import { KeyedHeap } from './keyed-heap';
import type { KeyedItem } from './keyed-heap';
import type { TokenBucket } from './token-bucket';
import { GpsShare } from './tier-clock';
import type { TierState } from './tier-clock';

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
   * Order within the tenant's lane: minus the priority (higher priority first). Initialised with a
   * double so that V8 stores the field as a double, like `Lane.heapKey`: the keyed heaps' code is
   * shared by both, and with a tagged field here (a declared field starts as `undefined`) every key
   * it read from a lane was boxed into a new heap number (the largest allocation of the churn
   * scenario's profile, ~1/6 of its bytes).
   */
  heapKey = NaN;
  /** ...then arrival order within the scheduler (FIFO among equal priorities). */
  heapTie = 0;
  state: JobState = 'queued';
  spec: JobSpec;
  id: string;
  jobClass: string;
  estimate = NaN;
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
  /** The job in its dense tier's per-job reference while GPS has not finished it (see `TierState`). */
  fluid: FluidJob | null = null;
  /** Real time (ms) at which the reference GPS finished the job, NaN until it did (or unknown). */
  fluidFinish = NaN;
  /**
   * Work (ms) of the job a sparse tier's GPS backlog still holds: its estimate, or less when a dense
   * period served part of it side by side with the lane's other jobs (see `TierState.leaveDense`).
   */
  gpsWork = NaN;

  constructor(spec: JobSpec, tenant: TenantState, homeTier: TierState, priority: number, seq: number) {
    this.heapKey = 0 - priority;
    this.heapTie = seq;
    this.spec = spec;
    this.id = spec.id;
    this.jobClass = spec.jobClass;
    this.estimate = spec.estimate;
    this.gpsWork = spec.estimate;
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
    this.fluid = null;
    this.fluidFinish = NaN;
    this.gpsWork = spec.estimate;
    return this;
  }

  /** Drops the reference to the caller's spec before the record goes back to the pool. */
  release(): void {
    this.spec = RELEASED_SPEC;
    this.runningTier = undefined;
    this.fluidFinish = NaN;
    // GPS may still be serving it (the real system was ahead): the reference keeps the work.
    if (this.fluid !== null) {
      this.fluid.record = null;
      this.fluid = null;
    }
  }
}

/**
 * A tenant's queued jobs for one tier. The lane, not the tenant, is what sits in a tier's ready
 * heap, so a tenant with work in several tiers competes in each of them with one key per tier.
 */
export class Lane implements KeyedItem {
  heapIndex = -1;
  /**
   * Ready-heap key of the head job, smallest first: its virtual finish tag in a sparse tier's `ready`
   * heap, or its real GPS finish time (ms) in a dense tier's `readyReal` (see `TierState`).
   */
  heapKey = 0;
  /** Order of entry into the ready heap; breaks finish-tag ties first-come first-served. */
  heapTie = 0;
  readonly jobs = new KeyedHeap<JobRecord>();
  /** Jobs held back because their class is at the tenant's per-class cap, per class. */
  parked: Map<string, KeyedHeap<JobRecord>> | null = null;
  /**
   * GPS work (`JobRecord.gpsWork`: the estimates, less what a dense period already served) of the
   * lane's jobs not yet dispatched (queued or parked). A sparse tier's reference serves a lane's jobs
   * in order, so the GPS finish of the head job is the lane's GPS finish less the work queued behind
   * it (see `TierState.enterReady`).
   */
  waitingCost = 0;
  /**
   * Jobs still waiting that GPS had already finished when the lane last left GPS (the real system
   * lags): they keep the GPS finish they had (`lagKey` less the lagging work queued behind them)
   * instead of queueing behind work that arrives later. Jobs enqueued before `lagBefore` (a job
   * sequence number) are the lagging ones; `Infinity` until the next job arrives.
   */
  lagJobs = 0;
  lagCost = 0;
  lagKey = 0;
  lagBefore = -1;
  /** Jobs of this lane queued, parked or running (the tier idles when no lane has any). */
  pending = 0;
  /** This lane's backlog in a sparse tier's reference GPS system (see `TierState.settle`). */
  readonly gps: GpsShare = new GpsShare(this);
  /** Dense tier: the lane's jobs GPS has not finished, in its order (priority, then arrival). */
  fluidFirst: FluidJob | null = null;
  fluidLast: FluidJob | null = null;
  fluidCount = 0;
  /** Dense tier: slots GPS gives the lane, and the most it could use, at the last fluid event. */
  fluidRate = 0;
  fluidDemand = 0;
  /** Dense tier: whether the last water-fill gave the lane its whole demand (else the level's share). */
  fluidSaturated = false;
  /** Dense tier: position in the tier's list of lanes GPS holds jobs of, else -1. */
  fluidIndex = -1;
  /**
   * Dense tier: the waiting job whose GPS finish keys the lane (set with the key): the job the lane
   * sends when it wins, if it is queued with its head's priority (else the head goes).
   */
  firstFinishing: JobRecord | null = null;
  /**
   * Dense tier: waiting jobs GPS has finished, in the order it finished them, with the instant: the
   * entries from `finishedStart` to `finishedEnd`, those whose job has left (or was finished again)
   * skipped lazily. The lists are overwritten, never truncated: an emptied array gives up its
   * backing store, so the next finish allocated a new one (with the sparse-to-dense lists, the
   * largest allocation left in the churn scenario's profile).
   */
  private finishedJobs: JobRecord[] | null = null;
  private finishedAt: number[] | null = null;
  private finishedStart = 0;
  private finishedEnd = 0;

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
    this.waitingCost = 0;
    this.lagJobs = 0;
    this.lagCost = 0;
    this.lagKey = 0;
    this.lagBefore = -1;
    this.parked = null;
    this.gps.heapKey = 0;
    this.fluidRate = 0;
    this.fluidDemand = 0;
    this.firstFinishing = null;
    this.clearFinished();
  }

  /** GPS finished `job`, still waiting here, at `at` (dense tier). */
  recordFinished(job: JobRecord, at: number): void {
    // Allocated on first use: most lanes never see a dense tier.
    const jobs = (this.finishedJobs ??= []);
    const finishedAt = (this.finishedAt ??= []);
    const end = this.finishedEnd;
    if (end < jobs.length) {
      jobs[end] = job;
      finishedAt[end] = at;
    } else {
      jobs.push(job);
      finishedAt.push(at);
    }
    this.finishedEnd = end + 1;
  }

  /** Earliest GPS finish (ms) of a waiting job of this lane GPS has finished, NaN if none. */
  earliestFinished(): number {
    const jobs = this.finishedJobs;
    const finishedAt = this.finishedAt;
    if (jobs === null || finishedAt === null) return NaN;
    const end = this.finishedEnd;
    let start = this.finishedStart;
    for (; start < end; start++) {
      const job = jobs[start] as JobRecord;
      const at = finishedAt[start] as number;
      if (job.state !== 'running' && job.fluidFinish === at && job.tenant === this.tenant && job.homeTier === this.tier) break;
    }
    if (start >= end) {
      this.finishedStart = 0;
      this.finishedEnd = 0;
      return NaN;
    }
    if (start > 64 && start * 2 > end) {
      // Compacted in place (splice would allocate the array of what it removes).
      jobs.copyWithin(0, start, end);
      finishedAt.copyWithin(0, start, end);
      this.finishedEnd = end - start;
      start = 0;
    }
    this.finishedStart = start;
    return finishedAt[start] as number;
  }

  /** The job whose GPS finish {@link Lane.earliestFinished} returned (call it first; `null` if none). */
  earliestFinishedJob(): JobRecord | null {
    const jobs = this.finishedJobs;
    return jobs === null || this.finishedStart >= this.finishedEnd ? null : (jobs[this.finishedStart] as JobRecord);
  }

  /** Forgets the finished jobs (the tier left dense mode or idles). */
  clearFinished(): void {
    this.finishedStart = 0;
    this.finishedEnd = 0;
  }

  /** Whether the tier's reference GPS system still holds work of this lane. */
  backlogged(): boolean {
    return this.gps.heapIndex >= 0 || this.fluidCount > 0;
  }

  /** Jobs of this lane parked by per-class caps. */
  parkedCount(): number {
    let count = 0;
    if (this.parked !== null) for (const parked of this.parked.values()) count += parked.size;
    return count;
  }

  /**
   * The lane's queued, parked and running jobs in arrival order (for a tier changing representation).
   * The queued ones come sorted from the lane's heap, which keeps them sorted (see
   * `KeyedHeap.sortedCopy`): with one priority they are in arrival order already, and the running
   * ones are merged in, in O(n) at every switch (sorting the heap's unsorted array took O(n log n));
   * with parked jobs or several priorities, all of them are sorted by arrival.
   */
  outstandingJobs(): JobRecord[] {
    const jobs = this.jobs.sortedCopy();
    const queued = jobs.length;
    // With one priority the queued jobs are in arrival order already; then the running ones (at most
    // the tenant's slots) are merged in, without `sort`'s comparison callback and merge buffer at
    // every switch (the churn scenario switches ~150 times a pass). Job sequence numbers are unique,
    // so the order is the one the sort gave.
    let inOrder = this.parked === null;
    for (let i = 1; inOrder && i < queued; i++) if ((jobs[i - 1] as JobRecord).heapTie > (jobs[i] as JobRecord).heapTie) inOrder = false;
    if (this.parked !== null) for (const parked of this.parked.values()) for (const job of parked.toArray()) jobs.push(job);
    for (const job of this.tenant.running ?? []) if (job.homeTier === this.tier) jobs.push(job);
    if (!inOrder) return jobs.sort((a, b) => a.heapTie - b.heapTie);
    const count = jobs.length;
    if (count === queued) return jobs;
    // The few appended jobs sorted by insertion, then merged from the back into the sorted queue.
    for (let i = queued + 1; i < count; i++) {
      const job = jobs[i] as JobRecord;
      let k = i;
      for (; k > queued && (jobs[k - 1] as JobRecord).heapTie > job.heapTie; k--) jobs[k] = jobs[k - 1] as JobRecord;
      jobs[k] = job;
    }
    const extra = jobs.slice(queued);
    let i = queued - 1;
    let j = extra.length - 1;
    for (let k = count - 1; j >= 0; k--) {
      if (i >= 0 && (jobs[i] as JobRecord).heapTie > (extra[j] as JobRecord).heapTie) jobs[k] = jobs[i--] as JobRecord;
      else jobs[k] = extra[j--] as JobRecord;
    }
    return jobs;
  }

  /** Whether `job` is one of the lagging jobs (see `lagJobs`). */
  isLagging(job: JobRecord): boolean {
    return this.lagJobs > 0 && job.heapTie < this.lagBefore;
  }

  /** `job` (queued or parked here) was dispatched or cancelled. */
  takeWaiting(job: JobRecord): void {
    if (this.isLagging(job)) {
      this.lagCost -= job.gpsWork;
      if (--this.lagJobs === 0) {
        this.lagCost = 0;
        this.lagBefore = -1;
      }
    }
    this.waitingCost -= job.gpsWork;
  }

  /** Ready-heap key: virtual finish tag (sparse tier), or real finish time in ms (dense tier). */
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
