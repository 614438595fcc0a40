import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Explanation, WaitState } from '@fairway/fair-scheduler';
import { QUOTA_DEFAULTS, toCoreQuota } from '@fairway/quota';
import { GroupCommit } from '@fairway/db';
import { injectAssignment, storedAssignmentCarrier } from '@fairway/grpc';
import { estimateOf, type JobState } from '@fairway/jobs';
import { tenantContext } from '@fairway/tenant-context';
import { extractTraceHeaders, spansRecorded, tracer, type Logger } from '@fairway/telemetry';
import type { ClaimedJob, JobFailure, JobStore, JobSuccess, QueuedJob, QuotaRow, RefillRequest } from './job-store';
import { ClaimAhead } from './claim-ahead';
import type { DispatchPolicy } from './policy';
import { WorkerFailure, type WorkerPools } from './worker-pool';

/** Options of the {@link FairDispatcher}. */
export interface FairDispatcherOptions {
  /** Queued jobs of one tenant held in memory at most; the rest wait in PostgreSQL. */
  window: number;
  jobTimeoutMs: number;
  leaseMarginMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /**
   * The most jobs each tier may claim ahead of its free worker slots, per slot (default 0: a job is
   * claimed only for a free slot). How many it does claim follows the claims' latency against the
   * jobs' run time: see {@link ClaimAhead}.
   */
  claimAhead?: number;
  /** The clock the core is driven with (ms). */
  now?: () => number;
}

/** What the dispatcher reports, for metrics and job events. */
export interface DispatcherHooks {
  onStateChange?: (job: { id: string; tenantId: string; attempt: number }, state: JobState, error?: string) => void;
  onDispatched?: (job: ClaimedJob, tier: string, waitMs: number) => void;
  onQuota?: (quota: QuotaRow | { tenantId: string; removed: true }) => void;
}

interface TenantWindow {
  /** Ids of this tenant's jobs queued in the core. */
  queued: Set<string>;
  /** True when PostgreSQL may hold more of this tenant's queued jobs than the window shows. */
  backlog: boolean;
  partition: number;
}

/**
 * Takes jobs from the durable per-tenant queues and runs them on the workers in the order the
 * fair core decides. It holds only a window of each active tenant's queue in memory, only for the
 * tenants whose Kafka partitions this replica owns, and every running job holds a lease whose
 * fencing token is its attempt number.
 */
export class FairDispatcher {
  private readonly owned = new Set<number>();
  private readonly windows = new Map<string, TenantWindow>();
  private readonly queuedJobs = new Map<string, QueuedJob>();
  private readonly runningJobs = new Map<string, { tenantId: string; tier: string; startedAt: number }>();
  private readonly suspended = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private pumping = false;
  private wakeQueued = false;
  private stopped = false;
  private readonly now: () => number;
  /** Group commit of the job path's writes: one statement per turn for each kind. */
  private readonly claims: GroupCommit<string, ClaimedJob | undefined>;
  private readonly successes: GroupCommit<JobSuccess, boolean>;
  private readonly failures: GroupCommit<JobFailure, JobState | undefined>;
  /** Window top-ups: every tenant whose window ran low in one turn is read with one statement. */
  private readonly refills: GroupCommit<RefillRequest & { exclude: string[] }, QueuedJob[]>;
  /** Tenants with a top-up in flight: a start meanwhile asks for none of its own. */
  private readonly refilling = new Set<string>();
  /** Each tier's worker slots, and the jobs it claims ahead of them. */
  private readonly ahead: ClaimAhead;

  constructor(
    private readonly core: DispatchPolicy,
    private readonly store: JobStore,
    private readonly workers: WorkerPools,
    private readonly log: Logger,
    private readonly options: FairDispatcherOptions,
    private readonly hooks: DispatcherHooks = {},
  ) {
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.ahead = new ClaimAhead({ maxPerSlot: options.claimAhead ?? 0 });
    for (const tier of core.tierUsage()) this.ahead.setSlots(tier.name, tier.slots);
    const leaseMs = options.jobTimeoutMs + options.leaseMarginMs;
    // A statement shared by a turn's jobs belongs to no one job's trace: it runs outside them (and
    // the pg instrumentation, which wants a parent span, makes no spans for it).
    const detached = <T>(fn: () => Promise<T>) => context.with(ROOT_CONTEXT, fn);
    this.claims = new GroupCommit((ids) => detached(() => store.claimMany(ids, leaseMs)));
    this.successes = new GroupCommit((items) => detached(() => store.succeedMany(items)));
    this.failures = new GroupCommit((items) => detached(() => store.failMany(items)));
    this.refills = new GroupCommit((requests) =>
      detached(() =>
        store.refillMany(
          requests,
          requests.flatMap((r) => r.exclude),
        ),
      ),
    );
  }

  /** Resizes a tier (the workers' advertised capacity changed); it holds from the next decision. */
  setTierSlots(tier: string, slots: number): void {
    const now = this.now();
    this.ahead.setSlots(tier, slots);
    this.core.setTierSlots(tier, this.ahead.resize(tier, now, true) ?? slots, now);
    this.wake();
  }

  /** Partitions this replica dispatches for. */
  get partitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  /** Jobs running now on this replica. */
  get active(): number {
    return this.runningJobs.size;
  }

  /** Per-tenant counts of this replica's in-memory queues and running jobs. */
  tenantCounts(): Map<string, { queued: number; running: number }> {
    const counts = new Map<string, { queued: number; running: number }>();
    for (const [tenant, window] of this.windows) counts.set(tenant, { queued: window.queued.size, running: 0 });
    for (const job of this.runningJobs.values()) {
      const entry = counts.get(job.tenantId) ?? { queued: 0, running: 0 };
      entry.running += 1;
      counts.set(job.tenantId, entry);
    }
    return counts;
  }

  /** Applies a quota from the catalog to the core; it holds from the next decision. */
  applyQuota(quota: QuotaRow): void {
    this.core.setTenantQuota(quota.tenantId, toCoreQuota(quota), this.now());
    this.hooks.onQuota?.(quota);
    this.wake();
  }

  /** Back to the defaults for a tenant whose quota row was removed. */
  clearQuota(tenantId: string): void {
    this.core.setTenantQuota(tenantId, toCoreQuota(QUOTA_DEFAULTS), this.now());
    this.hooks.onQuota?.({ tenantId, removed: true });
    this.wake();
  }

  /**
   * Each tier's worker slots and the jobs holding them now: `inUse` counts the jobs claimed ahead
   * of a free slot too, so it may exceed `slots` by `ahead`.
   */
  tierUsage(): Array<{ name: string; slots: number; inUse: number; ahead: number }> {
    return this.core.tierUsage().map((t) => ({ ...t, slots: this.ahead.slotsOf(t.name) ?? t.slots, ahead: this.ahead.aheadOf(t.name) }));
  }

  /** Why the tenant's next job waits. */
  explain(tenantId: string): Explanation {
    return this.core.explain(tenantId, this.now());
  }

  /** `explain(tenantId).state` alone: cheap enough for every tenant on every metrics tick. */
  waitState(tenantId: string): WaitState {
    return this.core.waitState(tenantId, this.now());
  }

  /**
   * The consumer group gave this replica `partitions`. Tenants of partitions it lost are dropped
   * from memory (their jobs stay durable for the new owner); partitions it gained are loaded from
   * PostgreSQL, with jobs whose lease expired put back in the queue.
   */
  async assign(partitions: readonly number[]): Promise<void> {
    const next = new Set(partitions);
    const lost = [...this.owned].filter((p) => !next.has(p));
    const gained = [...next].filter((p) => !this.owned.has(p));
    for (const p of lost) this.owned.delete(p);
    for (const [tenantId, window] of this.windows) {
      if (!next.has(window.partition)) this.dropTenant(tenantId);
    }
    for (const p of gained) this.owned.add(p);
    this.log.info({ partitions: this.partitions, gained, lost }, 'partitions assigned');
    if (gained.length > 0) {
      const requeued = await this.store.requeueExpiredLeases(gained);
      const loaded = await this.store.loadQueued(gained, this.options.window);
      for (const job of requeued) this.offer(job, true);
      // A tenant that got fewer jobs than the window has them all in memory: no refill query is
      // due when its window drains (with 10,000 tenants of two jobs, that was 10,000 queries).
      const perTenant = new Map<string, number>();
      for (const job of loaded) perTenant.set(job.tenantId, (perTenant.get(job.tenantId) ?? 0) + 1);
      for (const job of loaded) this.offer(job, (perTenant.get(job.tenantId) ?? 0) >= this.options.window);
      this.log.info({ loaded: loaded.length, requeued: requeued.length }, 'queues rebuilt from PostgreSQL');
    }
    this.wake();
  }

  /** Jobs made durable by the ingest. */
  ingested(jobs: readonly QueuedJob[]): void {
    for (const job of jobs) this.offer(job, false);
    this.wake();
  }

  /** A tenant was suspended or resumed: its queued jobs leave the core, or come back. */
  async tenantStatusChanged(tenantId: string, status: string): Promise<void> {
    if (status === 'active') {
      this.suspended.delete(tenantId);
      await this.refill(tenantId, true);
    } else {
      this.suspended.add(tenantId);
      this.dropTenant(tenantId);
      this.log.info({ tenant: tenantId, status }, 'tenant is not active: its jobs wait');
    }
    this.wake();
  }

  /**
   * Safety net, run every few seconds: leases that expired on owned partitions are requeued, and
   * tenants whose durable queue holds jobs the window has not seen (retries whose back-off passed,
   * jobs another replica requeued) are topped up.
   */
  async maintain(): Promise<void> {
    const partitions = this.partitions;
    if (partitions.length === 0) return;
    const requeued = await this.store.requeueExpiredLeases(partitions);
    for (const job of requeued) this.offer(job, true);
    if (requeued.length > 0) this.log.info({ requeued: requeued.length }, 'requeued jobs whose lease expired');
    // A tenant whose window is full could keep nothing loaded now (offer would only mark its
    // backlog), so it is left out, with its jobs: with 100 busy tenants of a full window of 64, each
    // tick could load and parse 6,400 rows only to drop them. Its backlog is marked instead, so its
    // window's refill reads its queue again when it runs low (at worst one refill that finds nothing
    // more).
    const full: string[] = [];
    const exclude: string[] = [];
    for (const [tenantId, window] of this.windows) {
      if (window.queued.size >= this.options.window) {
        full.push(tenantId);
        window.backlog = true;
      } else for (const id of window.queued) exclude.push(id);
    }
    for (const id of this.runningJobs.keys()) exclude.push(id);
    const loaded = await this.store.loadQueued(partitions, this.options.window, undefined, exclude, full);
    for (const job of loaded) this.offer(job, true);
    this.wake();
  }

  /** Fills free slots with the jobs the core picks. Cheap to call often. */
  wake(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    try {
      const now = this.now();
      for (let dispatch = this.core.dispatchNext(now); dispatch; dispatch = this.core.dispatchNext(now)) {
        const job = this.queuedJobs.get(dispatch.job.id);
        if (!job) {
          // Dropped from memory while queued in the core: release the slot.
          this.core.complete(dispatch.job.id, now, 0);
          continue;
        }
        this.start(job, dispatch.tier, now);
      }
      this.armWakeTimer(now);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * One wake for every job that ends in this run of microtasks: a worker's message settles a whole
   * turn of jobs at once, and their completions reach the core before it decides again (the same
   * decisions as a wake per job, at the cost of one pass over the core instead of one per job).
   */
  private wakeSoon(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.wake();
    });
  }

  /** Stops dispatching and waits for the jobs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await Promise.allSettled([...this.inFlight]);
  }

  private offer(job: QueuedJob, fromStore: boolean): void {
    if (!this.owned.has(job.partition) || this.suspended.has(job.tenantId)) return;
    if (this.queuedJobs.has(job.id) || this.runningJobs.has(job.id)) return;
    let window = this.windows.get(job.tenantId);
    if (!window) {
      window = { queued: new Set(), backlog: false, partition: job.partition };
      this.windows.set(job.tenantId, window);
    }
    if (window.queued.size >= this.options.window) {
      window.backlog = true;
      return;
    }
    // The params were validated at ingest; only the estimate is needed here (no second parse).
    const estimate = estimateOf(job.type, job.params);
    try {
      this.core.enqueue({ id: job.id, tenant: job.tenantId, jobClass: job.jobClass, estimate, priority: job.priority }, this.now());
    } catch (err) {
      this.log.error({ err, jobId: job.id, jobClass: job.jobClass }, 'job cannot be scheduled (no tier for its class); it stays queued');
      return;
    }
    window.queued.add(job.id);
    this.queuedJobs.set(job.id, job);
    if (fromStore) window.backlog = true;
  }

  private dropTenant(tenantId: string): void {
    const window = this.windows.get(tenantId);
    if (!window) return;
    for (const id of window.queued) {
      this.core.cancel(id);
      this.queuedJobs.delete(id);
    }
    this.windows.delete(tenantId);
  }

  /** Tops a tenant's window up from PostgreSQL when it runs low and more may wait there. */
  private async refill(tenantId: string, force = false): Promise<void> {
    const window = this.windows.get(tenantId);
    if (!force && (!window || !window.backlog || window.queued.size > this.options.window / 2)) return;
    const want = this.options.window - (window?.queued.size ?? 0);
    if (want <= 0) return;
    if (!force && this.refilling.has(tenantId)) return;
    const exclude = window ? [...window.queued] : [];
    for (const [id, job] of this.runningJobs) if (job.tenantId === tenantId) exclude.push(id);
    let jobs: QueuedJob[];
    if (window) {
      // Joins the turn's other top-ups in one statement: with many busy tenants, a statement per
      // tenant's top-up ran beside the claims all through a run (bench:dispatch).
      this.refilling.add(tenantId);
      try {
        jobs = await this.refills.add({ tenantId, partition: window.partition, want, exclude });
      } finally {
        this.refilling.delete(tenantId);
      }
    } else jobs = await this.store.loadQueued(this.partitions, want, tenantId, exclude);
    const current = this.windows.get(tenantId);
    if (current && jobs.length < want) current.backlog = false;
    for (const job of jobs) this.offer(job, false);
    this.wake();
  }

  private start(job: QueuedJob, tier: string, now: number): void {
    const window = this.windows.get(job.tenantId);
    window?.queued.delete(job.id);
    this.queuedJobs.delete(job.id);
    this.runningJobs.set(job.id, { tenantId: job.tenantId, tier, startedAt: now });
    if (window && window.backlog && window.queued.size <= this.options.window / 2) {
      void this.refill(job.tenantId).catch((err: unknown) => this.log.warn({ err, tenant: job.tenantId }, 'window refill failed'));
    }
    const run = this.run(job, tier)
      .catch((err: unknown) => this.log.error({ err, jobId: job.id }, 'dispatch failed; the lease will expire and the job will be retried'))
      .finally(() => {
        const started = this.runningJobs.get(job.id);
        this.runningJobs.delete(job.id);
        this.inFlight.delete(run);
        const end = this.now();
        this.core.complete(job.id, end, started ? Math.max(1, end - started.startedAt) : undefined);
        this.wakeSoon();
      });
    this.inFlight.add(run);
  }

  /**
   * One attempt: the claim, the worker's answer and the completion each join the statement (or the
   * stream message) of their turn; the lease and its fencing token are per job as before.
   */
  private async run(job: QueuedJob, tier: string): Promise<void> {
    const asked = performance.now();
    const claimed = await this.claims.add(job.id);
    this.ahead.observeClaim(performance.now() - asked);
    if (!claimed) return; // cancelled, or taken by another replica during a rebalance
    this.hooks.onStateChange?.({ id: claimed.id, tenantId: claimed.tenantId, attempt: claimed.attempt }, 'running');
    this.hooks.onDispatched?.(claimed, tier, claimed.startedAt.getTime() - claimed.acceptedAt.getTime());
    // Continue the trace the edge started; the tenant comes from the job row, passed explicitly.
    // The span is not made active: the job's context travels in its assignment, and nothing else
    // here needs it (the turn's statements run outside every job's trace).
    const parent = spansRecorded() ? extractTraceHeaders(claimed.traceHeaders, ROOT_CONTEXT) : undefined;
    const span = parent
      ? tracer().startSpan(
          'scheduler.dispatch',
          {
            attributes: {
              'tenant.id': claimed.tenantId,
              'job.id': claimed.id,
              'job.type': claimed.type,
              'job.attempt': claimed.attempt,
              'scheduler.tier': tier,
            },
          },
          parent,
        )
      : undefined;
    const carrier =
      parent && span
        ? injectAssignment(tenantContext(claimed.tenantId, 'job', claimed.id), trace.setSpan(parent, span))
        : // With nothing recording spans, the assignment carries the edge's span context on: the
          // stored headers as they are when injection would write the same.
          (storedAssignmentCarrier(claimed.tenantId, claimed.traceHeaders) ??
          injectAssignment(tenantContext(claimed.tenantId, 'job', claimed.id), extractTraceHeaders(claimed.traceHeaders, ROOT_CONTEXT)));
    try {
      let result;
      try {
        result = await this.workers.execute(
          tier,
          {
            jobId: claimed.id,
            type: claimed.type,
            paramsJson: claimed.paramsJson,
            attempt: claimed.attempt,
            carrier,
          },
          this.options.jobTimeoutMs,
        );
      } catch (err) {
        span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        await this.recordFailure(claimed, job, err);
        return;
      }
      this.ahead.observeRun(tier, result.runMs);
      this.resizeForClaims(tier);
      // The worker may have recorded the success with the effect, in one transaction.
      if (result.completed || (await this.successes.add({ jobId: claimed.id, attempt: claimed.attempt, resultJson: result.resultJson }))) {
        this.hooks.onStateChange?.({ id: claimed.id, tenantId: claimed.tenantId, attempt: claimed.attempt }, 'succeeded');
      } else {
        this.log.warn({ jobId: claimed.id, attempt: claimed.attempt }, 'result of a stale attempt refused');
      }
    } finally {
      span?.end();
    }
  }

  /** Follows the jobs claimed ahead of `tier`'s slots to the latest latencies (rarely: see ClaimAhead). */
  private resizeForClaims(tier: string): void {
    const now = this.now();
    const slots = this.ahead.resize(tier, now);
    if (slots === undefined) return;
    this.core.setTierSlots(tier, slots, now);
    this.wakeSoon();
  }

  private async recordFailure(claimed: ClaimedJob, job: QueuedJob, err: unknown): Promise<void> {
    // The worker's Fairway error says itself whether it is retriable; a stream that broke or an
    // attempt past its deadline may succeed on another try.
    const failure = err instanceof WorkerFailure ? err : new WorkerFailure('INTERNAL', (err as Error).message ?? String(err), false);
    const delay = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** (claimed.attempt - 1));
    const message = `${failure.code}: ${failure.message}`;
    const state = await this.failures.add({ jobId: claimed.id, attempt: claimed.attempt, error: message, retriable: failure.retriable, retryDelayMs: delay });
    if (state === undefined) {
      this.log.warn({ jobId: claimed.id, attempt: claimed.attempt }, 'failure of a stale attempt ignored');
      return;
    }
    this.log.warn({ jobId: claimed.id, attempt: claimed.attempt, state, error: message }, 'job attempt failed');
    this.hooks.onStateChange?.({ id: claimed.id, tenantId: claimed.tenantId, attempt: claimed.attempt }, state, message);
    if (state === 'queued') {
      // Back in the queue after its back-off; the core sees it again only then.
      setTimeout(() => {
        this.offer(job, false);
        this.wake();
      }, delay).unref();
    }
  }

  private armWakeTimer(now: number): void {
    const at = this.core.nextWakeAt(now);
    if (at === undefined || at >= this.wakeAt) {
      if (at === undefined && this.wakeTimer) {
        clearTimeout(this.wakeTimer);
        this.wakeTimer = undefined;
        this.wakeAt = Infinity;
      }
      return;
    }
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    // Tenants waiting for tokens are woken at their refill time, never polled.
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Infinity;
        this.wake();
      },
      Math.max(0, at - now),
    );
    this.wakeTimer.unref();
  }
}
