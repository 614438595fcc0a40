import type { Pool } from 'pg';
import { AuditAction, appendAudit } from '@fairway/audit';
import { destroyTenantKeys } from '@fairway/crypto';
import {
  deprovisionTenant,
  findTenant,
  inTransaction,
  listTenants,
  listTenantsPage,
  provisionTenant,
  setTenantStatus,
  type ProvisioningDeps,
  type TenantRecord,
} from '@fairway/db';
import { NotFoundError, UpstreamUnavailableError, ValidationError } from '@fairway/errors';
import { TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, type TenantCache } from '@fairway/tenant-cache';
import { parseTenantId, runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import type { Logger } from '@fairway/telemetry';

export const ISOLATION_MODELS = ['pooled', 'schema', 'database'] as const;
export const TENANT_STATUSES = ['provisioning', 'active', 'suspended', 'offboarding', 'deleted'] as const;
export type TenantStatusName = (typeof TENANT_STATUSES)[number];

/** A tenant as the catalog answers (the TenantCatalog message and the admin API's JSON). */
export interface CatalogTenant {
  id: string;
  slug: string;
  displayName: string;
  status: string;
  isolationModel: string;
  plan: string;
  createdAt: string;
}

/** What creates a tenant. */
export interface NewCatalogTenant {
  id: string;
  slug?: string;
  displayName?: string;
  plan?: string;
  isolationModel?: string;
  dbServer?: string;
}

export function toCatalogTenant(tenant: TenantRecord): CatalogTenant {
  return {
    id: tenant.id,
    slug: tenant.slug,
    displayName: tenant.displayName,
    status: tenant.status,
    isolationModel: tenant.isolationModel,
    plan: tenant.plan,
    createdAt: tenant.createdAt.toISOString(),
  };
}

/** A tenant id from a request, or a ValidationError naming the rule. */
export function requireTenantId(value: string): TenantId {
  const id = parseTenantId(value);
  if (!id)
    throw new ValidationError(`'${value.slice(0, 64)}' is not a tenant id: use 1-63 lowercase letters, digits and dashes`, [
      { path: 'id', message: 'invalid tenant id' },
    ]);
  return id;
}

/** Who acts, and why: every change is recorded in the audit trail under `actor`. */
export interface Actor {
  actor: string;
  reason?: string;
}

const STATUS_ACTIONS: Partial<Record<TenantStatusName, string>> = {
  suspended: AuditAction.tenantSuspend,
  active: AuditAction.tenantResume,
};

/**
 * The tenant catalog, owned by the admin plane: create, change the status of, and delete tenants.
 * Both the gRPC TenantCatalog (tenantctl) and the admin API call this one implementation, and each
 * change is audited exactly once, by the actor who asked: in the same transaction as the change
 * when it is one (a status change), otherwise before the destructive step (a deletion is recorded
 * with the status 'offboarding', then the keys are shredded and the data dropped) or right after a
 * provisioning that cannot be one transaction. An audit write that fails fails the request.
 */
export class TenantCatalog {
  /**
   * `cache`: the tenant cache the edge reads catalog entries and tenant data through. A status
   * change invalidates the tenant's entry after it committed; a deletion purges every key of the
   * tenant once its keys are destroyed and its data removed.
   */
  constructor(
    private readonly provisioning: ProvisioningDeps,
    private readonly log: Logger,
    private readonly cache?: TenantCache,
  ) {}

  private get pool(): Pool {
    return this.provisioning.ownerPool;
  }

  async list(): Promise<CatalogTenant[]> {
    return (await listTenants(this.pool)).map(toCatalogTenant);
  }

  /** A keyset page of the catalog: at most `limit` tenants after the id `after`, by id, and the next page's `after`. */
  async listPage(page: { after?: TenantId | undefined; limit: number }): Promise<{ tenants: CatalogTenant[]; nextAfter: string | null }> {
    const found = await listTenantsPage(this.pool, page);
    return { tenants: found.tenants.map(toCatalogTenant), nextAfter: found.nextAfter ?? null };
  }

  async get(id: string): Promise<CatalogTenant> {
    const tenant = await findTenant(this.pool, requireTenantId(id));
    if (!tenant) throw new NotFoundError('tenant', id);
    return toCatalogTenant(tenant);
  }

  async create(request: NewCatalogTenant, who: Actor): Promise<CatalogTenant> {
    const id = requireTenantId(request.id);
    const model = request.isolationModel || 'pooled';
    if (!(ISOLATION_MODELS as readonly string[]).includes(model)) {
      throw new ValidationError(`isolationModel must be one of ${ISOLATION_MODELS.join(', ')} (got '${model}')`, [
        { path: 'isolationModel', message: 'invalid isolation model' },
      ]);
    }
    const before = await findTenant(this.pool, id);
    const started = performance.now();
    const tenant = await provisionTenant(this.provisioning, {
      id,
      slug: request.slug || id,
      displayName: request.displayName || id,
      plan: request.plan || 'standard',
      isolationModel: model as (typeof ISOLATION_MODELS)[number],
      ...(request.dbServer ? { dbServer: request.dbServer } : {}),
    });
    // A tenant left 'provisioning' by an earlier failed attempt is recorded when it completes.
    if (!before || before.status === 'provisioning') {
      await appendAudit(this.pool, {
        chain: id,
        actor: who.actor,
        action: AuditAction.tenantCreate,
        target: id,
        after: toCatalogTenant(tenant),
        ...reasonOf(who),
      });
      this.log.info({ tenant: id, model: tenant.isolationModel, actor: who.actor, ms: Math.round(performance.now() - started) }, 'tenant created');
    }
    return toCatalogTenant(tenant);
  }

  /** Suspends or resumes (or sets any status): the change and its audit entry commit together. */
  async setStatus(id: string, status: string, who: Actor): Promise<CatalogTenant> {
    const tenantId = requireTenantId(id);
    if (!(TENANT_STATUSES as readonly string[]).includes(status)) {
      throw new ValidationError(`status must be one of ${TENANT_STATUSES.join(', ')}`, [{ path: 'status', message: 'invalid status' }]);
    }
    const changed = await inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<{ status: string }>('SELECT status FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
      const before = rows[0];
      if (!before) throw new NotFoundError('tenant', tenantId);
      const after = await setTenantStatus(tx, tenantId, status as TenantStatusName);
      if (!after) throw new NotFoundError('tenant', tenantId);
      if (before.status !== status) {
        await appendAudit(tx, {
          chain: tenantId,
          actor: who.actor,
          action: STATUS_ACTIONS[status as TenantStatusName] ?? AuditAction.tenantUpdate,
          target: tenantId,
          before: { status: before.status },
          after: { status },
          ...reasonOf(who),
        });
      }
      return after;
    });
    const cache = this.cache;
    if (cache) await runWithTenant(tenantContext(tenantId, 'system'), () => cache.invalidate(TENANT_CATALOG_ENTRY, [TENANT_CATALOG_ENTRY_ID]));
    this.log.info({ tenant: tenantId, status, actor: who.actor }, 'tenant status changed');
    return toCatalogTenant(changed);
  }

  /**
   * Offboards a tenant: recorded first (with the status 'offboarding', in one transaction), then its
   * data keys are destroyed (crypto-shredding: every copy of its encrypted data becomes unreadable,
   * even if a drop below fails) and its data removed. Repeating a finished deletion changes and
   * records nothing; repeating an interrupted one finishes it.
   */
  async delete(id: string, who: Actor): Promise<CatalogTenant> {
    const tenantId = requireTenantId(id);
    const before = await findTenant(this.pool, tenantId);
    if (!before) throw new NotFoundError('tenant', tenantId);
    if (before.status === 'deleted') {
      // A deletion whose cache purge failed is finished here (a purge of nothing deletes nothing).
      await this.purgeCache(tenantId);
      return toCatalogTenant(before);
    }
    if (before.status !== 'offboarding') {
      await inTransaction(this.pool, async (tx) => {
        await setTenantStatus(tx, tenantId, 'offboarding');
        await appendAudit(tx, {
          chain: tenantId,
          actor: who.actor,
          action: AuditAction.tenantDelete,
          target: tenantId,
          before: { status: before.status, isolationModel: before.isolationModel },
          after: { status: 'offboarding' },
          ...reasonOf(who),
        });
      });
    }
    await destroyTenantKeys(this.pool, tenantId, { actor: who.actor, ...reasonOf(who) });
    const report = await deprovisionTenant(this.provisioning, tenantId);
    const cacheKeysDeleted = await this.purgeCache(tenantId);
    this.log.info(
      {
        tenant: tenantId,
        model: report.model,
        actor: who.actor,
        records: report.pooledRecordsDeleted,
        artifacts: report.artifactsDeleted,
        cacheKeys: cacheKeysDeleted,
      },
      'tenant offboarded',
    );
    return toCatalogTenant(report.tenant);
  }

  /**
   * Deletes every cache key of a tenant being deleted. Its keys are destroyed and its data removed
   * by now, and the edge refuses an offboarding tenant, so nothing refills them (a fill in flight is
   * refused by the purge). A purge that cannot reach Redis fails the deletion with a retriable
   * error: the tenant stays `offboarding`, refused everywhere, and the retry finishes it, so a
   * deletion never reports success while cached copies remain.
   */
  private async purgeCache(tenantId: TenantId): Promise<number> {
    const cache = this.cache;
    if (!cache) return 0;
    try {
      return await runWithTenant(tenantContext(tenantId, 'system'), () => cache.purgeTenant());
    } catch (err) {
      throw new UpstreamUnavailableError(
        'redis',
        `tenant '${tenantId}' is deleted except for its cached copies in Redis, which could not be purged; repeat the deletion to finish it`,
        5,
        { cause: err },
      );
    }
  }
}

function reasonOf(who: Actor): { reason?: string } {
  return who.reason === undefined || who.reason === '' ? {} : { reason: who.reason };
}
