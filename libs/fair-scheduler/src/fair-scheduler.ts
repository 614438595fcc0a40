import { FairSchedulerError } from './errors';
import { IndexedHeap } from './internal/indexed-heap';
import { applyQuotaPatch, BASE_QUOTA, effectiveBurst } from './internal/quota';
import { KeyedHeap, keyedBefore } from './internal/keyed-heap';
import { JobRecord, Lane, TenantState, wakeBefore } from './internal/scheduler-state';
import { TierState } from './internal/tier-clock';
import { TokenBucket } from './internal/token-bucket';
import type { Dispatch, Explanation, FairSchedulerOptions, JobSpec, SchedulerSnapshot, TenantQuota, TenantQuotaPatch, TenantStats, WaitState } from './types';

/** Most job records kept for reuse; beyond this, finished records are left to the GC. */
const MAX_SPARE_RECORDS = 4096;
/** Most idle tenants' lane sets kept for reuse. */
const MAX_SPARE_LANE_SETS = 1024;

/** {@link FairScheduler.explain}'s state with what its text needs (see `classify`). */
type Classified =
  | { readonly state: 'nothing-queued' | 'at-max-in-flight' | 'at-class-max-in-flight' | 'no-tokens' }
  | { readonly state: 'next'; readonly lane: Lane; readonly leader: Lane; readonly slotTier: TierState }
  | { readonly state: 'behind-others'; readonly lane: Lane; readonly leader: Lane }
  | { readonly state: 'tier-full'; readonly tier: TierState };

/** Name of the single tier that accepts every job class. */
export const DEFAULT_TIER = 'default';

/**
 * The fair-scheduling core: decides, each time capacity frees up, which tenant's job runs next.
 *
 * Algorithm (docs/scheduling.md has the details, what is proven and what is tested):
 * - a tenant competes in a tier through a *lane* (its queued jobs of that tier);
 * - each tier runs a reference GPS system, water-filled like the simulator's fluid ideal: a lane
 *   can use at most min(jobs GPS still holds of it, maxInFlight) slots, the share it cannot use
 *   goes to the others by weight; kept per lane while the tier has many lanes (WFQ's clock), job by
 *   job while it has few (`internal/tier-clock.ts`);
 * - the eligible lane whose next job that reference finishes first wins (PGPS: weighted fair
 *   queuing against the water-filled GPS; with few lanes, WF2Q's rule among the jobs GPS has begun);
 *   a job's estimate enters the reference at enqueue, the difference to the real cost at completion;
 * - a lane is eligible when the tenant is under `maxInFlight`, its head job's class is under the
 *   per-class cap and its token bucket covers the job; token-blocked tenants sit in a wake-up heap
 *   keyed by refill time, so nothing is polled.
 *
 * Every operation is O(T log n) for T tiers and n active tenants (a tier with few lanes for its
 * slots: O(L log L + S) per GPS event for its L lanes and S slots, docs/scheduling.md). Time is never read from a clock:
 * every call that needs it takes `now` in milliseconds; a `now` smaller than one seen before is
 * treated as the latest one seen (time never runs backwards inside the core).
 */
export class FairScheduler {
  private readonly tiers: TierState[] = [];
  private readonly tierByName = new Map<string, TierState>();
  /** The `default` tier when it is the only one: it takes every job class. */
  private readonly catchAll: TierState | undefined;
  private readonly defaults: TenantQuota;
  private readonly tenants = new Map<string, TenantState>();
  private readonly jobs = new Map<string, JobRecord>();
  private readonly wake = new IndexedHeap<TenantState>(wakeBefore);
  /** Records of finished jobs, reused for new ones (see `JobRecord`). */
  private readonly spareRecords: JobRecord[] = [];
  /** Lanes (by tier index) and running lists of tenants that went idle, reused on activation. */
  private readonly spareLaneSets: Array<Array<Lane | undefined>> = [];
  private readonly spareRunningLists: JobRecord[][] = [];
  private clock = 0;
  private jobSeq = 0;
  private queuedJobs = 0;
  private runningJobs = 0;
  private activeTenants = 0;

  /**
   * @param options capacity tiers and the default tenant quota.
   * @throws FairSchedulerError `INVALID_CONFIG` for an empty tier set, a slot count that is not an
   *   integer >= 1, or a `lendTo` naming an unknown tier or the tier itself; `INVALID_QUOTA` for bad
   *   defaults.
   */
  constructor(options: FairSchedulerOptions) {
    const entries = Object.entries(options.tiers ?? {});
    if (entries.length === 0) {
      throw new FairSchedulerError('INVALID_CONFIG', 'tiers must name at least one tier, e.g. { default: { slots: 4 } }');
    }
    for (const [name, tier] of entries) {
      const slots = tier?.slots;
      if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1) {
        throw new FairSchedulerError('INVALID_CONFIG', `tiers.${name}.slots must be an integer >= 1 (got ${String(slots)})`);
      }
      const state = new TierState(name, this.tiers.length, slots);
      this.tiers.push(state);
      this.tierByName.set(name, state);
    }
    for (const [name, tier] of entries) {
      const lender = this.tierByName.get(name) as TierState;
      for (const borrowerName of tier.lendTo ?? []) {
        const borrower = this.tierByName.get(borrowerName);
        if (borrower === undefined || borrower === lender) {
          throw new FairSchedulerError(
            'INVALID_CONFIG',
            `tiers.${name}.lendTo must name other configured tiers (got '${borrowerName}'; tiers: ${[...this.tierByName.keys()].join(', ')})`,
          );
        }
        lender.borrowers.push(borrower);
      }
    }
    this.catchAll = entries.length === 1 && entries[0]?.[0] === DEFAULT_TIER ? this.tiers[0] : undefined;
    const reuseLanes = (lanes: Array<Lane | undefined>): void => {
      if (this.spareLaneSets.length < MAX_SPARE_LANE_SETS) this.spareLaneSets.push(lanes);
    };
    for (const tier of this.tiers) tier.lanesReleased = reuseLanes;
    this.defaults = applyQuotaPatch(BASE_QUOTA, options.defaults ?? {});
  }

  /**
   * Resizes a tier, live (workers joined or left): the tier's reference GPS clock is first settled
   * at the old rate up to `now`, then runs at the new one. Jobs already running keep their slots; a
   * tier that shrank below its jobs in use dispatches again once enough of them completed.
   *
   * @param now time in ms; defaults to the latest time the scheduler has seen.
   * @throws FairSchedulerError `INVALID_CONFIG` for an unknown tier or a slot count that is not an
   *   integer >= 1 (the old size stays in force).
   */
  setTierSlots(tier: string, slots: number, now?: number): void {
    const state = this.tierByName.get(tier);
    if (state === undefined) {
      throw new FairSchedulerError('INVALID_CONFIG', `no tier '${tier}' (tiers: ${[...this.tierByName.keys()].join(', ')})`);
    }
    if (typeof slots !== 'number' || !Number.isInteger(slots) || slots < 1) {
      throw new FairSchedulerError('INVALID_CONFIG', `tiers.${tier}.slots must be an integer >= 1 (got ${String(slots)})`);
    }
    const time = now === undefined ? this.clock : this.advance(now);
    state.settle(time);
    state.slots = slots;
    state.slotsChanged(time);
  }

  /**
   * Changes a tenant's quota, live: the change applies from the next decision. Creates the tenant's
   * record if it has none. Fields left out keep their value; `null` removes a limit. A rate change
   * first settles the bucket at the old rate up to `now`.
   *
   * @param now time in ms; defaults to the latest time the scheduler has seen.
   * @returns the tenant's quota now in force.
   * @throws FairSchedulerError `INVALID_QUOTA` (the old quota stays in force).
   */
  setTenantQuota(tenant: string, patch: TenantQuotaPatch, now?: number): TenantQuota {
    const time = now === undefined ? this.clock : this.advance(now);
    const state = this.tenantState(tenant);
    const old = state.quota;
    const next = applyQuotaPatch(old, patch);
    if (state.bucket !== undefined && old.rate !== undefined) {
      state.bucket.refill(time, old.rate, effectiveBurst(old));
    }
    if (next.rate === undefined) {
      state.bucket = undefined;
    } else if (state.bucket === undefined) {
      state.bucket = new TokenBucket(effectiveBurst(next), time);
    } else {
      state.bucket.refill(time, next.rate, effectiveBurst(next));
    }
    state.quota = next;
    if (next.maxInFlightByClass === undefined) {
      state.classInFlight = null;
    } else if (state.running !== null && state.classInFlight === null) {
      state.classInFlight = new Map();
      for (const job of state.running) state.classInFlight.set(job.jobClass, (state.classInFlight.get(job.jobClass) ?? 0) + 1);
    }
    if (state.lanes !== null) {
      for (const lane of state.lanes) {
        if (lane === undefined || !lane.backlogged()) continue;
        lane.tier.settle(time);
        if (next.weight !== old.weight) lane.tier.reweightGps(lane, next.weight, time);
        lane.tier.demandChanged(lane, time);
      }
      this.refresh(state, time);
    }
    return next;
  }

  /** The quota in force for `tenant` (the defaults if it has none of its own). */
  getTenantQuota(tenant: string): TenantQuota {
    return this.tenants.get(tenant)?.quota ?? this.defaults;
  }

  /**
   * Queues a job. It becomes eligible for dispatch immediately (subject to its tenant's quota).
   *
   * @throws FairSchedulerError `INVALID_JOB`, `UNKNOWN_JOB_CLASS` or `DUPLICATE_JOB`.
   */
  enqueue(job: JobSpec, now: number): void {
    const time = this.advance(now);
    if (typeof job.id !== 'string' || job.id.length === 0) {
      throw new FairSchedulerError('INVALID_JOB', `job.id must be a non-empty string (got ${String(job.id)})`);
    }
    if (typeof job.tenant !== 'string' || job.tenant.length === 0) {
      throw new FairSchedulerError('INVALID_JOB', `job.tenant must be a non-empty string (job '${job.id}')`);
    }
    if (typeof job.estimate !== 'number' || !Number.isFinite(job.estimate) || job.estimate < 0) {
      throw new FairSchedulerError('INVALID_JOB', `job.estimate must be a finite number >= 0 (job '${job.id}', got ${String(job.estimate)})`);
    }
    const priority = job.priority ?? 0;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new FairSchedulerError('INVALID_JOB', `job.priority must be a finite number (job '${job.id}', got ${String(priority)})`);
    }
    const tier = this.catchAll ?? this.tierByName.get(job.jobClass);
    if (tier === undefined) {
      throw new FairSchedulerError(
        'UNKNOWN_JOB_CLASS',
        `job class '${String(job.jobClass)}' names no tier (job '${job.id}'; tiers: ${[...this.tierByName.keys()].join(', ')})`,
      );
    }
    if (this.jobs.has(job.id)) {
      throw new FairSchedulerError('DUPLICATE_JOB', `job '${job.id}' is already queued or running; ids must be unique`);
    }
    const tenant = this.tenantState(job.tenant);
    if (tenant.lanes === null) {
      if (tenant.departingLanes !== null) {
        // Back before GPS caught up: continue with its own lanes (offsets and GPS backlog).
        tenant.lanes = tenant.departingLanes;
        tenant.departingLanes = null;
      } else {
        const spare = this.spareLaneSets.pop();
        if (spare !== undefined) for (const lane of spare) lane?.reuse(tenant);
        tenant.lanes = spare ?? new Array<Lane | undefined>(this.tiers.length);
      }
      tenant.running = this.spareRunningLists.pop() ?? [];
      if (tenant.quota.maxInFlightByClass !== undefined) tenant.classInFlight = new Map();
      this.activeTenants++;
    }
    let lane = tenant.lanes[tier.index];
    if (lane === undefined) {
      lane = new Lane(tenant, tier);
      tenant.lanes[tier.index] = lane;
    }
    const spare = this.spareRecords.pop();
    const record = spare === undefined ? new JobRecord(job, tenant, tier, priority, this.jobSeq++) : spare.reuse(job, tenant, tier, priority, this.jobSeq++);
    this.jobs.set(job.id, record);
    // Settled before the job joins the lane: a lane GPS finishes now marks only earlier jobs lagging.
    tier.settle(time);
    lane.jobs.push(record);
    lane.waitingCost += record.gpsWork;
    if (lane.lagBefore === Infinity) lane.lagBefore = record.heapTie;
    this.addPending(lane, record, time);
    tenant.queued++;
    this.queuedJobs++;
    // Queued behind an unchanged head, the job adds the same work to the lane's GPS finish and
    // behind its head (or, if GPS had finished the lane, the head is a lagging job with its own
    // key): no key, cap or token wait changes, nothing to re-rank.
    if (lane.jobs.peek() === record) this.refresh(tenant, time);
  }

  /**
   * Makes one scheduling decision: picks the job to run in a free slot, marks it running and
   * returns it with the tier whose slot it takes. Call repeatedly until it returns `undefined`
   * (no free slot has an eligible job), then arm one timer at {@link FairScheduler.nextWakeAt}.
   */
  dispatchNext(now: number): Dispatch | undefined {
    const time = this.advance(now);
    this.processWakes(time);
    // Leaders of different tiers are compared by the real time at which GPS finishes their head
    // job; with one tier there is nothing to compare across.
    const across = this.tiers.length > 1;
    let best: Lane | undefined;
    let bestKey = Infinity;
    let slotTier: TierState | undefined;
    for (const tier of this.tiers) {
      if (tier.inUse >= tier.slots) continue;
      const lane = tier.leader(time, across);
      if (lane !== undefined && (best === undefined || tier.leaderKey < bestKey)) {
        best = lane;
        bestKey = tier.leaderKey;
        slotTier = tier;
      }
    }
    if (best === undefined) {
      // Lending pass: only reached when no tier with a free slot has work of its own class.
      for (const tier of this.tiers) {
        if (tier.inUse >= tier.slots) continue;
        for (const borrower of tier.borrowers) {
          const lane = borrower.leader(time, true);
          if (lane !== undefined && (best === undefined || borrower.leaderKey < bestKey)) {
            best = lane;
            bestKey = borrower.leaderKey;
            slotTier = tier;
          }
        }
      }
    }
    if (best === undefined || slotTier === undefined) return undefined;
    return this.start(best, slotTier, time);
  }

  /**
   * Marks a running job finished: frees its slot and charges its real cost. When `actualCost`
   * differs from the estimate, the tenant's virtual time (and, with `rateBasis: 'cost'`, its
   * bucket) is corrected by the difference, so under-estimating buys nothing.
   *
   * @returns the job as it was enqueued.
   * @throws FairSchedulerError `UNKNOWN_JOB`, `JOB_NOT_RUNNING` or `INVALID_JOB` (bad cost).
   */
  complete(jobId: string, now: number, actualCost?: number): JobSpec {
    const time = this.advance(now);
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new FairSchedulerError('UNKNOWN_JOB', `no queued or running job has id '${jobId}'`);
    if (job.state !== 'running' || job.runningTier === undefined) {
      throw new FairSchedulerError('JOB_NOT_RUNNING', `job '${jobId}' is still queued; cancel() it instead of complete()`);
    }
    if (actualCost !== undefined && (typeof actualCost !== 'number' || !Number.isFinite(actualCost) || actualCost < 0)) {
      throw new FairSchedulerError('INVALID_JOB', `actualCost must be a finite number >= 0 (job '${jobId}', got ${String(actualCost)})`);
    }
    const tenant = job.tenant;
    this.jobs.delete(jobId);
    job.runningTier.inUse--;
    const lane = (tenant.lanes as Array<Lane | undefined>)[job.homeTier.index] as Lane;
    this.runningJobs--;
    tenant.inFlight--;
    const running = tenant.running as JobRecord[];
    const last = running.pop() as JobRecord;
    if (last !== job) {
      running[job.runningIndex] = last;
      last.runningIndex = job.runningIndex;
    }
    if (tenant.classInFlight !== null) {
      const count = (tenant.classInFlight.get(job.jobClass) ?? 1) - 1;
      if (count === 0) tenant.classInFlight.delete(job.jobClass);
      else tenant.classInFlight.set(job.jobClass, count);
    }
    const quota = tenant.quota;
    const corrected = actualCost !== undefined && actualCost !== job.estimate;
    if (corrected) {
      const correction = (actualCost - job.estimate) / job.chargedWeight;
      tenant.virtualTime += correction;
      // The reference GPS system is given the real cost too (a lane it already retired stays out).
      lane.tier.settle(time);
      lane.tier.correctCost(lane, job, actualCost - job.estimate, quota.weight, time);
      const bucket = tenant.bucket;
      if (bucket !== undefined && quota.rate !== undefined && quota.rateBasis === 'cost') {
        bucket.refill(time, quota.rate, effectiveBurst(quota));
        bucket.take(actualCost - job.tokensTaken);
      }
    }
    this.removePending(lane, time);
    const spec = job.spec;
    this.releaseRecord(job);
    // A completion changes a tenant's standing only through its caps, a cost correction (its
    // virtual time moved) or by leaving it with nothing queued; otherwise no key changed.
    if (corrected || tenant.queued === 0 || quota.maxInFlight !== undefined || quota.maxInFlightByClass !== undefined) {
      this.refresh(tenant, time);
    }
    return spec;
  }

  /**
   * Removes a queued job.
   *
   * @returns `false` when no job has this id (already finished or never queued).
   * @throws FairSchedulerError `JOB_ALREADY_RUNNING` when the job holds a slot; use `complete()`.
   */
  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (job === undefined) return false;
    if (job.state === 'running') {
      throw new FairSchedulerError('JOB_ALREADY_RUNNING', `job '${jobId}' is running; call complete() when it stops`);
    }
    const tenant = job.tenant;
    const lane = (tenant.lanes as Array<Lane | undefined>)[job.homeTier.index] as Lane;
    if (job.state === 'parked') lane.parked?.get(job.jobClass)?.remove(job);
    else lane.jobs.remove(job);
    lane.takeWaiting(job);
    this.jobs.delete(jobId);
    lane.tier.settle(this.clock);
    lane.tier.cancelJob(lane, job, tenant.quota.weight, this.clock);
    this.removePending(lane, this.clock);
    this.releaseRecord(job);
    tenant.queued--;
    this.queuedJobs--;
    this.refresh(tenant, this.clock);
    return true;
  }

  /**
   * Earliest time (ms) at which a tenant now waiting only for tokens becomes eligible, or
   * `undefined` when none is. Set one timer for it and call {@link FairScheduler.dispatchNext} when
   * it fires; completions and enqueues need no timer.
   */
  nextWakeAt(now: number): number | undefined {
    const time = this.advance(now);
    this.processWakes(time);
    return this.wake.peek()?.wakeAt;
  }

  /**
   * Says why `tenant`'s next job is not running: nothing queued, no tokens until a time, at
   * `maxInFlight` (overall or for a class), tier full, or behind other tenants in virtual time (with
   * the tags), or that it is next. Read-only apart from bringing token buckets up to `now`.
   */
  explain(tenant: string, now: number): Explanation {
    const time = this.advance(now);
    this.processWakes(time);
    const state = this.tenants.get(tenant);
    const base = { tenant, queued: state?.queued ?? 0, inFlight: state?.inFlight ?? 0 };
    const wait = this.classify(state, time);
    if (state === undefined || state.lanes === null || wait.state === 'nothing-queued') {
      return { ...base, state: 'nothing-queued', reason: `tenant '${tenant}' has nothing queued (${base.inFlight} running)` };
    }
    const quota = state.quota;
    const heads = this.headLanes(state);
    const nextJob = heads.map((lane) => lane.jobs.peek() as JobRecord).sort((a, b) => (keyedBefore(a, b) ? -1 : 1))[0];
    const withNext = nextJob === undefined ? base : { ...base, nextJobId: nextJob.id };
    switch (wait.state) {
      case 'at-max-in-flight': {
        const maxInFlight = quota.maxInFlight as number;
        return {
          ...withNext,
          state: wait.state,
          reason: `tenant '${tenant}' is at maxInFlight: ${state.inFlight} of ${maxInFlight} jobs running; the next completion frees a place`,
          limit: { maxInFlight, inFlight: state.inFlight },
        };
      }
      case 'at-class-max-in-flight': {
        const [jobClass] = state.lanes.flatMap((lane) => [...(lane?.parked?.entries() ?? [])].filter(([, heap]) => heap.size > 0).map(([c]) => c));
        const cap = jobClass === undefined ? 0 : (quota.maxInFlightByClass?.[jobClass] ?? 0);
        const running = jobClass === undefined ? 0 : this.classCount(state, jobClass);
        return {
          ...base,
          state: wait.state,
          reason: `tenant '${tenant}' is at maxInFlightByClass.${String(jobClass)}: ${running} of ${cap} running`,
          limit: { jobClass: String(jobClass), maxInFlight: cap, inFlight: running },
        };
      }
      case 'no-tokens': {
        const needed = Math.min(...heads.map((lane) => this.tokensNeeded(quota, lane.jobs.peek() as JobRecord)));
        const available = (state.bucket as TokenBucket).tokens;
        return {
          ...withNext,
          state: wait.state,
          reason: `tenant '${tenant}' has ${available.toFixed(3)} tokens and needs ${needed}; refill at ${String(quota.rate)}/s reaches it at t=${state.wakeAt.toFixed(3)}ms`,
          tokens: { available, needed, eligibleAt: state.wakeAt },
        };
      }
      case 'next':
      case 'behind-others': {
        const { lane, leader } = wait;
        const jobId = (lane.jobs.peek() as JobRecord).id;
        const finishTag = this.virtualTag(lane, time);
        const leaderFinishTag = this.virtualTag(leader, time);
        const virtual = { finishTag, leaderFinishTag, leader: leader.tenant.id, behindBy: finishTag - leaderFinishTag };
        const reason =
          wait.state === 'next'
            ? `tenant '${tenant}' is next in tier '${wait.slotTier.name}': job '${jobId}' finishes first in the reference GPS system (virtual finish tag ${finishTag.toFixed(3)})`
            : `tenant '${tenant}' is behind others in tier '${lane.tier.name}' by ${virtual.behindBy.toFixed(3)} virtual time: its finish tag ${finishTag.toFixed(3)} vs ${leaderFinishTag.toFixed(3)} for tenant '${leader.tenant.id}'`;
        return { ...base, nextJobId: jobId, state: wait.state, reason, virtual };
      }
      case 'tier-full': {
        const tier = wait.tier;
        return {
          ...withNext,
          state: wait.state,
          reason: `tier '${tier.name}' is full: ${tier.inUse} of ${tier.slots} slots in use; tenant '${tenant}' is first in line for the next one to free`,
          tier: { name: tier.name, slots: tier.slots, inUse: tier.inUse },
        };
      }
    }
  }

  /**
   * {@link FairScheduler.explain}'s `state` alone, without its sentence or figures: cheap enough to
   * ask for every tenant on every metrics tick (at 10,000 tenants, building each explanation's text
   * every 2 s was a sixth of the scheduler's CPU in bench:dispatch).
   */
  waitState(tenant: string, now: number): WaitState {
    const time = this.advance(now);
    this.processWakes(time);
    return this.classify(this.tenants.get(tenant), time).state;
  }

  /** Lanes of `state` with a job queued (not parked) at their head. */
  private headLanes(state: TenantState): Lane[] {
    const heads: Lane[] = [];
    for (const lane of state.lanes ?? []) if (lane !== undefined && lane.jobs.size > 0) heads.push(lane);
    return heads;
  }

  /** Why the tenant's next job waits, as a state and the lanes and tier that say so (no text). */
  private classify(state: TenantState | undefined, time: number): Classified {
    if (state === undefined || state.queued === 0 || state.lanes === null) return { state: 'nothing-queued' };
    const quota = state.quota;
    if (quota.maxInFlight !== undefined && state.inFlight >= quota.maxInFlight) return { state: 'at-max-in-flight' };
    const heads = this.headLanes(state);
    if (heads.length === 0) return { state: 'at-class-max-in-flight' };
    const readyLanes = heads.filter((lane) => lane.tier.isReady(lane));
    if (readyLanes.length === 0 && state.bucket !== undefined && quota.rate !== undefined && this.wake.has(state)) return { state: 'no-tokens' };
    let leadsFullTier: Lane | undefined;
    let behind: { lane: Lane; leader: Lane; by: number } | undefined;
    for (const lane of readyLanes) {
      const slotTier = this.slotFor(lane.tier);
      const leader = (slotTier !== undefined && slotTier !== lane.tier ? this.borrowLeader(slotTier, time) : lane.tier.leader(time, false)) ?? lane;
      if (leader === lane && slotTier !== undefined) return { state: 'next', lane, leader, slotTier };
      if (leader === lane) {
        leadsFullTier ??= lane;
        continue;
      }
      const by = this.virtualTag(lane, time) - this.virtualTag(leader, time);
      if (behind === undefined || by < behind.by) behind = { lane, leader, by };
    }
    if (leadsFullTier === undefined && behind !== undefined) return { state: 'behind-others', lane: behind.lane, leader: behind.leader };
    return { state: 'tier-full', tier: (leadsFullTier ?? (heads[0] as Lane)).tier };
  }

  /** Counters of one tenant; zeros for a tenant the scheduler has never seen. */
  stats(tenant: string): TenantStats {
    const state = this.tenants.get(tenant);
    if (state === undefined) {
      return { tenant, queued: 0, inFlight: 0, inFlightByClass: {}, virtualTime: 0, tokens: undefined, quota: this.defaults };
    }
    const { bucket, quota } = state;
    if (bucket !== undefined && quota.rate !== undefined) bucket.refill(this.clock, quota.rate, effectiveBurst(quota));
    return {
      tenant,
      queued: state.queued,
      inFlight: state.inFlight,
      inFlightByClass: this.inFlightByClass(state),
      virtualTime: state.virtualTime,
      tokens: bucket?.tokens,
      quota,
    };
  }

  /** Whole-scheduler counters: tier occupancy and virtual times, queue sizes. */
  /** Each tier's slots and the jobs running in them now (borrowed slots count for the lender). */
  tierUsage(): Array<{ name: string; slots: number; inUse: number }> {
    return this.tiers.map((tier) => ({ name: tier.name, slots: tier.slots, inUse: tier.inUse }));
  }

  snapshot(): SchedulerSnapshot {
    return {
      tiers: this.tiers.map((tier) => ({
        name: tier.name,
        slots: tier.slots,
        inUse: tier.inUse,
        readyTenants: tier.readyCount,
        virtualTime: tier.settle(this.clock),
      })),
      tenants: this.tenants.size,
      activeTenants: this.activeTenants,
      queuedJobs: this.queuedJobs,
      runningJobs: this.runningJobs,
      tokenBlockedTenants: this.wake.size,
    };
  }

  /**
   * Drops the record of an idle tenant (nothing queued or running), forgetting its custom quota and
   * virtual-time residue. For callers that want memory bounded by active tenants rather than by all
   * tenants ever seen. Returns whether a record was dropped.
   */
  forgetIdleTenant(tenant: string): boolean {
    const state = this.tenants.get(tenant);
    if (state === undefined || state.lanes !== null) return false;
    return this.tenants.delete(tenant);
  }

  private advance(now: number): number {
    if (typeof now !== 'number' || Number.isNaN(now)) {
      throw new FairSchedulerError('INVALID_JOB', `now must be a number of milliseconds (got ${String(now)})`);
    }
    if (now > this.clock) this.clock = now;
    return this.clock;
  }

  private tenantState(id: string): TenantState {
    let state = this.tenants.get(id);
    if (state === undefined) {
      state = new TenantState(id, this.defaults);
      if (this.defaults.rate !== undefined) state.bucket = new TokenBucket(effectiveBurst(this.defaults), this.clock);
      this.tenants.set(id, state);
    }
    return state;
  }

  private tokensNeeded(quota: TenantQuota, job: JobRecord): number {
    // A cost-based job bigger than the bucket needs a full bucket, not more than the bucket can
    // ever hold; the rest is charged as debt.
    return quota.rateBasis === 'cost' ? Math.min(job.estimate, effectiveBurst(quota)) : 1;
  }

  /** Returns a finished or cancelled job's record to the pool. */
  private releaseRecord(record: JobRecord): void {
    record.release();
    if (this.spareRecords.length < MAX_SPARE_RECORDS) this.spareRecords.push(record);
  }

  /** Running jobs of `tenant` in `jobClass`. */
  private classCount(tenant: TenantState, jobClass: string): number {
    if (tenant.classInFlight !== null) return tenant.classInFlight.get(jobClass) ?? 0;
    let count = 0;
    for (const job of tenant.running ?? []) if (job.jobClass === jobClass) count++;
    return count;
  }

  private inFlightByClass(tenant: TenantState): Record<string, number> {
    const byClass: Record<string, number> = {};
    for (const job of tenant.running ?? []) byClass[job.jobClass] = (byClass[job.jobClass] ?? 0) + 1;
    return byClass;
  }

  private start(lane: Lane, slotTier: TierState, now: number): Dispatch {
    const tenant = lane.tenant;
    const job = this.takeNext(lane);
    const quota = tenant.quota;
    const weight = quota.weight;
    const charge = job.estimate / weight;
    // Kept so that the tier's clock can forgive every lead when the tier idles (see removePending).
    if (lane.tier.ready.has(lane) && lane.heapKey > lane.tier.maxFinishTag) lane.tier.maxFinishTag = lane.heapKey;
    lane.takeWaiting(job);
    tenant.virtualTime += charge;
    job.chargedWeight = weight;
    const bucket = tenant.bucket;
    if (bucket !== undefined && quota.rate !== undefined) {
      // Settle the refill up to now before spending: refilling after the spend would credit time
      // during which the bucket was already full.
      bucket.refill(now, quota.rate, effectiveBurst(quota));
      job.tokensTaken = this.tokensNeeded(quota, job);
      bucket.take(job.tokensTaken);
    }
    tenant.queued--;
    tenant.inFlight++;
    const running = tenant.running as JobRecord[];
    job.runningIndex = running.length;
    running.push(job);
    if (tenant.classInFlight !== null) tenant.classInFlight.set(job.jobClass, (tenant.classInFlight.get(job.jobClass) ?? 0) + 1);
    job.state = 'running';
    job.runningTier = slotTier;
    slotTier.inUse++;
    this.queuedJobs--;
    this.runningJobs++;
    this.refresh(tenant, now);
    return { job: job.spec, tier: slotTier.name };
  }

  /**
   * The job a winning lane sends: its head, or in a dense tier, while GPS shares the slots among
   * several of the lane's jobs below its demand (level-limited), the queued job of the head's
   * priority that the reference GPS finishes first: a short job behind a long one of the same tenant
   * finishes first there, and sending the head instead put another tenant's job past GPS + L_max (the
   * random search's lending trace, docs/scheduling.md). A lane GPS serves at its full demand (its cap
   * or its job count) keeps its order: there GPS runs its jobs one slot each in that order, and
   * sending the shortest first put a long job of bench:fairness's capped whale past the bound.
   */
  private takeNext(lane: Lane): JobRecord {
    const pick = lane.firstFinishing;
    if (
      pick !== null &&
      pick.state === 'queued' &&
      pick.tenant === lane.tenant &&
      pick.homeTier === lane.tier &&
      lane.fluidRate < lane.fluidDemand - 1e-9 &&
      lane.tenant.quota.maxInFlight === undefined &&
      lane.tier.keyedInRealTime(lane)
    ) {
      const head = lane.jobs.peek();
      if (head !== undefined && pick !== head && pick.heapKey === head.heapKey && lane.jobs.remove(pick)) return pick;
    }
    return lane.jobs.pop() as JobRecord;
  }

  private processWakes(now: number): void {
    for (let top = this.wake.peek(); top !== undefined && top.wakeAt <= now; top = this.wake.peek()) {
      this.wake.remove(top);
      this.refresh(top, now);
    }
  }

  /**
   * Recomputes where `tenant` stands after anything about it changed: which of its lanes are in
   * their tier's ready heap and with what key, and whether it waits in the wake-up heap. O(T log n).
   */
  private refresh(tenant: TenantState, now: number): void {
    const lanes = tenant.lanes;
    if (lanes === null) return;
    if (tenant.queued === 0) {
      for (const lane of lanes) if (lane !== undefined) this.leaveReady(lane);
      this.wake.remove(tenant);
      if (tenant.inFlight === 0) {
        // Idle: keep only quota, virtual time and bucket (the idle-tenant memory budget).
        // Its lanes and running list are empty now: keep them for the next tenant that activates,
        // so that tenants coming and going allocate nothing.
        let backlogged = false;
        for (const lane of lanes) if (lane !== undefined && lane.backlogged()) backlogged = true;
        if (backlogged) tenant.departingLanes = lanes;
        else if (this.spareLaneSets.length < MAX_SPARE_LANE_SETS) this.spareLaneSets.push(lanes);
        if (this.spareRunningLists.length < MAX_SPARE_LANE_SETS) this.spareRunningLists.push(tenant.running as JobRecord[]);
        tenant.lanes = null;
        tenant.running = null;
        tenant.classInFlight = null;
        this.activeTenants--;
      }
      return;
    }
    const quota = tenant.quota;
    const capped = quota.maxInFlight !== undefined && tenant.inFlight >= quota.maxInFlight;
    const bucket = quota.rate === undefined ? undefined : tenant.bucket;
    if (bucket !== undefined) bucket.refill(now, quota.rate as number, effectiveBurst(quota));
    let wakeAt = Infinity;
    for (const lane of lanes) {
      if (lane === undefined) continue;
      if (quota.maxInFlightByClass !== undefined || lane.parked !== null) this.applyClassCaps(tenant, lane);
      const head = lane.jobs.peek();
      if (head === undefined || capped) {
        this.leaveReady(lane);
        continue;
      }
      if (bucket !== undefined) {
        const needed = this.tokensNeeded(quota, head);
        if (!bucket.has(needed)) {
          const at = bucket.readyAt(needed, quota.rate as number);
          // `at <= now` only through rounding at very large clock values; treat as ready.
          if (at > now) {
            this.leaveReady(lane);
            if (at < wakeAt) wakeAt = at;
            continue;
          }
        }
      }
      // Keyed by the head job's finish in the tier's reference GPS system: no lift is needed, time
      // spent idle or blocked is what GPS did (or did not) serve the lane meanwhile.
      lane.tier.enterReady(lane, head, now);
    }
    if (wakeAt !== Infinity) {
      tenant.wakeAt = wakeAt;
      this.wake.upsert(tenant);
    } else {
      this.wake.remove(tenant);
    }
  }

  private leaveReady(lane: Lane): void {
    lane.tier.leaveReady(lane);
  }

  /** One more job in `lane` (queued, parked or running): it enters the tier's reference GPS. */
  private addPending(lane: Lane, job: JobRecord, now: number): void {
    const tier = lane.tier;
    if (lane.pending++ === 0) tier.activeLanes++;
    tier.settle(now);
    tier.addJob(lane, job, lane.tenant.quota.weight, now);
  }

  /** One job fewer in `lane`; the tier idles when the last job of its last lane leaves. */
  private removePending(lane: Lane, now: number): void {
    if (--lane.pending === 0 && --lane.tier.activeLanes === 0) lane.tier.idle();
    else lane.tier.demandChanged(lane, now);
  }

  /** Moves jobs between the lane and its per-class parking so the lane's head is never capped. */
  private applyClassCaps(tenant: TenantState, lane: Lane): void {
    const caps = tenant.quota.maxInFlightByClass;
    if (lane.parked !== null) {
      for (const [jobClass, parked] of lane.parked) {
        const cap = caps?.[jobClass];
        let room = cap === undefined ? Infinity : cap - this.classCount(tenant, jobClass);
        for (; room > 0 && parked.size > 0; room--) {
          const job = parked.pop() as JobRecord;
          job.state = 'queued';
          lane.jobs.push(job);
        }
        if (parked.size === 0) lane.parked.delete(jobClass);
      }
      if (lane.parked.size === 0) lane.parked = null;
    }
    if (caps === undefined) return;
    for (let head = lane.jobs.peek(); head !== undefined; head = lane.jobs.peek()) {
      const cap = caps[head.jobClass];
      if (cap === undefined || this.classCount(tenant, head.jobClass) < cap) break;
      lane.jobs.pop();
      head.state = 'parked';
      lane.parked ??= new Map();
      let parked = lane.parked.get(head.jobClass);
      if (parked === undefined) {
        parked = new KeyedHeap<JobRecord>();
        lane.parked.set(head.jobClass, parked);
      }
      parked.push(head);
    }
  }

  /** The tier whose free slot `tier`'s jobs would get now: its own, else a lender's. */
  private slotFor(tier: TierState): TierState | undefined {
    if (tier.inUse < tier.slots) return tier;
    return this.tiers.find((lender) => lender.inUse < lender.slots && lender.readyCount === 0 && lender.borrowers.includes(tier));
  }

  private borrowLeader(lender: TierState, now: number): Lane | undefined {
    let best: Lane | undefined;
    let bestKey = Infinity;
    for (const borrower of lender.borrowers) {
      const lane = borrower.leader(now, true);
      if (lane !== undefined && (best === undefined || borrower.leaderKey < bestKey)) {
        best = lane;
        bestKey = borrower.leaderKey;
      }
    }
    return best;
  }

  /** A ready lane's key as a virtual finish tag of its tier (a dense tier's real keys converted). */
  private virtualTag(lane: Lane, now: number): number {
    const tier = lane.tier;
    if (!tier.keyedInRealTime(lane)) return lane.finishTag;
    tier.settle(now);
    return tier.virtualTimeOf(lane.finishTag);
  }
}
