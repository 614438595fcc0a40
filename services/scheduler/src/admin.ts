import type * as grpc from '@grpc/grpc-js';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { isTenantStatsSortKey, TENANT_STATS_SORT_KEYS, unaryHandler, type SchedulerAdminHandlers } from '@fairway/grpc';
import { defaultQuota, patchFromMessage, quotaToMessage } from '@fairway/quota';
import { parseTenantId } from '@fairway/tenant-context';
import type { JobStore } from './job-store';
import type { FairDispatcher } from './fair-dispatcher';
import { FleetStatsView } from './tenant-stats-view';

function requireTenant(value: string) {
  const id = parseTenantId(value);
  if (!id) throw new ValidationError(`'${value}' is not a tenant id`, [{ path: 'tenant_id', message: 'invalid tenant id' }]);
  return id;
}

/** The most tenants one ListTenantStats page or top-N holds (a larger page_size is cut to it). */
export const MAX_STATS_PAGE = 1000;

/** fairway.scheduler.v1.SchedulerAdmin: live quotas, fleet statistics and explanations. */
export function schedulerAdminHandlers(
  store: JobStore,
  dispatcher: FairDispatcher,
  replica: string,
  capacity: () => {
    total: number;
    workers: Array<{ workerId: string; address: string; capacity: number; inUse: number }>;
    shares: Readonly<Record<string, number | undefined>>;
  } = () => ({
    total: 0,
    workers: [],
    shares: {},
  }),
): SchedulerAdminHandlers {
  // One reading of the fleet a second, shared by every page, top-N and caller (#18).
  const view = new FleetStatsView({
    reading: (window) => store.fleet.reading(window),
    tenantIds: (after, limit) => store.fleet.tenantIds(after, limit),
    loadQuotas: () => store.loadQuotas(),
  });
  return {
    GetTenantQuota: unaryHandler(async (req) => {
      const tenantId = requireTenant(req.tenantId);
      const [quota] = await store.loadQuotas(tenantId);
      if (quota) return quotaToMessage(quota);
      const statuses = await store.tenantStatuses([tenantId]);
      if (!statuses.has(tenantId)) throw new NotFoundError('tenant', tenantId);
      return quotaToMessage(defaultQuota(tenantId));
    }),

    SetTenantQuota: unaryHandler(async (req) => {
      const tenantId = requireTenant(req.tenantId);
      // The same schema as the admin API's: a ValidationError (INVALID_ARGUMENT) names every bad field.
      const patch = patchFromMessage(req);
      const statuses = await store.tenantStatuses([tenantId]);
      if (!statuses.has(tenantId)) throw new NotFoundError('tenant', tenantId);
      const quota = await store.setQuota(tenantId, patch, req.actor || 'unknown');
      // This replica applies it at once; the others hear the table's NOTIFY.
      dispatcher.applyQuota(quota);
      return quotaToMessage(quota);
    }),

    ListTenantStats: unaryHandler(async (req) => {
      // With `sort`, the page_size first tenants by it (top-N, one round trip for `tenantctl top`);
      // without, a keyset page of page_size tenants after after_tenant_id (0: every tenant). Share
      // and entitlement are fractions of the whole fleet on every answer, and totals count it all.
      const pageSize = Math.min(req.pageSize ?? 0, MAX_STATS_PAGE);
      const sort = req.sort ?? '';
      if (sort !== '' && !isTenantStatsSortKey(sort))
        throw new ValidationError(`sort must be one of ${TENANT_STATS_SORT_KEYS.join(', ')} (got '${sort.slice(0, 64)}')`, [
          { path: 'sort', message: 'unknown sort key' },
        ]);
      if (sort !== '' && pageSize === 0)
        throw new ValidationError('sort needs page_size: how many tenants to answer (1-1000)', [{ path: 'page_size', message: 'required with sort' }]);
      if (sort !== '' && req.afterTenantId)
        throw new ValidationError('sort answers the first tenants by its key: leave after_tenant_id empty', [
          { path: 'after_tenant_id', message: 'not with sort' },
        ]);
      const after = req.afterTenantId ? requireTenant(req.afterTenantId) : undefined;
      const answer =
        sort !== '' && isTenantStatsSortKey(sort)
          ? { ...(await view.top(sort, pageSize)), more: false }
          : await view.page(after, pageSize > 0 ? pageSize : undefined);
      const { lines, more, snapshot } = answer;
      const live = capacity();
      return {
        replica,
        nextAfterTenantId: more ? (lines[lines.length - 1]?.tenantId ?? '') : '',
        totals: snapshot.totals,
        statsAt: snapshot.at.toISOString(),
        capacity: {
          total: live.total,
          inUse: live.workers.reduce((sum, w) => sum + w.inUse, 0),
          tiers: dispatcher.tierUsage().map((t) => ({ ...t, ...(live.shares[t.name] === undefined ? {} : { share: live.shares[t.name] }) })),
          workers: live.workers,
        },
        tenants: lines,
      };
    }),

    ExplainTenant: unaryHandler(async (req) => {
      const tenantId = requireTenant(req.tenantId);
      const explanation = dispatcher.explain(tenantId);
      return {
        tenantId,
        state: explanation.state,
        reason: explanation.reason,
        detailsJson: JSON.stringify({ ...explanation, replica, partitions: dispatcher.partitions }),
      };
    }),
  };
}

/** Adds SchedulerAdmin to a gRPC server. */
export function addSchedulerAdmin(server: grpc.Server, definition: grpc.ServiceDefinition, handlers: SchedulerAdminHandlers): void {
  server.addService(definition, handlers as unknown as grpc.UntypedServiceImplementation);
}
