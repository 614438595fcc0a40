import type { TenantRecord } from '@fairway/db';
import type { TenantJob } from '@fairway/job-store';
import type { JobState } from '@fairway/jobs';
import { cacheKind, reviveDate } from './cache-kind';

/**
 * The tenant's own catalog entry (id `'entry'` under the tenant's scope). Only `active` and
 * `suspended` tenants are stored: a tenant on its way out is read from the catalog every time, so
 * its offboarding leaves nothing to purge behind. Invalidated by the control plane after every
 * status change it commits (docs/data-isolation.md).
 */
export const TENANT_CATALOG_ENTRY = cacheKind<TenantRecord | undefined>('tenant', {
  cacheable: (tenant) => tenant !== undefined && (tenant.status === 'active' || tenant.status === 'suspended'),
  revive: (parsed) => {
    const tenant = parsed as TenantRecord & { createdAt: string };
    return { ...tenant, createdAt: new Date(tenant.createdAt) };
  },
});

/** The id of the catalog entry within the tenant's scope (a tenant has exactly one). */
export const TENANT_CATALOG_ENTRY_ID = 'entry';

/** States a job never leaves: the scheduler's and workers' UPDATEs all require `queued` or `running`. */
const FINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['succeeded', 'failed', 'dead', 'cancelled']);

/**
 * A job as its tenant reads it (GET /v1/jobs/{id}), stored only once final: a final job never
 * changes again (only crypto-shredding clears it, and that purges the tenant's cache), so the entry
 * needs no invalidation from the scheduler's or the workers' hot paths. A queued or running job is
 * read from PostgreSQL every time, so a poller sees each transition at once.
 */
export const FINAL_JOB_STATUS = cacheKind<TenantJob | undefined>('job', {
  cacheable: (job) => job !== undefined && FINAL_STATES.has(job.state),
  revive: (parsed) => {
    const job = parsed as Record<string, unknown>;
    return {
      ...(job as unknown as TenantJob),
      acceptedAt: new Date(job['acceptedAt'] as string),
      queuedAt: new Date(job['queuedAt'] as string),
      startedAt: reviveDate(job['startedAt']),
      finishedAt: reviveDate(job['finishedAt']),
    };
  },
});
