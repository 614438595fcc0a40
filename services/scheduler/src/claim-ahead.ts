/** An exponentially weighted moving average; `undefined` until its first sample. */
export class Ewma {
  private current: number | undefined;

  /** @param weight of each new sample, in (0, 1]. */
  constructor(private readonly weight: number) {}

  add(sample: number): void {
    this.current = this.current === undefined ? sample : this.current + this.weight * (sample - this.current);
  }

  get value(): number | undefined {
    return this.current;
  }
}

/** Options of {@link ClaimAhead}. */
export interface ClaimAheadOptions {
  /** The most jobs claimed ahead per worker slot of a tier (0: none, every claim waits for a free slot). */
  maxPerSlot: number;
  /** The weight of each new latency sample in the moving averages (default 0.1). */
  weight?: number;
  /** The least time between two changes of one tier's size, in ms (default 250). */
  minIntervalMs?: number;
}

interface TierAhead {
  slots: number;
  ahead: number;
  run: Ewma;
  changedAt: number;
}

/**
 * How far ahead a tier claims, in claim latencies: the work its slots will free within this many
 * claims' time. One would keep the slots busy if jobs ended one by one; no-op jobs end in waves
 * (a worker's turn commits and answers a whole wave at once), and claiming less than a whole wave
 * ahead split each wave in two smaller ones, each paying a commit (bench:dispatch: 12-14 jobs per
 * claim instead of 24). Four claims' time covers a wave of jobs that run up to four times as long
 * as a claim, and a job claimed ahead waits at most about that long for its slot.
 */
export const CLAIM_HORIZON = 4;

/**
 * How many jobs each tier claims ahead of its free worker slots, so that the claim of the next jobs
 * commits while the current ones run instead of after them.
 *
 * When a slot frees, its next job waits for a claim statement (a commit) before it can be sent: with
 * no-op jobs that wait is as long as the job's own run, so much of each slot's time went to waiting
 * for claims (bench:dispatch: a wave of 24 no-op jobs spent 10 of its 25 ms in the claim). A tier of
 * `slots` whose jobs hold their slot `R` ms frees `slots / R` slots a millisecond; it claims ahead
 * what it frees within {@link CLAIM_HORIZON} claims' latency `C`: `slots x 4C / R`, from moving
 * averages of the claims' latency (all tiers share one claim statement) and of each tier's run time
 * (sent to outcome), capped at `maxPerSlot` per slot. No-op jobs get a whole wave ahead; long jobs
 * next to nothing (a 10 ms claim beside 1 s jobs asks 4% of the slots, and 0 below 25 slots), so the fair order is decided
 * early only where the claims' latency would otherwise idle the slots, and never by more than about
 * four claims' time.
 *
 * A job claimed ahead holds its lease and counts against its tenant's quotas from its claim, as a
 * running job does; it waits in the scheduler, in dispatch order, for a slot a worker grants.
 */
export class ClaimAhead {
  private readonly claim: Ewma;
  private readonly tiers = new Map<string, TierAhead>();
  private readonly minIntervalMs: number;

  constructor(private readonly options: ClaimAheadOptions) {
    if (!(options.maxPerSlot >= 0)) throw new Error(`claim ahead: maxPerSlot must be >= 0 (got ${options.maxPerSlot})`);
    this.claim = new Ewma(options.weight ?? 0.1);
    this.minIntervalMs = options.minIntervalMs ?? 250;
  }

  /** A tier's worker slots (configured, or its share of the workers' capacity). */
  setSlots(tier: string, slots: number): void {
    const known = this.tiers.get(tier);
    if (known) known.slots = slots;
    else this.tiers.set(tier, { slots, ahead: 0, run: new Ewma(this.options.weight ?? 0.1), changedAt: -Infinity });
  }

  /** The tier's worker slots, as last set. */
  slotsOf(tier: string): number | undefined {
    return this.tiers.get(tier)?.slots;
  }

  /** Jobs the tier claims ahead now. */
  aheadOf(tier: string): number {
    return this.tiers.get(tier)?.ahead ?? 0;
  }

  /** A claim statement answered `ms` after the job asked for it. */
  observeClaim(ms: number): void {
    this.claim.add(ms);
  }

  /** A job of `tier` held a worker slot for `ms` (sent to outcome). */
  observeRun(tier: string, ms: number): void {
    this.tiers.get(tier)?.run.add(ms);
  }

  /**
   * The slots the tier's dispatch should count (its worker slots plus the jobs claimed ahead) when
   * they should change now, else undefined. A change smaller than an eighth of the slots waits for
   * a larger one, and changes of one tier are `minIntervalMs` apart, so the core is not resized on
   * every job.
   */
  resize(tier: string, now: number, force = false): number | undefined {
    const state = this.tiers.get(tier);
    if (!state) return undefined;
    // The interval first: this runs after every job, and is almost always too soon.
    if (!force && now - state.changedAt < this.minIntervalMs) return undefined;
    const wanted = this.wanted(state);
    if (!force) {
      if (wanted === state.ahead) return undefined;
      if (Math.abs(wanted - state.ahead) < Math.max(1, Math.ceil(state.slots / 8)) && wanted !== 0) return undefined;
    }
    state.ahead = wanted;
    // A forced resize (the slots changed) does not hold back the next change the latencies ask for.
    if (!force) state.changedAt = now;
    return state.slots + wanted;
  }

  private wanted(state: TierAhead): number {
    const cap = Math.floor(state.slots * this.options.maxPerSlot);
    const claim = this.claim.value;
    const run = state.run.value;
    if (cap <= 0 || claim === undefined || run === undefined) return 0;
    // Rounded down: a job claimed ahead of `ceil` would wait a whole run for its slot, however long.
    return Math.min(cap, Math.floor((state.slots * CLAIM_HORIZON * claim) / Math.max(run, 0.001)));
  }
}
