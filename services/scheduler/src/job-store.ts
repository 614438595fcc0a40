import type { Pool } from 'pg';
import { FleetStats, JobLifecycle, type TenantFleetStats } from '@fairway/job-store';
import { QuotaStore, type QuotaRow } from './quota-store';

export type { ClaimedJob, JobFailure, JobSuccess, NewJob, QueuedJob, RefillRequest, TenantFleetStats } from '@fairway/job-store';
export type { QuotaRow } from './quota-store';

/**
 * The scheduler's PostgreSQL: the job lifecycle (inherited, so the dispatcher's hot path calls the
 * batched statements directly), plus the tenant quotas and fleet statistics it delegates to their own
 * stores. The three concerns live in @fairway/job-store (JobLifecycle, FleetStats: the jobs table's
 * owner) and quota-store.ts (tenant_quotas, the scheduler's own table) (#17); this class only keeps
 * the scheduler's wiring (main, ingest, dispatcher, admin) on one object.
 */
export class JobStore extends JobLifecycle {
  /** Live quotas and their history. */
  readonly quotas: QuotaStore;
  /** Fleet-wide statistics per tenant. */
  readonly fleet: FleetStats;

  constructor(pool: Pool, replica = 'scheduler') {
    super(pool, replica);
    this.quotas = new QuotaStore(pool);
    this.fleet = new FleetStats(pool);
  }

  /** Status of each of `tenantIds` the catalog knows (unknown ones are absent). */
  async tenantStatuses(tenantIds: readonly string[]): Promise<Map<string, string>> {
    if (tenantIds.length === 0) return new Map();
    const { rows } = await this.pool.query<{ id: string; status: string }>('SELECT id, status FROM tenants WHERE id = ANY($1::text[])', [tenantIds]);
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** See {@link QuotaStore.loadQuotas}. */
  loadQuotas(tenantId?: string): Promise<QuotaRow[]> {
    return this.quotas.loadQuotas(tenantId);
  }

  /** See {@link QuotaStore.setQuota}. */
  setQuota(...args: Parameters<QuotaStore['setQuota']>): Promise<QuotaRow> {
    return this.quotas.setQuota(...args);
  }

  /** See {@link FleetStats.tenantStats}. */
  tenantStats(...args: Parameters<FleetStats['tenantStats']>): Promise<TenantFleetStats[]> {
    return this.fleet.tenantStats(...args);
  }
}
