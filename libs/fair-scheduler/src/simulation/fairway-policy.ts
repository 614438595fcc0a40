import { FairScheduler } from '../fair-scheduler';
import type { SchedulingPolicy } from './policy';
import type { SimulationConfig, TraceJob } from './trace';

/** Fairway's {@link FairScheduler} as a simulator policy; real cost is charged at completion. */
export class FairwayPolicy implements SchedulingPolicy {
  readonly name = 'fairway';
  /** The scheduler being driven; exposed so tests can inspect it between events. */
  readonly scheduler: FairScheduler;
  private readonly byId = new Map<string, TraceJob>();

  constructor(config: SimulationConfig) {
    this.scheduler = new FairScheduler({ tiers: config.tiers, defaults: config.defaults });
    for (const [tenant, quota] of Object.entries(config.tenants)) this.scheduler.setTenantQuota(tenant, quota, 0);
  }

  enqueue(job: TraceJob, now: number): void {
    this.byId.set(job.id, job);
    this.scheduler.enqueue({ id: job.id, tenant: job.tenant, jobClass: job.jobClass, estimate: job.estimate, priority: job.priority }, now);
  }

  dispatchNext(now: number): { job: TraceJob; tier: string } | undefined {
    const decision = this.scheduler.dispatchNext(now);
    if (decision === undefined) return undefined;
    return { job: this.byId.get(decision.job.id) as TraceJob, tier: decision.tier };
  }

  complete(job: TraceJob, now: number): void {
    this.byId.delete(job.id);
    this.scheduler.complete(job.id, now, job.cost);
  }

  nextWakeAt(now: number): number | undefined {
    return this.scheduler.nextWakeAt(now);
  }
}
