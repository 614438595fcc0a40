import { FluidJob } from './fluid-job';
import { KeyedHeap, PackedKeyedHeap } from './keyed-heap';
import type { KeyedItem } from './keyed-heap';
import type { JobRecord, Lane } from './scheduler-state';

/** Breakpoints of the virtual time kept to place past virtual tags in real time (see `realTimeOf`). */
const HISTORY = 1024;

/**
 * Whether a dense tier may skip the full water-fill when its answer is known (a lane joining, GPS
 * finishing jobs: see `TierState.refillJoined`, `refillChanged`). Always on in production; only
 * `water-fill-join.test.ts` turns it off, to run the same traces through the full water-fill and
 * check that every job starts at the same instant in the same tier. Kept as a test hook on purpose:
 * that test is what shows the shortcuts change the cost only (it caught a slip the random traces
 * did not), it needs both paths on one trace, and the other ways to reach them (a scheduler option,
 * or the test reaching into a scheduler's private tiers) would put the hook into the public API or
 * tie the test to private fields. Internal (never exported from the lib), read at three places.
 */
export const waterFillShortcuts = { enabled: true };

/** Work (slot-ms) below which GPS has finished a job, plus a relative part for large clock values. */
function doneBelow(at: number): number {
  return 1e-9 + 1e-15 * Math.abs(at);
}

/**
 * A lane's backlog in its tier's sparse reference GPS system: in the tier's `gps` heap, keyed by its
 * GPS finish in virtual time. Unused while the tier is dense (the per-job reference holds it then).
 */
export class GpsShare implements KeyedItem {
  heapIndex = -1;
  /** GPS finish of the lane's backlog in the tier's virtual time. */
  heapKey = 0;
  heapTie = 0;
  /** Weight the lane is served with in GPS (the tenant's weight). */
  weight = 0;

  constructor(readonly lane: Lane) {}
}

/**
 * One capacity tier at run time, with its reference GPS clock: water-filled GPS over the tier's
 * `slots` (the fluid ideal of the simulator). A GPS-backlogged lane i can use at most
 * `d_i = min(jobs GPS holds of it, maxInFlight)` slots and gets `min(d_i, level * w_i)`, the level
 * chosen so that the slots are used up; a lane's rate goes to its jobs in order, one slot each, the
 * last served job the fraction.
 *
 * Two representations of the same reference, chosen by how many lanes share the slots:
 *
 * - **Sparse** (the level-limited weight is at least `slots * maxWeight`): the level is at most
 *   `1 / maxWeight`, so no lane gets more than one slot, GPS serves a lane's jobs one after another
 *   and the lane's backlog is all it needs. The tier's virtual time `V` advances at
 *   `slots / (sum of weights)`, a lane's GPS finish is `V` at its start plus its work over its
 *   weight (WFQ), one heap update per enqueue, one removal per lane leaving GPS. Ready lanes sit in
 *   `ready`, keyed in virtual time.
 * - **Dense** (below that weight; left again above twice it, so switching is amortised over the lanes
 *   that join or leave): few lanes for the slots, so a lane can get several slots and its jobs run
 *   side by side in GPS. The reference is then kept job by job ({@link FluidJob}): at every fluid
 *   event (an arrival, a GPS finish, a cancel, a cost correction, a cap, weight or slot change) the
 *   lanes are water-filled and each lane's first jobs get one slot each, the next the fraction:
 *   O(lanes log lanes + slots) per event. A job GPS finishes records that instant
 *   (`JobRecord.fluidFinish`). A ready lane is keyed in real ms by the earliest GPS finish among its
 *   waiting jobs, recorded or projected at the current rates (see `denseKey`), in `readyReal`, or in
 *   `readyAhead` while GPS has not begun its head job (see `leader`).
 */
export class TierState {
  inUse = 0;
  /** Tiers whose jobs may borrow this tier's idle slots. */
  borrowers: TierState[] = [];
  /** Sparse tier: ready lanes keyed by the virtual GPS finish of their head job. */
  readonly ready = new PackedKeyedHeap<Lane>();
  /**
   * Dense tier: ready lanes whose head job GPS has begun to serve (or finished), keyed by the earliest
   * real GPS finish (ms) among their waiting jobs: recorded, or projected at the current rates.
   */
  readonly readyReal = new KeyedHeap<Lane>();
  /**
   * Dense tier: ready lanes whose head job GPS has not begun to serve (the real system is ahead of
   * GPS on them), keyed by the finish GPS would give it at the current rates. They go after every
   * lane of `readyReal` (see `leader`).
   */
  readonly readyAhead = new KeyedHeap<Lane>();
  /** Order of entry into a ready heap; breaks key ties first-come first-served. */
  private readySeq = 0;
  /** Set by `denseKey`: whether the key it returned is a projection for a job GPS has not begun. */
  private keyAhead = false;
  /** Virtual time of the reference GPS system at real time `clockAt`. */
  virtualTime = 0;
  /** Real time (ms) at which `virtualTime` was last settled. */
  clockAt = 0;
  /** Sum of the weights of the GPS-backlogged lanes. */
  gpsWeight = 0;
  /** Sparse tier: GPS-backlogged lanes by GPS finish (virtual time), the next to leave on top. */
  readonly gps = new PackedKeyedHeap<GpsShare>();
  /** Whether the reference is kept job by job (few lanes for the slots, see the class comment). */
  dense = false;
  /** Largest weight any lane has had in this tier's GPS (only grows: it bounds who can get a slot). */
  private maxWeight = 0;
  private gpsSeq = 0;
  /** Lanes with jobs queued, parked or running; 0 means the tier is idle. */
  activeLanes = 0;
  /** Largest virtual finish tag dispatched in this tier (the clock's floor once the tier idles). */
  maxFinishTag = 0;
  /** Real-time key of the lane last returned by {@link TierState.leader}. */
  leaderKey = 0;
  /** Dense tier: lanes GPS still holds jobs of. */
  private readonly fluidLanes: Lane[] = [];
  /** Dense tier: the jobs GPS serves now (rate > 0), at most slots + lanes of them: the first `ratedCount`. */
  private readonly rated: FluidJob[] = [];
  private ratedCount = 0;
  /** Dense tier: time (ms) at which the `remaining` of the rated jobs was last brought up to date. */
  private fluidAt = 0;
  /** Dense tier: the next GPS finish at the current rates, and the job it finishes. */
  private nextFluidAt = Infinity;
  private nextFluidJob: FluidJob | null = null;
  /** Dense tier: the water level (slots per unit weight of the level-limited lanes), 0 if none is. */
  private level = 0;
  /** Dense tier: rates changed since the ready lanes were keyed. */
  private keysStale = false;
  /**
   * Dense tier: the last water-fill, kept while it was level-limited with whole demands and weights
   * and brought up to date as lanes join or their demand falls (see `refillJoined`,
   * `refillChanged`): total demand, the capacity and weight left to the level-limited lanes, and the
   * largest demand per weight among the saturated ones (as a demand and a weight; an upper bound
   * once a demand fell).
   */
  private fillValid = false;
  private fillDemand = 0;
  private fillCapacity = 0;
  private fillWeight = 0;
  private fillMaxDemand = 0;
  private fillMaxWeight = 1;
  /** ...and the smallest demand per weight among the level-limited ones (a lower bound after a fall). */
  private fillMinDemand = 0;
  private fillMinWeight = 1;
  private readonly spareFluid: FluidJob[] = [];
  /** Ring of (real time, virtual time) at the last changes of speed, oldest first from `historyStart`. */
  private readonly historyAt = new Float64Array(HISTORY);
  private readonly historyV = new Float64Array(HISTORY);
  private historyStart = 0;
  private historySize = 0;
  private readonly scratchWork: number[] = [];
  /** Called with an idle tenant's lanes once GPS has caught up with all of them (see `departed`). */
  lanesReleased: ((lanes: Array<Lane | undefined>) => void) | null = null;
  /** Scratch list of the lanes `rekey` re-keys (kept to allocate nothing per event). */
  private readonly rekeyed: Lane[] = [];

  constructor(
    readonly name: string,
    readonly index: number,
    public slots: number,
  ) {}

  /** Speed of the virtual time (slots per unit weight of a level-limited lane), 0 when none is. */
  rate(): number {
    if (this.dense) return this.level;
    return this.gpsWeight > 0 ? this.slots / this.gpsWeight : 0;
  }

  /**
   * Brings the reference up to real time `now` (never backwards): sparse, the virtual time, retiring
   * lanes as it passes their GPS finish; dense, every GPS finish up to `now`, in order, each one
   * re-levelling the tier. Amortised O(log n) per job sparse, O(lanes log lanes + slots) per job dense.
   */
  settle(now: number): number {
    if (now <= this.clockAt) return this.virtualTime;
    if (!this.dense) {
      let at = this.clockAt;
      for (;;) {
        const top = this.gps.peek();
        if (top === undefined || this.gpsWeight <= 0) {
          this.clockAt = now;
          return this.virtualTime;
        }
        // The heap's keys may lag the lanes' (an enqueue raises a key lazily, see `addGpsWork`): no
        // key is below the heap's smallest, so nothing leaves before that one is reached.
        const leaves = at + ((this.gps.topKey() - this.virtualTime) * this.gpsWeight) / this.slots;
        if (leaves > now) {
          this.virtualTime += ((now - at) * this.slots) / this.gpsWeight;
          this.clockAt = now;
          return this.virtualTime;
        }
        if (top.heapKey > this.gps.topKey()) {
          this.gps.update(top);
          continue;
        }
        if (leaves > at) at = leaves;
        if (top.heapKey > this.virtualTime) this.virtualTime = top.heapKey;
        this.clockAt = at;
        this.leaveGps(top);
        if (this.checkMode(at)) break;
      }
    }
    while (this.nextFluidAt <= now) this.fluidEvent(this.nextFluidAt);
    this.advanceTo(now);
    return this.virtualTime;
  }

  /**
   * Real time (ms) at which the virtual time reaches `tag`: at the current level for a tag ahead; for
   * a tag already passed (an overdue job), where the virtual time's recent history places it
   * (extrapolated from the oldest change kept when it is older still).
   */
  realTimeOf(tag: number): number {
    const gap = tag - this.virtualTime;
    const rate = this.rate();
    if (gap < 0 && this.historySize > 0) return this.pastTimeOf(tag);
    if (rate > 0) return this.clockAt + gap / rate;
    return gap <= 0 ? this.clockAt + gap : Infinity;
  }

  /** Records that the virtual time's speed changes at `clockAt` (call with the clock settled). */
  private mark(): void {
    const last = (this.historyStart + this.historySize - 1) % HISTORY;
    if (this.historySize > 0 && this.historyAt[last] === this.clockAt) {
      this.historyV[last] = this.virtualTime;
      return;
    }
    let slot: number;
    if (this.historySize < HISTORY) {
      slot = (this.historyStart + this.historySize) % HISTORY;
      this.historySize++;
    } else {
      slot = this.historyStart;
      this.historyStart = (this.historyStart + 1) % HISTORY;
    }
    this.historyAt[slot] = this.clockAt;
    this.historyV[slot] = this.virtualTime;
  }

  /** Earliest real time at which the (monotone) virtual time reached `tag` < `virtualTime`. */
  private pastTimeOf(tag: number): number {
    const size = this.historySize;
    // Smallest k whose point has reached the tag (point `size` is now, which has).
    let low = 0;
    let high = size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.historyPointV(mid) >= tag) high = mid;
      else low = mid + 1;
    }
    if (low === 0) {
      // Older than the history: extrapolate at the speed of its first segment.
      const speed = (this.historyPointV(1) - this.historyPointV(0)) / (this.historyPointAt(1) - this.historyPointAt(0) || 1);
      return speed > 0 ? this.historyPointAt(0) - (this.historyPointV(0) - tag) / speed : this.historyPointAt(0);
    }
    const dv = this.historyPointV(low) - this.historyPointV(low - 1);
    const before = this.historyPointAt(low - 1);
    return dv > 0 ? before + ((tag - this.historyPointV(low - 1)) * (this.historyPointAt(low) - before)) / dv : this.historyPointAt(low);
  }

  /** Real time of the k-th kept change of speed, oldest first; k = size is now. */
  private historyPointAt(k: number): number {
    return k < this.historySize ? (this.historyAt[(this.historyStart + k) % HISTORY] as number) : this.clockAt;
  }

  /** Virtual time of the k-th kept change of speed, oldest first; k = size is now. */
  private historyPointV(k: number): number {
    return k < this.historySize ? (this.historyV[(this.historyStart + k) % HISTORY] as number) : this.virtualTime;
  }

  /** The virtual time that corresponds to real time `at` at the current level. */
  virtualTimeOf(at: number): number {
    return this.virtualTime + (at - this.clockAt) * this.rate();
  }

  /**
   * The ready lane whose head job GPS finishes first. Sets `leaderKey` to that finish in real time
   * when `needKey` (comparisons across tiers; a dense tier always sets it).
   *
   * Dense, a lane whose head job GPS has not begun to serve goes after every lane whose head GPS
   * has begun (or finished), whatever their projected finishes: WF2Q's eligibility rule (serve the
   * smallest GPS finish among the jobs whose GPS start has passed). The real system is already
   * ahead of GPS on such a lane, and the projection assumes no more arrivals, which flatters a job
   * whose GPS start is still to come. (Ranking by projection alone ran the two background tenants
   * of bench:fairness's tenant-churn-10k ahead of the visitors and left 2 of their jobs 1.8 ms past
   * GPS + L_max; the clairvoyant order has none. Ranking every head GPS does not serve *now* last
   * put a job GPS had half done behind a later one: the random search's three-tier shape.)
   */
  leader(now: number, needKey: boolean): Lane | undefined {
    // Settled first: settling can turn a sparse tier dense (its lanes then move to the real-time heaps).
    if (this.dense || needKey) this.settle(now);
    if (this.dense) {
      if (this.keysStale) this.rekey();
      const lane = this.readyReal.peek() ?? this.readyAhead.peek();
      if (lane !== undefined) this.leaderKey = lane.heapKey;
      return lane;
    }
    const lane = this.ready.peek();
    if (needKey && lane !== undefined) this.leaderKey = this.realTimeOf(lane.heapKey);
    return lane;
  }

  /** Lanes of this tier in a ready heap. */
  get readyCount(): number {
    return this.ready.size + this.readyReal.size + this.readyAhead.size;
  }

  /** Whether `lane` is in one of this tier's ready heaps. */
  isReady(lane: Lane): boolean {
    return this.ready.has(lane) || this.readyReal.has(lane) || this.readyAhead.has(lane);
  }

  /** Whether `lane` is ready with a key in real ms (a dense tier). */
  keyedInRealTime(lane: Lane): boolean {
    return this.readyReal.has(lane) || this.readyAhead.has(lane);
  }

  /**
   * Puts `lane`, whose head job is `head`, in the ready heap it belongs in with its key, settled to
   * `now`: sparse, its head's virtual GPS finish in `ready`; dense, its real GPS finish in
   * `readyReal` or, when GPS does not serve the head yet, `readyAhead`.
   */
  enterReady(lane: Lane, head: JobRecord, now: number): void {
    if (this.dense || !Number.isNaN(head.fluidFinish)) this.settle(now);
    if (!this.dense) {
      lane.heapKey = this.sparseKey(lane, head);
      if (this.ready.has(lane)) {
        this.ready.update(lane);
      } else {
        lane.heapTie = this.readySeq++;
        this.ready.push(lane);
      }
      return;
    }
    if (this.keysStale) {
      // The rates changed since the ready lanes were keyed, so the next `leader` re-keys every ready
      // lane from scratch (`rekey`), this one included, and puts it in the heap its key says: a key
      // computed now would be thrown away (the churn scenario's visitors entered this way after
      // each arrival's water-fill, a third of its dense keys). The lane only has to be in one of
      // the two heaps, with its order of entry (`heapTie`) kept if it already was; the heaps stay
      // valid heaps under the keys they hold, and the top after `rekey` is the same, ties being
      // unique.
      if (!this.readyReal.has(lane) && !this.readyAhead.has(lane)) {
        lane.heapTie = this.readySeq++;
        this.readyReal.push(lane);
      }
      return;
    }
    lane.heapKey = this.denseKey(lane, head);
    const heap = this.keyAhead ? this.readyAhead : this.readyReal;
    if (heap.has(lane)) {
      heap.update(lane);
      return;
    }
    if (!(this.keyAhead ? this.readyReal : this.readyAhead).remove(lane)) lane.heapTie = this.readySeq++;
    heap.push(lane);
  }

  /** Takes `lane` out of the ready heaps (nothing it could run now). */
  leaveReady(lane: Lane): void {
    if (this.ready.remove(lane)) return;
    if (this.readyReal.size > 0 && this.readyReal.remove(lane)) return;
    if (this.readyAhead.size > 0) this.readyAhead.remove(lane);
  }

  /**
   * Sparse key: GPS serves a lane's jobs in order, so the head job's GPS finish is the lane's GPS
   * finish less the work queued behind it; a job GPS finished while it waited keeps that finish
   * (recorded by a dense period, or the lane's lag, see `Lane.lagJobs`).
   */
  private sparseKey(lane: Lane, head: JobRecord): number {
    if (!Number.isNaN(head.fluidFinish)) return this.virtualTimeOf(head.fluidFinish);
    const share = lane.gps;
    if (lane.isLagging(head)) return lane.lagKey - (lane.lagCost - head.gpsWork) / share.weight;
    const behind = lane.waitingCost - lane.lagCost - head.gpsWork;
    return share.heapKey - behind / share.weight;
  }

  /**
   * Dense key: the head job's GPS finish in real ms, recorded if GPS finished it, else projected.
   * Sets `keyAhead` when GPS does not serve the head yet.
   */
  private denseKey(lane: Lane, head: JobRecord): number {
    this.keyAhead = false;
    lane.firstFinishing = head;
    if (!Number.isNaN(head.fluidFinish)) {
      const finished = lane.earliestFinished();
      if (!(finished < head.fluidFinish)) return head.fluidFinish;
      lane.firstFinishing = lane.earliestFinishedJob();
      return finished;
    }
    const fluid = head.fluid;
    if (fluid === null) {
      // GPS finished it while the tier was sparse, and its lane was not in reach when it turned dense.
      if (lane.isLagging(head)) return this.realTimeOf(lane.lagKey - (lane.lagCost - head.gpsWork) / lane.gps.weight);
      return this.clockAt;
    }
    let key: number;
    if (fluid.rate > 0) {
      key = this.fluidAt + fluid.remaining / fluid.rate;
    } else {
      this.keyAhead = !fluid.started;
      key = this.project(lane, fluid);
    }
    // GPS runs a lane's jobs side by side, so a later job of the lane can finish first (a short one
    // behind a long one): the lane takes its place in the tier from the earliest GPS finish among its
    // waiting jobs, and that job is the one it sends (`Lane.firstFinishing`).
    const finished = lane.earliestFinished();
    if (finished < key) {
      this.keyAhead = false;
      lane.firstFinishing = lane.earliestFinishedJob();
      return finished;
    }
    for (let job = lane.fluidFirst; job !== null && job.rate > 0; job = job.next) {
      const record = job.record;
      if (record === null || record === head || record.state === 'running') continue;
      const at = this.fluidAt + job.remaining / job.rate;
      if (at < key) {
        key = at;
        this.keyAhead = false;
        lane.firstFinishing = record;
      }
    }
    return key;
  }

  /**
   * GPS finish of a job GPS does not serve yet, if the current rates held: the lane's first jobs get
   * one slot each, the next the fraction, and each job that finishes hands its place on. O(p * r)
   * for the job's position p in the lane's reference and the lane's rate r (both at most a few
   * slots' worth: a head GPS does not serve is one the real system is ahead on).
   */
  private project(lane: Lane, fluid: FluidJob): number {
    const rate = lane.fluidRate;
    if (!(rate > 0)) return Infinity;
    const whole = Math.floor(rate + 1e-9);
    const fraction = rate - whole > 1e-9 ? rate - whole : 0;
    // The scratch list is overwritten and counted, never truncated (setting an array's length is a
    // runtime call): entries from `count` on are left over from an earlier projection.
    const work = this.scratchWork;
    let count = 0;
    let target = -1;
    for (let job = lane.fluidFirst; job !== null; job = job.next) {
      work[count++] = job.remaining;
      if (job === fluid) {
        target = count - 1;
        break;
      }
    }
    if (target < 0) return Infinity;
    let at = this.fluidAt;
    for (;;) {
      const served = Math.min(count, whole + (fraction > 0 ? 1 : 0));
      let step = Infinity;
      for (let i = 0; i < served; i++) {
        const next = (work[i] as number) / (i < whole ? 1 : fraction);
        if (next < step) step = next;
      }
      if (step === Infinity) return Infinity;
      at += step;
      for (let i = served - 1; i >= 0; i--) {
        const left = (work[i] as number) - (i < whole ? 1 : fraction) * step;
        work[i] = left;
        if (left <= doneBelow(at)) {
          if (i === target) return at;
          // Removed by shifting (splice would allocate the array of what it removes).
          for (let k = i + 1; k < count; k++) work[k - 1] = work[k] as number;
          count--;
          if (i < target) target--;
        }
      }
    }
  }

  /** Dense: re-keys every ready lane after the rates changed (O(lanes log lanes)). */
  private rekey(): void {
    this.keysStale = false;
    // Every key may have moved: the heaps are emptied and rebuilt in O(lanes), no removal one by one.
    // The scratch list is overwritten, never truncated (setting an array's length is a runtime
    // call): entries past `count` are stale lanes of an earlier re-key, never read.
    const lanes = this.rekeyed;
    const count = this.readyAhead.drainInto(lanes, this.readyReal.drainInto(lanes, 0));
    // Partitioned in place: lanes keyed in real time first, those GPS has not begun after them.
    let real = 0;
    for (let i = 0; i < count; i++) {
      const lane = lanes[i] as Lane;
      lane.heapKey = this.denseKey(lane, lane.jobs.peek() as JobRecord);
      if (!this.keyAhead) {
        lanes[i] = lanes[real] as Lane;
        lanes[real++] = lane;
      }
    }
    this.readyReal.pushAll(lanes, 0, real);
    this.readyAhead.pushAll(lanes, real, count);
  }

  /** A job joined `lane` (queued last, already counted in its waiting cost); settle first. */
  addJob(lane: Lane, job: JobRecord, weight: number, now: number): void {
    if (this.dense) this.addFluid(lane, job, job.estimate, weight, now, false);
    else this.addGpsWork(lane.gps, weight, job.estimate / weight, now);
  }

  /** A queued job was cancelled; settle first. */
  cancelJob(lane: Lane, job: JobRecord, weight: number, now: number): void {
    if (this.dense) {
      const fluid = job.fluid;
      if (fluid === null) return;
      this.advanceTo(now);
      job.fluid = null;
      this.removeFluid(fluid);
      this.refill();
    } else if (Number.isNaN(job.fluidFinish)) {
      this.removeGpsWork(lane.gps, job.estimate / weight, now);
    }
  }

  /**
   * A job completed with a real cost `delta` ms above its estimate (below if negative); settle
   * first. The reference is given the real cost: GPS keeps serving a job it had not finished for
   * `delta` more (less), and a lane GPS already retired stays out.
   */
  correctCost(lane: Lane, job: JobRecord, delta: number, weight: number, now: number): void {
    if (this.dense) {
      this.advanceTo(now);
      const fluid = job.fluid;
      if (fluid !== null) {
        fluid.remaining += delta;
        if (fluid.remaining <= doneBelow(now)) this.finish(fluid, now);
        this.refill();
      } else if (delta > 0 && lane.fluidCount > 0) {
        // GPS finished it too early: the lane owes the rest, served first (it is the lane's oldest).
        this.addFluid(lane, null, delta, weight, now, true);
      }
      return;
    }
    const correction = delta / job.chargedWeight;
    if (correction > 0 && lane.gps.heapIndex >= 0) this.addGpsWork(lane.gps, weight, correction, now);
    else if (correction < 0) this.removeGpsWork(lane.gps, -correction, now);
  }

  /** A live weight change of a GPS-backlogged lane re-rates the reference from now on (settle first). */
  reweightGps(lane: Lane, weight: number, now: number): void {
    const share = lane.gps;
    if (this.dense) {
      if (lane.fluidCount === 0) return;
      this.advanceTo(now);
      this.gpsWeight += weight - share.weight;
      share.weight = weight;
      if (weight > this.maxWeight) this.maxWeight = weight;
      this.refill();
      this.checkMode(now);
      return;
    }
    if (share.heapIndex < 0) return;
    this.mark();
    this.gpsWeight += weight - share.weight;
    share.weight = weight;
    if (weight > this.maxWeight) this.maxWeight = weight;
    this.checkMode(now);
  }

  /**
   * The lane's tenant's `maxInFlight` may have changed (or a job arrived or left). Only a dense tier
   * cares: there the lane's demand is `min(jobs GPS holds, maxInFlight)`.
   */
  demandChanged(lane: Lane, now: number): void {
    if (!this.dense || lane.fluidCount === 0) return;
    this.settle(now);
    if (!this.dense || lane.fluidCount === 0 || this.demandOf(lane) === lane.fluidDemand) return;
    this.advanceTo(now);
    this.refill();
  }

  /** The tier was resized (settle first). */
  slotsChanged(now: number): void {
    this.mark();
    if (this.dense) {
      this.advanceTo(now);
      this.refill();
    }
    this.checkMode(now);
  }

  /**
   * The tier has no job left: GPS would have finished everything, so the clock moves to the largest
   * finish tag dispatched and no lane carries a lead or a debt into the next busy period.
   */
  idle(): void {
    if (this.dense) {
      for (const lane of this.fluidLanes) {
        for (let job = lane.fluidFirst; job !== null;) {
          const next = job.next;
          if (job.record !== null) job.record.fluid = null;
          this.recycle(job);
          job = next;
        }
        emptyFluid(lane);
        this.departed(lane);
      }
      this.fluidLanes.length = 0;
      this.ratedCount = 0;
      this.nextFluidAt = Infinity;
      this.nextFluidJob = null;
      this.level = 0;
      this.keysStale = false;
      this.fillValid = false;
      this.dense = false;
    }
    for (let top = this.gps.peek(); top !== undefined; top = this.gps.peek()) this.leaveGps(top);
    this.gpsWeight = 0;
    if (this.maxFinishTag > this.virtualTime) this.virtualTime = this.maxFinishTag;
    // Nothing waits any more, so no past tag needs placing: the jump above is no change of speed.
    this.historySize = 0;
  }

  /**
   * Sparse: gives a lane `work` (estimate / weight) more GPS backlog; call after `settle(now)`. The
   * heap is not re-ordered for a lane already in it: its key only grew, and `settle` re-sifts it if
   * it reaches the top with a key the heap has not seen (one sift per lane reaching the top, not one
   * per enqueue: with thousands of lanes most are re-keyed many times before they leave GPS).
   */
  private addGpsWork(share: GpsShare, weight: number, work: number, now: number): void {
    if (share.heapIndex >= 0) {
      share.heapKey += work;
      return;
    }
    share.heapKey = this.virtualTime + work;
    share.heapTie = this.gpsSeq++;
    share.weight = weight;
    this.mark();
    this.gpsWeight += weight;
    if (weight > this.maxWeight) this.maxWeight = weight;
    this.gps.push(share);
    this.checkMode(now);
  }

  /** Sparse: takes `work` back from a GPS-backlogged lane (a cancelled job, a job cheaper than estimated). */
  private removeGpsWork(share: GpsShare, work: number, now: number): void {
    if (share.heapIndex < 0) return;
    share.heapKey -= work;
    if (share.heapKey > this.virtualTime) {
      this.gps.update(share);
      return;
    }
    this.leaveGps(share);
    this.checkMode(now);
  }

  /** Sparse: a lane GPS has finished. Jobs still waiting keep that finish as their key (lag). */
  private leaveGps(share: GpsShare): void {
    this.mark();
    this.gps.remove(share);
    this.gpsWeight -= share.weight;
    const lane = share.lane;
    if (lane.waitingCost > 0) {
      lane.lagKey = share.heapKey;
      lane.lagCost = lane.waitingCost;
      lane.lagJobs = lane.jobs.size + lane.parkedCount();
      lane.lagBefore = Infinity;
    }
    // Summing and subtracting floats drifts; the last lane leaving resets the sum exactly.
    if (this.gps.size === 0 || this.gpsWeight < 1e-12) this.gpsWeight = 0;
    this.departed(lane);
  }

  /** GPS may have caught up with an idle tenant: nothing to continue from any more. */
  private departed(lane: Lane): void {
    const tenant = lane.tenant;
    const departing = tenant.departingLanes;
    if (departing === null) return;
    for (const other of departing) if (other !== undefined && other.backlogged()) return;
    tenant.departingLanes = null;
    // Its lanes are empty and out of every GPS system: the scheduler reuses them for the next
    // tenant that activates (dropped, they were a new Lane, heap and list per returning visitor).
    this.lanesReleased?.(departing);
  }

  /**
   * Switches representation when the level-limited weight crossed its threshold (see the class
   * comment); the clock must be settled to `at`. Returns whether the tier is dense now.
   */
  private checkMode(at: number): boolean {
    if (!this.dense) {
      if (this.gpsWeight > 0 && this.gpsWeight < this.slots * this.maxWeight) this.enterDense(at);
    } else if (this.gpsWeight > 2 * this.slots * this.maxWeight) {
      this.leaveDense(at);
    }
    return this.dense;
  }

  /**
   * Sparse -> dense at `at`: each backlogged lane's GPS backlog is spread over its jobs. GPS served
   * the lane's jobs one after another (no lane had more than one slot), so the latest jobs hold the
   * remaining work and the earlier ones are finished: they record the finish the sparse clock gave
   * them. Work left over beyond the lane's jobs (jobs that completed ahead of GPS) stays as one
   * job-less entry at the front. O(jobs of the tier) once per switch.
   */
  private enterDense(at: number): void {
    for (const lane of this.ready.toArray()) {
      const head = lane.jobs.peek();
      if (head !== undefined && Number.isNaN(head.fluidFinish) && lane.isLagging(head)) head.fluidFinish = this.realTimeOf(lane.heapKey);
    }
    const shares = this.gps.toArray();
    // `jobs` null: the lane's entries are linked already (see `direct`).
    const entered: Array<{ lane: Lane; jobs: FluidJob[] | null; leftover: number }> = [];
    for (const share of shares) {
      const lane = share.lane;
      const weight = share.weight;
      const jobs = lane.outstandingJobs();
      let lagTag = lane.lagKey - lane.lagCost / weight;
      let tag = share.heapKey;
      // With the jobs' priorities in arrival order (one priority: most lanes), `link` would put each
      // entry after the ones before it, so the entries are linked as they are made, latest first,
      // each at the front (O(1), no list to reverse and walk); otherwise made first, linked after.
      let direct = true;
      for (let i = 1; direct && i < jobs.length; i++) if ((jobs[i - 1] as JobRecord).heapKey > (jobs[i] as JobRecord).heapKey) direct = false;
      const made: FluidJob[] | null = direct ? null : [];
      for (let i = jobs.length - 1; i >= 0; i--) {
        const job = jobs[i] as JobRecord;
        if (lane.isLagging(job) || !Number.isNaN(job.fluidFinish)) continue;
        if (tag <= this.virtualTime) {
          if (job.state !== 'running') job.fluidFinish = this.realTimeOf(tag);
        } else {
          const fluid = this.newFluid(lane, job, Math.min(job.gpsWork, (tag - this.virtualTime) * weight));
          if (made === null) this.link(lane, fluid, true);
          else made.push(fluid);
        }
        tag -= job.gpsWork / weight;
      }
      for (const job of jobs) {
        // Lagging jobs are all waiting ones GPS finished when the lane last left it, in order.
        if (job.state === 'running' || !lane.isLagging(job) || !Number.isNaN(job.fluidFinish)) continue;
        lagTag += job.gpsWork / weight;
        job.fluidFinish = this.realTimeOf(lagTag);
      }
      entered.push({ lane, jobs: made === null ? null : made.reverse(), leftover: tag > this.virtualTime ? (tag - this.virtualTime) * weight : 0 });
    }
    for (const share of shares) this.gps.remove(share);
    this.dense = true;
    this.level = 0;
    this.fluidAt = at;
    this.clockAt = at;
    let weight = 0;
    for (const { lane, jobs, leftover } of entered) {
      if (leftover > doneBelow(at)) {
        const owed = this.newFluid(lane, null, leftover);
        if (jobs === null) this.link(lane, owed, true);
        else jobs.unshift(owed);
      }
      if (jobs !== null) for (const job of jobs) this.link(lane, job, false);
      if (lane.fluidCount === 0) {
        this.departed(lane);
        continue;
      }
      lane.fluidIndex = this.fluidLanes.length;
      this.fluidLanes.push(lane);
      weight += lane.gps.weight;
    }
    this.gpsWeight = weight;
    for (const lane of this.ready.toArray()) {
      this.ready.remove(lane);
      this.readyReal.push(lane);
    }
    this.refill();
    this.rekey();
  }

  /**
   * Dense -> sparse at `at` (settled): many lanes for the slots again, so no lane gets more than one
   * slot; each lane's GPS backlog is the sum of what GPS still has to do of its jobs. Jobs GPS
   * finished keep their recorded finish.
   */
  private leaveDense(at: number): void {
    this.advanceTo(at);
    for (const lane of this.fluidLanes) {
      let work = 0;
      for (let job = lane.fluidFirst; job !== null;) {
        const next = job.next;
        work += job.remaining;
        const record = job.record;
        if (record !== null) {
          // Served side by side, the job may be partly done: the sparse backlog holds only the rest.
          if (record.state !== 'running') lane.waitingCost -= record.gpsWork - job.remaining;
          record.gpsWork = job.remaining;
          record.fluid = null;
        }
        this.recycle(job);
        job = next;
      }
      emptyFluid(lane);
      const share = lane.gps;
      share.heapKey = this.virtualTime + work / share.weight;
      share.heapTie = this.gpsSeq++;
      this.gps.push(share);
    }
    this.fluidLanes.length = 0;
    this.ratedCount = 0;
    this.nextFluidAt = Infinity;
    this.nextFluidJob = null;
    this.keysStale = false;
    this.fillValid = false;
    // The virtual time runs at the sparse speed from here on.
    this.dense = false;
    this.level = 0;
    const lanes = this.rekeyed;
    const count = this.readyAhead.drainInto(lanes, this.readyReal.drainInto(lanes, 0));
    for (let i = 0; i < count; i++) {
      const lane = lanes[i] as Lane;
      lane.heapKey = this.sparseKey(lane, lane.jobs.peek() as JobRecord);
      this.ready.push(lane);
    }
  }

  /** Dense: the lane's demand in GPS, min(jobs GPS holds of it, maxInFlight). */
  private demandOf(lane: Lane): number {
    const cap = lane.tenant.quota.maxInFlight;
    return cap !== undefined && cap < lane.fluidCount ? cap : lane.fluidCount;
  }

  /** Dense: brings the virtual time and the rated jobs' remaining work up to `at`. */
  private advanceTo(at: number): void {
    if (at > this.clockAt) {
      this.virtualTime += this.level * (at - this.clockAt);
      this.clockAt = at;
    }
    if (!this.dense || at <= this.fluidAt) return;
    const step = at - this.fluidAt;
    const rated = this.rated;
    for (let i = 0; i < this.ratedCount; i++) {
      const job = rated[i] as FluidJob;
      if (job.rate > 0) job.remaining -= job.rate * step;
    }
    this.fluidAt = at;
  }

  /** Dense: GPS finishes `nextFluidJob` (and any other job done by then) at `at`. */
  private fluidEvent(at: number): void {
    // `advanceTo(at)` and the finishing pass in one pass over the rated jobs: finishing a job touches
    // no other job's work or rate, so each job is brought up to `at` just before it is checked.
    if (at > this.clockAt) {
      this.virtualTime += this.level * (at - this.clockAt);
      this.clockAt = at;
    }
    const step = at > this.fluidAt ? at - this.fluidAt : 0;
    if (step > 0) this.fluidAt = at;
    const due = this.nextFluidJob;
    const limit = doneBelow(at);
    const rated = this.rated;
    for (let i = 0; i < this.ratedCount; i++) {
      const job = rated[i] as FluidJob;
      if (!(job.rate > 0)) continue;
      if (step > 0) job.remaining -= job.rate * step;
      if (job.lane !== null && (job === due || job.remaining <= limit)) this.finish(job, at);
    }
    this.refillChanged();
  }

  /** Dense: GPS finished `job` at `at`: its record keeps the instant, the job leaves the reference. */
  private finish(job: FluidJob, at: number): void {
    const record = job.record;
    if (record !== null) {
      record.fluid = null;
      record.fluidFinish = at;
      if (record.state !== 'running') (job.lane as Lane).recordFinished(record, at);
    }
    this.removeFluid(job);
  }

  /** Dense: a job enters the reference (call `refill` after, or let `addFluid` do it). */
  private addFluid(lane: Lane, record: JobRecord | null, work: number, weight: number, now: number, first: boolean): void {
    this.advanceTo(now);
    if (work <= doneBelow(now)) {
      if (record !== null) record.fluidFinish = now;
      this.keysStale = true;
      return;
    }
    const joins = lane.fluidCount === 0;
    const job = this.newFluid(lane, record, work);
    this.link(lane, job, first);
    if (joins) {
      lane.gps.weight = weight;
      lane.fluidIndex = this.fluidLanes.length;
      this.fluidLanes.push(lane);
      this.gpsWeight += weight;
      if (weight > this.maxWeight) this.maxWeight = weight;
    } else if (job.next === null && (lane.fluidRate < lane.fluidDemand - 1e-9 || this.demandOf(lane) === lane.fluidDemand)) {
      // Queued last in a lane that is level-limited (its rate is the level's, not its demand) or
      // already at its cap: the water-fill is unchanged and the lane's earlier jobs take all its
      // rate, so the job waits at rate 0 and no rate, key or next GPS finish moves.
      const demand = this.demandOf(lane);
      this.fillDemand += demand - lane.fluidDemand;
      lane.fluidDemand = demand;
      return;
    }
    if (joins) this.refillJoined(lane);
    else this.refill();
    this.checkMode(now);
  }

  private newFluid(lane: Lane, record: JobRecord | null, work: number): FluidJob {
    const job = this.spareFluid.pop() ?? new FluidJob();
    job.remaining = work;
    job.rate = 0;
    job.started = record !== null && work < record.estimate;
    job.record = record;
    job.lane = lane;
    job.order = record === null ? -Infinity : record.heapKey;
    if (record !== null) record.fluid = job;
    return job;
  }

  /** Links `job` into its lane's reference order: first, or after the jobs of its priority or higher. */
  private link(lane: Lane, job: FluidJob, first: boolean): void {
    let after: FluidJob | null = null;
    if (!first) {
      after = lane.fluidLast;
      while (after !== null && after.order > job.order) after = after.prev;
    }
    job.prev = after;
    job.next = after === null ? lane.fluidFirst : after.next;
    if (job.next !== null) job.next.prev = job;
    else lane.fluidLast = job;
    if (after !== null) after.next = job;
    else lane.fluidFirst = job;
    lane.fluidCount++;
  }

  /** Dense: unlinks a job from the reference; its lane leaves when it was the last. */
  private removeFluid(job: FluidJob): void {
    const lane = job.lane as Lane;
    if (job.prev !== null) job.prev.next = job.next;
    else lane.fluidFirst = job.next;
    if (job.next !== null) job.next.prev = job.prev;
    else lane.fluidLast = job.prev;
    this.recycle(job);
    const left = --lane.fluidCount;
    if (this.fillValid && waterFillShortcuts.enabled) this.demandFell(lane, left === 0 ? 0 : this.demandOf(lane));
    if (left > 0) return;
    const index = lane.fluidIndex;
    const last = this.fluidLanes.pop() as Lane;
    if (last !== lane) {
      this.fluidLanes[index] = last;
      last.fluidIndex = index;
    }
    lane.fluidIndex = -1;
    lane.fluidRate = 0;
    this.gpsWeight -= lane.gps.weight;
    if (this.fluidLanes.length === 0 || this.gpsWeight < 1e-12) this.gpsWeight = 0;
    this.departed(lane);
  }

  private recycle(job: FluidJob): void {
    job.prev = null;
    job.next = null;
    job.record = null;
    job.lane = null;
    job.rate = 0;
    job.started = false;
    this.spareFluid.push(job);
  }

  /**
   * Dense: water-fills the lanes at `fluidAt` (each gets `min(d, level * w)`, as `water-fill.ts`),
   * hands each lane's rate to its first jobs (one slot each, the next the fraction) and finds the
   * next GPS finish. O(lanes log lanes + slots).
   */
  private refill(): void {
    this.mark();
    const rated = this.rated;
    for (let i = 0; i < this.ratedCount; i++) (rated[i] as FluidJob).rate = 0;
    this.keysStale = true;
    // Three passes over the lanes where there were five (each lane's rate is settled in the last),
    // with the results kept in locals and written back once: this runs at every fluid event.
    const lanes = this.fluidLanes;
    const count = lanes.length;
    let demand = 0;
    let weight = 0;
    // Whether every demand and weight is a whole number: then the sums below are exact whatever
    // their order, which `refillJoined` relies on.
    let whole = true;
    for (let i = 0; i < count; i++) {
      const lane = lanes[i] as Lane;
      const laneDemand = this.demandOf(lane);
      const laneWeight = lane.gps.weight;
      lane.fluidDemand = laneDemand;
      // Limited by the level, unless the water-fill below finds the lane saturated.
      lane.fluidSaturated = false;
      demand += laneDemand;
      weight += laneWeight;
      if (Math.floor(laneDemand) !== laneDemand || Math.floor(laneWeight) !== laneWeight) whole = false;
    }
    const levelLimited = demand > this.slots;
    let level = 0;
    this.fillValid = false;
    if (levelLimited) {
      // Water-filling without sorting (the lanes are few): a lane whose demand is within the level
      // is saturated whatever the others do, and taking it out only raises the level, so passes
      // saturate lanes until none is left to; the rest share what remains by weight.
      let capacity = this.slots;
      for (let changed = true; changed && weight > 0;) {
        changed = false;
        for (let i = 0; i < count; i++) {
          const lane = lanes[i] as Lane;
          if (lane.fluidSaturated || lane.fluidDemand * weight > capacity * lane.gps.weight) continue;
          lane.fluidSaturated = true;
          capacity -= lane.fluidDemand;
          weight -= lane.gps.weight;
          changed = true;
        }
      }
      level = weight > 0 ? capacity / weight : 0;
      if (whole && weight > 0) {
        this.fillValid = true;
        this.fillDemand = demand;
        this.fillCapacity = capacity;
        this.fillWeight = weight;
      }
    }
    this.level = level;
    this.assignRates(levelLimited, level);
  }

  /**
   * Dense: the water-fill after `lane` joined the reference (its first job arrived; it is last in
   * `fluidLanes`), without running it again when its answer is known: the last fill was
   * level-limited with whole demands and weights, and at the level it would now have, the new lane
   * is saturated and so is every lane saturated before (their largest demand per weight is kept).
   * The level-limited lanes stay so (the level only falls), and water-filling has one answer, so the
   * level is the capacity they had less the new lane's demand, over their weight: whole numbers, so
   * the water-fill's sums are exact in any order and its level is this same double, as is every
   * rate. Otherwise the full water-fill. Lanes joining are most of a dense tier's fluid events in
   * the churn scenario (each visitor's first job).
   */
  private refillJoined(lane: Lane): void {
    const demand = this.demandOf(lane);
    const weight = lane.gps.weight;
    if (waterFillShortcuts.enabled && this.fillValid && Math.floor(demand) === demand && Math.floor(weight) === weight) {
      // Saturated at the level it leaves the others, or level-limited at the level it shares.
      const saturated = demand * (this.fillWeight + weight) <= this.fillCapacity * weight;
      const capacity = saturated ? this.fillCapacity - demand : this.fillCapacity;
      const rest = saturated ? this.fillWeight : this.fillWeight + weight;
      // ...and no lane saturated before is above that level (the level-limited ones stay above it,
      // the level having fallen): then that is the water-fill's answer.
      if (this.fillMaxDemand * rest <= capacity * this.fillMaxWeight) {
        lane.fluidDemand = demand;
        lane.fluidSaturated = saturated;
        this.fillDemand += demand;
        this.fillCapacity = capacity;
        this.fillWeight = rest;
        this.refillKnown();
        return;
      }
    }
    this.refill();
  }

  /**
   * Dense: a lane's demand fell to `demand` (0: it left the reference). Keeps the last water-fill's
   * sums exact; the lane keeps its side (a saturated lane's share only shrank; a level-limited
   * one's new demand per weight is folded into the smallest kept, which `refillChanged` checks).
   */
  private demandFell(lane: Lane, demand: number): void {
    const fall = lane.fluidDemand - demand;
    if (fall === 0 && demand > 0) return;
    this.fillDemand -= fall;
    if (lane.fluidSaturated) {
      this.fillCapacity += fall;
    } else if (demand === 0) {
      this.fillWeight -= lane.gps.weight;
    } else if (demand * this.fillMinWeight < this.fillMinDemand * lane.gps.weight) {
      this.fillMinDemand = demand;
      this.fillMinWeight = lane.gps.weight;
    }
    // A lane that left keeps the demand it last had, as with the full water-fill (which no longer
    // sees it): `takeNext` still reads it while the lane has jobs waiting that GPS has finished.
    if (demand > 0) lane.fluidDemand = demand;
    if (!(this.fillDemand > this.slots) || !(this.fillWeight > 0)) this.fillValid = false;
  }

  /**
   * Dense: the water-fill after GPS finished jobs (their lanes' demands fell, or they left), without
   * running it again when the last fill, brought up to date by `demandFell`, is still its answer:
   * every saturated lane within the level the kept sums give, every level-limited one above it. The
   * answer of a water-fill is unique, and with whole numbers the sums are exact in any order, so the
   * level is the same double. Otherwise the full water-fill.
   */
  private refillChanged(): void {
    if (
      waterFillShortcuts.enabled &&
      this.fillValid &&
      this.fillMaxDemand * this.fillWeight <= this.fillCapacity * this.fillMaxWeight &&
      this.fillMinDemand * this.fillWeight > this.fillCapacity * this.fillMinWeight
    ) {
      this.refillKnown();
      return;
    }
    this.refill();
  }

  /** Dense: the rates from the kept water-fill (`fillCapacity` over `fillWeight`; see `refillJoined`). */
  private refillKnown(): void {
    this.mark();
    const rated = this.rated;
    for (let i = 0; i < this.ratedCount; i++) (rated[i] as FluidJob).rate = 0;
    this.keysStale = true;
    const level = this.fillCapacity / this.fillWeight;
    this.level = level;
    this.assignRates(true, level);
  }

  /**
   * Dense: gives each lane its rate (its demand when saturated or when no lane is level-limited,
   * else the level times its weight), hands it to the lane's first jobs (one slot each, the next the
   * fraction) and finds the next GPS finish.
   */
  private assignRates(levelLimited: boolean, level: number): void {
    const lanes = this.fluidLanes;
    const count = lanes.length;
    const rated = this.rated;
    const fluidAt = this.fluidAt;
    let ratedCount = 0;
    let nextAt = Infinity;
    let nextJob: FluidJob | null = null;
    // The largest demand per weight among the saturated lanes, the smallest among the level-limited
    // ones (for the shortcuts of the next water-fill).
    let maxDemand = 0;
    let maxWeight = 1;
    let minDemand = Infinity;
    let minWeight = 1;
    for (let i = 0; i < count; i++) {
      const lane = lanes[i] as Lane;
      const weight = lane.gps.weight;
      const demand = lane.fluidDemand;
      let rate: number;
      if (!levelLimited || lane.fluidSaturated) {
        rate = demand;
        if (demand * maxWeight > maxDemand * weight) {
          maxDemand = demand;
          maxWeight = weight;
        }
      } else {
        rate = level * weight;
        if (demand * minWeight < minDemand * weight) {
          minDemand = demand;
          minWeight = weight;
        }
      }
      lane.fluidRate = rate;
      for (let job = lane.fluidFirst; job !== null && rate > 1e-12; job = job.next) {
        const give = rate < 1 ? rate : 1;
        job.rate = give;
        job.started = true;
        rated[ratedCount++] = job;
        rate -= give;
        // A whole slot (most jobs) finishes its work in that many ms: no division (x / 1 === x).
        const at = fluidAt + (give === 1 ? job.remaining : job.remaining / give);
        if (at < nextAt) {
          nextAt = at;
          nextJob = job;
        }
      }
    }
    this.ratedCount = ratedCount;
    this.nextFluidAt = nextAt;
    this.nextFluidJob = nextJob;
    this.fillMaxDemand = maxDemand;
    this.fillMaxWeight = maxWeight;
    this.fillMinDemand = minDemand;
    this.fillMinWeight = minWeight;
  }
}

/** A lane with no job in the per-job fluid reference (its jobs were recycled by the caller). */
function emptyFluid(lane: { fluidFirst: unknown; fluidLast: unknown; fluidCount: number; fluidRate: number; fluidIndex: number }): void {
  lane.fluidFirst = null;
  lane.fluidLast = null;
  lane.fluidCount = 0;
  lane.fluidRate = 0;
  lane.fluidIndex = -1;
}
