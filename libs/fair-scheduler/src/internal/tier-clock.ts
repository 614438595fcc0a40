import { KeyedHeap, PackedKeyedHeap } from './keyed-heap';
import type { KeyedItem } from './keyed-heap';
import type { JobRecord, Lane } from './scheduler-state';

/**
 * Ready key of a lane whose head job is `head`: the head job's finish in the reference GPS system,
 * which serves a lane's jobs in order, so it is the lane's GPS finish less the work queued behind the
 * head. In virtual time while the lane is level-limited (or GPS has finished it: then the key is
 * below the virtual time, the job is overdue); in real ms while it is saturated (served at `d` slots).
 */
export function laneKey(lane: Lane, head: JobRecord): number {
  const share = lane.gps;
  if (lane.isLagging(head)) return lane.lagKey - (lane.lagCost - head.estimate) / share.weight;
  const behind = lane.waitingCost - lane.lagCost - head.estimate;
  return share.saturated ? share.heapKey - behind / share.demand : share.heapKey - behind / share.weight;
}

/**
 * A lane's backlog in its tier's reference GPS system. Level-limited (`saturated === false`): in the
 * tier's `gps` heap, keyed by its GPS finish in virtual time. Saturated: in `gpsSat`, keyed by the
 * real time (ms) at which GPS, serving it at its whole demand, finishes its backlog.
 */
export class GpsShare implements KeyedItem {
  heapIndex = -1;
  /** GPS finish of the lane's backlog: virtual time (level-limited) or real ms (saturated). */
  heapKey = 0;
  heapTie = 0;
  /** Weight the lane is served with in GPS (the tenant's weight). */
  weight = 0;
  /** Slots the lane can use in GPS: min(jobs it holds, maxInFlight), at least 1. */
  demand = 1;
  /** Whether GPS serves the lane at its whole demand (demand / weight below the water level). */
  saturated = false;
  /** Its entry in the tier's demand heaps; created the first time the tier needs it. */
  entry: DemandEntry | null = null;

  constructor(readonly lane: Lane) {}
}

/** A GPS-backlogged lane ordered by demand / weight (its "height" in water-filling). */
export class DemandEntry implements KeyedItem {
  heapIndex = -1;
  /** `ratio` in the level-limited heap (smallest first), `-ratio` in the saturated one (largest first). */
  heapKey = 0;
  heapTie = 0;
  ratio = 0;
  constructor(readonly share: GpsShare) {}
}

function parkedCount(lane: Lane): number {
  let count = 0;
  for (const parked of (lane.parked as Map<string, { size: number }>).values()) count += parked.size;
  return count;
}

/** `true` while `a` is, up to rounding, below `b`. */
function below(a: number, b: number): boolean {
  if (!Number.isFinite(b)) return a < b;
  return a < b - 1e-12 * Math.max(1, Math.abs(b));
}

/**
 * One capacity tier at run time, with its reference GPS clock.
 *
 * The reference is water-filled GPS over the tier's `slots` (the fluid ideal of the simulator): a
 * GPS-backlogged lane i can use at most `d_i = min(jobs it holds, maxInFlight)` slots, and gets
 * `min(d_i, level * w_i)` with the level chosen so that the slots are used up. Lanes with
 * `d_i / w_i < level` are *saturated*: GPS serves them at `d_i` slots, in real time. The others are
 * *level-limited*: each gets `level * w_i`, so their normalised service advances with the tier's
 * virtual time, `dV/dt = level = (slots - sum of saturated demands) / (sum of level-limited
 * weights)`. A level-limited lane leaves GPS when `V` reaches its GPS finish, a saturated one when
 * the real time reaches its own; lanes cross between the two as the level moves.
 *
 * Cost: while the level-limited weights are at least `slots * maxWeight` no lane can be saturated
 * (a lane has `d_i >= 1`), and the clock costs what the plain WFQ clock costs: one heap update per
 * enqueue, one removal per lane leaving GPS. Below that ("dense": few lanes for the slots), every
 * change of a lane's demand is one more O(log n) heap update and every lane crossing the level one
 * more move; the mode is left again above twice that weight, so switching is amortised O(1) per
 * lane joining.
 */
export class TierState {
  inUse = 0;
  /** Tiers whose jobs may borrow this tier's idle slots. */
  borrowers: TierState[] = [];
  /** Ready lanes whose GPS share is level-limited (or already finished), keyed by virtual finish tag. */
  readonly ready = new PackedKeyedHeap<Lane>();
  /** Ready lanes whose GPS share is saturated, keyed by real GPS finish (ms) of their head job. */
  readonly readySat = new KeyedHeap<Lane>();
  /** Virtual time of the reference GPS system at real time `clockAt`. */
  virtualTime = 0;
  /** Real time (ms) at which `virtualTime` was last settled. */
  clockAt = 0;
  /** Sum of the weights of the level-limited GPS-backlogged lanes. */
  gpsWeight = 0;
  /** Sum of the demands of the saturated lanes. */
  satDemand = 0;
  /** Level-limited GPS-backlogged lanes by GPS finish (virtual time): the next to leave on top. */
  readonly gps = new PackedKeyedHeap<GpsShare>();
  /** Saturated lanes by GPS finish (real ms). */
  readonly gpsSat = new KeyedHeap<GpsShare>();
  /** Dense mode only: level-limited lanes by demand / weight, smallest first. */
  private readonly levelLimited = new KeyedHeap<DemandEntry>();
  /** Saturated lanes by demand / weight, largest first. */
  private readonly saturatedByDemand = new KeyedHeap<DemandEntry>();
  /** Whether demands are tracked (few lanes for the slots, see the class comment). */
  dense = false;
  /** Largest weight any lane has had in this tier's GPS (only grows: it bounds who can saturate). */
  private maxWeight = 0;
  private gpsSeq = 0;
  /** Lanes with jobs queued, parked or running; 0 means the tier is idle. */
  activeLanes = 0;
  /** Largest virtual finish tag dispatched in this tier (the clock's floor once the tier idles). */
  maxFinishTag = 0;
  /** Real-time key of the lane last returned by {@link TierState.leader}. */
  leaderKey = 0;

  constructor(
    readonly name: string,
    readonly index: number,
    public slots: number,
  ) {}

  /** Speed of the virtual time: the water level, 0 when no lane is level-limited. */
  rate(): number {
    return this.gpsWeight > 0 && this.slots > this.satDemand ? (this.slots - this.satDemand) / this.gpsWeight : 0;
  }

  /**
   * Brings `virtualTime` up to real time `now` (never backwards), retiring lanes from GPS as they
   * finish (level-limited: the virtual time passes their finish; saturated: the real time does) and
   * re-levelling after each. Amortised O(log n): a lane leaves at most once per job.
   */
  settle(now: number): number {
    if (now <= this.clockAt) return this.virtualTime;
    let at = this.clockAt;
    // Fast path, no lane saturated (always so with many lanes): WFQ's clock at slots / weight.
    while (this.gpsSat.size === 0) {
      const top = this.gps.peek();
      if (top === undefined || this.gpsWeight <= 0) {
        this.clockAt = now;
        return this.virtualTime;
      }
      const leaves = at + ((top.heapKey - this.virtualTime) * this.gpsWeight) / this.slots;
      if (leaves > now) {
        this.virtualTime += ((now - at) * this.slots) / this.gpsWeight;
        this.clockAt = now;
        return this.virtualTime;
      }
      if (leaves > at) at = leaves;
      if (top.heapKey > this.virtualTime) this.virtualTime = top.heapKey;
      this.leaveGps(top, at);
    }
    for (;;) {
      const rate = this.rate();
      const top = this.gps.peek();
      const topSat = this.gpsSat.peek();
      let leavesU = Infinity;
      if (top !== undefined) {
        if (top.heapKey <= this.virtualTime) leavesU = at;
        else if (rate > 0) leavesU = at + (top.heapKey - this.virtualTime) / rate;
      }
      const leavesSat = topSat === undefined ? Infinity : topSat.heapKey;
      const leaves = leavesU <= leavesSat ? leavesU : leavesSat;
      if (leaves > now) break;
      const when = leaves > at ? leaves : at;
      this.virtualTime += rate * (when - at);
      at = when;
      if (leavesU <= leavesSat && top !== undefined) {
        if (top.heapKey > this.virtualTime) this.virtualTime = top.heapKey;
        this.leaveGps(top, at);
      } else if (topSat !== undefined) {
        this.leaveGps(topSat, at);
      }
    }
    this.virtualTime += this.rate() * (now - at);
    this.clockAt = now;
    return this.virtualTime;
  }

  /**
   * Real time (ms) at which the virtual time reaches `tag` at the current level (extrapolated
   * backwards for a tag already passed, i.e. an overdue job).
   */
  realTimeOf(tag: number): number {
    const gap = tag - this.virtualTime;
    const rate = this.rate();
    if (rate > 0) return this.clockAt + gap / rate;
    return gap <= 0 ? this.clockAt + gap : Infinity;
  }

  /** The virtual time that corresponds to real time `at` at the current level. */
  virtualTimeOf(at: number): number {
    return this.virtualTime + (at - this.clockAt) * this.rate();
  }

  /**
   * The ready lane whose head job GPS finishes first, comparing the level-limited leader (virtual
   * finish, converted to real time at the current level) with the saturated leader (real finish).
   * Sets `leaderKey` to that real time when `needKey` (comparisons across tiers).
   */
  leader(now: number, needKey: boolean): Lane | undefined {
    const level = this.ready.peek();
    const saturated = this.readySat.peek();
    if (saturated === undefined) {
      if (needKey && level !== undefined) {
        this.settle(now);
        this.leaderKey = this.realTimeOf(level.heapKey);
      }
      return level;
    }
    this.leaderKey = saturated.heapKey;
    if (level === undefined) return saturated;
    this.settle(now);
    const levelAt = this.realTimeOf(level.heapKey);
    if (levelAt < saturated.heapKey) {
      this.leaderKey = levelAt;
      return level;
    }
    return saturated;
  }

  /** Gives a lane `work` (estimate / weight) more GPS backlog; call after `settle(now)`. */
  addGpsWork(share: GpsShare, weight: number, work: number, now: number): void {
    if (share.heapIndex >= 0) {
      if (share.saturated) {
        share.heapKey += (work * share.weight) / share.demand;
        this.gpsSat.update(share);
      } else {
        share.heapKey += work;
        this.gps.update(share);
      }
      return;
    }
    share.heapKey = this.virtualTime + work;
    share.heapTie = this.gpsSeq++;
    share.weight = weight;
    share.saturated = false;
    share.demand = this.demandOf(share.lane);
    this.gpsWeight += weight;
    if (weight > this.maxWeight) this.maxWeight = weight;
    this.gps.push(share);
    if (this.dense) this.track(share);
    this.rebalance(now);
  }

  /** Takes `work` back from a GPS-backlogged lane (a cancelled job, a job cheaper than estimated). */
  removeGpsWork(share: GpsShare, work: number, now: number): void {
    if (share.heapIndex < 0) return;
    if (share.saturated) {
      share.heapKey -= (work * share.weight) / share.demand;
      if (share.heapKey <= now) this.leaveGps(share, now);
      else this.gpsSat.update(share);
    } else {
      share.heapKey -= work;
      if (share.heapKey <= this.virtualTime) this.leaveGps(share, now);
      else this.gps.update(share);
    }
  }

  /** A live weight change of a GPS-backlogged lane re-rates the clock from now on (settle first). */
  reweightGps(share: GpsShare, weight: number, now: number): void {
    if (share.heapIndex < 0) return;
    if (!share.saturated) this.gpsWeight += weight - share.weight;
    share.weight = weight;
    if (weight > this.maxWeight) this.maxWeight = weight;
    if (share.entry !== null && share.entry.heapIndex >= 0) this.rekeyEntry(share);
    this.rebalance(now);
  }

  /**
   * The lane's demand may have changed (a job arrived or left, its tenant's `maxInFlight` changed).
   * Free unless the tier is dense.
   */
  demandChanged(lane: Lane, now: number): void {
    const share = lane.gps;
    if (!this.dense || share.heapIndex < 0) return;
    this.settle(now);
    if (share.heapIndex < 0) return;
    const demand = this.demandOf(lane);
    if (demand === share.demand) return;
    if (share.saturated) {
      // The same remaining work, served at the new demand from now on.
      share.heapKey = now + ((share.heapKey - now) * share.demand) / demand;
      this.satDemand += demand - share.demand;
      share.demand = demand;
      this.gpsSat.update(share);
      if (this.readySat.has(lane)) {
        lane.heapKey = laneKey(lane, lane.jobs.peek() as JobRecord);
        this.readySat.update(lane);
      }
    } else {
      share.demand = demand;
    }
    this.rekeyEntry(share);
    this.rebalance(now);
  }

  /** The tier was resized (settle first). */
  slotsChanged(now: number): void {
    this.rebalance(now);
  }

  /**
   * The tier has no job left: GPS would have finished everything, so the clock moves to the largest
   * finish tag dispatched and no lane carries a lead or a debt into the next busy period.
   */
  idle(): void {
    this.dense = false;
    for (let top = this.gpsSat.peek(); top !== undefined; top = this.gpsSat.peek()) this.leaveGps(top, this.clockAt);
    for (let top = this.gps.peek(); top !== undefined; top = this.gps.peek()) this.leaveGps(top, this.clockAt);
    this.gpsWeight = 0;
    this.satDemand = 0;
    if (this.maxFinishTag > this.virtualTime) this.virtualTime = this.maxFinishTag;
  }

  /**
   * Slots `lane` could use in GPS now: the jobs GPS still holds of it, at most its tenant's
   * `maxInFlight`. The real system's job count overstates it when the real system lags GPS (a job
   * waiting here may be one GPS already finished), and a lane given more slots in GPS than the fluid
   * ideal gives it slows every other lane's GPS: the capped tenant of issue #15 then drifted behind
   * its ideal. GPS serves a lane's jobs in order, so the jobs it still holds are, in proportion, the
   * share of the lane's outstanding work (queued and running) it has not yet done.
   */
  private demandOf(lane: Lane): number {
    const cap = lane.tenant.quota.maxInFlight;
    const share = lane.gps;
    let held = lane.pending;
    const outstanding = lane.waitingCost - lane.lagCost + lane.runningCost;
    if (share.heapIndex >= 0 && outstanding > 0) {
      const remaining = share.saturated ? (share.heapKey - this.clockAt) * share.demand : (share.heapKey - this.virtualTime) * share.weight;
      if (remaining < outstanding) held = Math.ceil((held * remaining) / outstanding - 1e-9);
    }
    if (held < 1) held = 1;
    return cap !== undefined && cap < held ? cap : held;
  }

  private track(share: GpsShare): void {
    const entry = (share.entry ??= new DemandEntry(share));
    entry.ratio = share.demand / share.weight;
    entry.heapTie = share.heapTie;
    if (share.saturated) {
      entry.heapKey = -entry.ratio;
      this.saturatedByDemand.push(entry);
    } else {
      entry.heapKey = entry.ratio;
      this.levelLimited.push(entry);
    }
  }

  private rekeyEntry(share: GpsShare): void {
    const entry = share.entry;
    if (entry === null || entry.heapIndex < 0) return;
    entry.ratio = share.demand / share.weight;
    if (share.saturated) {
      entry.heapKey = -entry.ratio;
      this.saturatedByDemand.update(entry);
    } else {
      entry.heapKey = entry.ratio;
      this.levelLimited.update(entry);
    }
  }

  /**
   * Water-filling after a change, at real time `at` (the clock settled to it): enters or leaves
   * dense mode, then moves lanes across the level until every saturated lane has
   * `d / w < level` and every level-limited one `d / w >= level`. Each move raises the level (or
   * keeps it), so the loop ends; a lane crosses at most twice per change.
   */
  private rebalance(at: number): void {
    if (!this.dense) {
      if (this.gpsWeight === 0 || this.gpsWeight >= this.slots * this.maxWeight) return;
      this.dense = true;
      for (const share of this.gps.toArray()) {
        share.demand = this.demandOf(share.lane);
        this.track(share);
      }
    } else if (this.gpsSat.size === 0 && this.gpsWeight > 2 * this.slots * this.maxWeight) {
      this.dense = false;
      for (let top = this.levelLimited.peek(); top !== undefined; top = this.levelLimited.peek()) this.levelLimited.remove(top);
      return;
    }
    for (;;) {
      const spare = this.slots - this.satDemand;
      const level = this.gpsWeight > 0 ? spare / this.gpsWeight : spare >= 0 ? Infinity : -Infinity;
      const lowest = this.levelLimited.peek();
      if (lowest !== undefined && below(lowest.ratio, level)) {
        this.saturate(lowest.share, at);
        continue;
      }
      const highest = this.saturatedByDemand.peek();
      if (highest !== undefined && !below(highest.ratio, level)) {
        this.unsaturate(highest.share, at);
        continue;
      }
      return;
    }
  }

  /** Level-limited -> saturated at real time `at`: the same remaining work, now served at `d` slots. */
  private saturate(share: GpsShare, at: number): void {
    const lane = share.lane;
    const entry = share.entry as DemandEntry;
    this.levelLimited.remove(entry);
    this.gps.remove(share);
    this.gpsWeight -= share.weight;
    if (this.gps.size === 0 || this.gpsWeight < 1e-12) this.gpsWeight = 0;
    const perMs = share.demand / share.weight;
    share.heapKey = at + (share.heapKey - this.virtualTime) / perMs;
    share.saturated = true;
    this.gpsSat.push(share);
    this.satDemand += share.demand;
    entry.heapKey = -entry.ratio;
    this.saturatedByDemand.push(entry);
    const head = lane.jobs.peek();
    if (head !== undefined && this.ready.has(lane) && !lane.isLagging(head)) {
      this.ready.remove(lane);
      lane.heapKey = laneKey(lane, head);
      this.readySat.push(lane);
    }
  }

  /** Saturated -> level-limited at real time `at`. */
  private unsaturate(share: GpsShare, at: number): void {
    const entry = share.entry as DemandEntry;
    this.saturatedByDemand.remove(entry);
    this.gpsSat.remove(share);
    this.satDemand -= share.demand;
    if (this.gpsSat.size === 0) this.satDemand = 0;
    share.heapKey = this.virtualTime + ((share.heapKey - at) * share.demand) / share.weight;
    share.saturated = false;
    this.gps.push(share);
    this.gpsWeight += share.weight;
    entry.heapKey = entry.ratio;
    this.levelLimited.push(entry);
    this.toVirtualKey(share.lane);
  }

  /** A lane that is no longer saturated is keyed in virtual time again. */
  private toVirtualKey(lane: Lane): void {
    if (this.readySat.remove(lane)) {
      lane.heapKey = laneKey(lane, lane.jobs.peek() as JobRecord);
      this.ready.push(lane);
    }
  }

  private leaveGps(share: GpsShare, at: number): void {
    if (share.saturated) {
      this.gpsSat.remove(share);
      this.satDemand -= share.demand;
      if (this.gpsSat.size === 0) this.satDemand = 0;
      if (share.entry !== null) this.saturatedByDemand.remove(share.entry);
      // GPS finished the lane at `at`: in virtual time, that is now.
      share.heapKey = this.virtualTime;
      share.saturated = false;
      this.toVirtualKey(share.lane);
    } else {
      this.gps.remove(share);
      this.gpsWeight -= share.weight;
      if (share.entry !== null) this.levelLimited.remove(share.entry);
    }
    const lane = share.lane;
    if (lane.waitingCost > 0) {
      // GPS finished jobs the real system has not started: they keep that finish as their key.
      lane.lagKey = share.heapKey;
      lane.lagCost = lane.waitingCost;
      lane.lagJobs = lane.jobs.size + (lane.parked === null ? 0 : parkedCount(lane));
      lane.lagBefore = Infinity;
    }
    // Summing and subtracting floats drifts; the last lane leaving resets the sum exactly.
    if (this.gps.size === 0 || this.gpsWeight < 1e-12) this.gpsWeight = 0;
    const tenant = share.lane.tenant;
    const departing = tenant.departingLanes;
    if (departing !== null && departing.every((lane) => lane === undefined || lane.gps.heapIndex < 0)) {
      // GPS has caught up with an idle tenant: nothing to continue from any more.
      tenant.departingLanes = null;
    }
    if (this.dense) this.rebalance(at);
  }
}
