import type * as grpc from '@grpc/grpc-js';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { unaryHandler, type SchedulerAdminHandlers } from '@fairway/grpc';
import { defaultQuota, patchFromMessage, QUOTA_DEFAULTS, quotaToMessage } from '@fairway/quota';
import { parseTenantId } from '@fairway/tenant-context';
import type { JobStore } from './job-store';
import type { FairDispatcher } from './fair-dispatcher';

function requireTenant(value: string) {
  const id = parseTenantId(value);
  if (!id) throw new ValidationError(`'${value}' is not a tenant id`, [{ path: 'tenant_id', message: 'invalid tenant id' }]);
  return id;
}

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

    ListTenantStats: unaryHandler(async () => {
      const [stats, quotas] = await Promise.all([store.tenantStats(60), store.loadQuotas()]);
      const quotaOf = new Map(quotas.map((q) => [q.tenantId, q]));
      const busy = stats.filter((s) => s.queued > 0 || s.running > 0 || s.serviceMs > 0);
      const totalWeight = busy.reduce((sum, s) => sum + (quotaOf.get(s.tenantId)?.weight ?? QUOTA_DEFAULTS.weight), 0) || 1;
      const totalService = stats.reduce((sum, s) => sum + s.serviceMs, 0) || 1;
      const live = capacity();
      return {
        replica,
        capacity: {
          total: live.total,
          inUse: live.workers.reduce((sum, w) => sum + w.inUse, 0),
          tiers: dispatcher.tierUsage().map((t) => ({ ...t, ...(live.shares[t.name] === undefined ? {} : { share: live.shares[t.name] }) })),
          workers: live.workers,
        },
        tenants: stats.map((s) => {
          const quota = quotaOf.get(s.tenantId);
          const weight = quota?.weight ?? QUOTA_DEFAULTS.weight;
          const active = s.queued > 0 || s.running > 0 || s.serviceMs > 0;
          return {
            tenantId: s.tenantId,
            queued: s.queued,
            inFlight: s.running,
            weight,
            ...(quota?.maxInFlight ? { maxInFlight: quota.maxInFlight } : {}),
            waitP50Ms: s.waitP50Ms,
            waitP99Ms: s.waitP99Ms,
            share: s.serviceMs / totalService,
            entitlement: active ? weight / totalWeight : 0,
            dispatched: s.dispatched,
            throttled: 0,
          };
        }),
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
