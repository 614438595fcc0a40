/**
 * What a tenant may use. Every field can be changed live with `setTenantQuota`; the change applies
 * from the next scheduling decision.
 */
export interface TenantQuota {
  /** Share of contended capacity relative to other backlogged tenants. > 0, default 1. */
  readonly weight: number;
  /**
   * Token-bucket refill rate in tokens per second, or `undefined` for no rate limit. A token is one
   * job (`rateBasis: 'jobs'`) or one cost unit (`rateBasis: 'cost'`).
   */
  readonly rate?: number | undefined;
  /** Bucket size in tokens (how much may be dispatched at once after idling). Default `max(1, rate)`. */
  readonly burst?: number | undefined;
  /** What a token pays for. Default `'jobs'`. */
  readonly rateBasis: 'jobs' | 'cost';
  /** Most jobs of this tenant running at once, over all classes. Integer >= 1, or unlimited. */
  readonly maxInFlight?: number | undefined;
  /** Most jobs of this tenant running at once per job class (integer >= 1 each). */
  readonly maxInFlightByClass?: Readonly<Record<string, number>> | undefined;
}

/**
 * A live change to a tenant's quota. Omitted fields keep their value; `null` removes a limit
 * (unlimited rate, no burst override, no concurrency cap, no per-class caps).
 */
export interface TenantQuotaPatch {
  readonly weight?: number;
  readonly rate?: number | null;
  readonly burst?: number | null;
  readonly rateBasis?: 'jobs' | 'cost';
  readonly maxInFlight?: number | null;
  readonly maxInFlightByClass?: Readonly<Record<string, number>> | null;
}

/** One capacity tier: a pool of slots reserved for one job class. */
export interface TierConfig {
  /** Number of jobs of this class that may run at once. Integer >= 1. */
  readonly slots: number;
  /**
   * Tiers whose jobs may borrow this tier's idle slots (a slot is idle when no job of this tier's
   * own class is eligible). Lending is opt-in, so by default no class ever occupies another tier's
   * slots. A borrowed slot is held until that job completes (jobs are never pre-empted).
   */
  readonly lendTo?: readonly string[];
}

/** Options of a {@link FairScheduler}. */
export interface FairSchedulerOptions {
  /**
   * Capacity tiers keyed by job class (`{ interactive: {slots: 2}, heavy: {slots: 2} }`). A single
   * tier named `default` accepts every job class; otherwise a job's class must name a tier.
   */
  readonly tiers: Readonly<Record<string, TierConfig>>;
  /** Quota of every tenant that has not been given its own. */
  readonly defaults?: Partial<TenantQuota>;
}

/** A job handed to the scheduler. */
export interface JobSpec {
  /** Unique among queued and running jobs. */
  readonly id: string;
  /** Fairness identity: shares, rates and caps are per tenant. */
  readonly tenant: string;
  /** Job class; selects the capacity tier and the per-class cap. */
  readonly jobClass: string;
  /** Estimated cost (e.g. expected run time in ms). Charged at dispatch, corrected at completion. */
  readonly estimate: number;
  /** Higher runs first, but only among this tenant's own jobs (it buys no share). Default 0. */
  readonly priority?: number;
}

/** A scheduling decision: run `job` in a slot of `tier`. */
export interface Dispatch {
  readonly job: JobSpec;
  /** Tier whose slot the job occupies; differs from the job class when the slot is borrowed. */
  readonly tier: string;
}

/** Why a tenant's next job is not running (see `FairScheduler.explain`). */
export type WaitState = 'nothing-queued' | 'no-tokens' | 'at-max-in-flight' | 'at-class-max-in-flight' | 'tier-full' | 'behind-others' | 'next';

/** Structured answer of `FairScheduler.explain`; `reason` is the same thing in words. */
export interface Explanation {
  readonly tenant: string;
  readonly state: WaitState;
  /** Human-readable sentence, suitable for an API response or a log line. */
  readonly reason: string;
  readonly queued: number;
  readonly inFlight: number;
  /** Id of the job that would run next for this tenant, if any is queued. */
  readonly nextJobId?: string;
  /** `no-tokens`: tokens now, tokens needed, and the time (ms) when they will be there. */
  readonly tokens?: { readonly available: number; readonly needed: number; readonly eligibleAt: number };
  /** `at-max-in-flight` / `at-class-max-in-flight`: the limit that is reached. */
  readonly limit?: { readonly jobClass?: string; readonly maxInFlight: number; readonly inFlight: number };
  /** `tier-full`: the tier the job needs and its occupancy. */
  readonly tier?: { readonly name: string; readonly slots: number; readonly inUse: number };
  /**
   * `behind-others` / `next`: the tenant's virtual finish tag for its next job, the smallest tag
   * among eligible tenants of that tier, the tenant holding it, and the gap in virtual time.
   */
  readonly virtual?: {
    readonly finishTag: number;
    readonly leaderFinishTag: number;
    readonly leader: string;
    readonly behindBy: number;
  };
}

/** Per-tenant counters (see `FairScheduler.stats`). */
export interface TenantStats {
  readonly tenant: string;
  readonly queued: number;
  readonly inFlight: number;
  readonly inFlightByClass: Readonly<Record<string, number>>;
  /** Normalised service charged so far (sum of cost / weight), the tenant's virtual time. */
  readonly virtualTime: number;
  /** Tokens in the bucket at the last decision, or `undefined` when the tenant has no rate. */
  readonly tokens: number | undefined;
  readonly quota: TenantQuota;
}

/** Whole-scheduler counters (see `FairScheduler.snapshot`). */
export interface SchedulerSnapshot {
  readonly tiers: ReadonlyArray<{
    readonly name: string;
    readonly slots: number;
    readonly inUse: number;
    /** Tenants with an eligible job for this tier right now. */
    readonly readyTenants: number;
    /**
     * The tier's system virtual time at the latest time the scheduler has seen: its estimate of GPS
     * virtual time (normalised service of a continuously backlogged tenant), see docs/scheduling.md.
     */
    readonly virtualTime: number;
  }>;
  /** Tenants the scheduler holds a record for (active and idle). */
  readonly tenants: number;
  /** Tenants with queued or running jobs. */
  readonly activeTenants: number;
  readonly queuedJobs: number;
  readonly runningJobs: number;
  /** Tenants waiting for tokens; the earliest wakes at `nextWakeAt`. */
  readonly tokenBlockedTenants: number;
}
