import { appendAudit, AuditAction, type AuditRecord } from '@fairway/audit';
import type { QuotaPatch, TenantQuota } from '@fairway/quota';
import type { TenantId } from '@fairway/tenant-context';
import type { AdminDeps } from './deps';

/** A quota change as applied: the quota before and after, and the audit entry that records it. */
export interface QuotaChange {
  before: TenantQuota;
  after: TenantQuota;
  audit: AuditRecord;
}

/**
 * Applies a validated quota patch for `operator` through the scheduler and records it in the
 * tenant's audit chain. The admin API's PUT .../quota and the console's confirmed edit both come
 * here, so a change from either is the same change with the same audit entry.
 */
export async function changeQuota(deps: Pick<AdminDeps, 'scheduler' | 'ownerPool'>, id: TenantId, patch: QuotaPatch, operator: string): Promise<QuotaChange> {
  const before = await deps.scheduler.getQuota(id);
  const after = await deps.scheduler.setQuota(id, patch, operator);
  const audit = await appendAudit(deps.ownerPool, { chain: id, actor: operator, action: AuditAction.quotaSet, target: id, before, after });
  return { before, after, audit };
}
