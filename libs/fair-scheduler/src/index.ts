/**
 * @fairway/fair-scheduler: the pure fair-scheduling core.
 *
 * Decides which tenant's job runs next when capacity frees up: weighted fair queuing over tenants
 * against a water-filled GPS reference per tier (caps and one slot per job respected), cost-aware
 * (estimate at enqueue, real cost at completion), with token
 * buckets, concurrency caps and capacity tiers. No I/O and no clock: time (ms) is always passed in,
 * so the same code runs in the scheduler service, the simulator and the benchmarks.
 *
 * Typical driver loop (the scheduler service):
 * ```ts
 * const scheduler = new FairScheduler({ tiers: { interactive: { slots: 2 }, standard: { slots: 4, lendTo: ['interactive'] }, heavy: { slots: 2 } } });
 * scheduler.setTenantQuota('acme', { weight: 2, rate: 50, burst: 10, maxInFlight: 4 });
 * scheduler.enqueue({ id: 'j1', tenant: 'acme', jobClass: 'heavy', estimate: 200 }, Date.now());
 * for (let d = scheduler.dispatchNext(now); d; d = scheduler.dispatchNext(now)) run(d.job, d.tier);
 * const wakeAt = scheduler.nextWakeAt(now); // one timer, only for token-blocked tenants
 * // when a job ends: scheduler.complete(jobId, now, actualCost) and dispatch again
 * ```
 *
 * @packageDocumentation
 */
export { DEFAULT_TIER, FairScheduler } from './fair-scheduler';
export { FAIR_SCHEDULER_ERROR_CODES, FairSchedulerError } from './errors';
export type { FairSchedulerErrorCode } from './errors';
export type {
  Dispatch,
  Explanation,
  FairSchedulerOptions,
  JobSpec,
  SchedulerSnapshot,
  TenantQuota,
  TenantQuotaPatch,
  TenantStats,
  TierConfig,
  WaitState,
} from './types';
