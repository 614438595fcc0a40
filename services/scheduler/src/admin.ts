import type * as grpc from '@grpc/grpc-js';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { unaryHandler, type SchedulerAdminHandlers, type TenantQuotaMessage } from '@fairway/grpc';
import { parseTenantId } from '@fairway/tenant-context';
import type { JobStore, QuotaRow } from './job-store';
import type { FairDispatcher } from './fair-dispatcher';

function toMessage(quota: QuotaRow): TenantQuotaMessage {
  return {
    tenantId: quota.tenantId,
    weight: quota.weight,
    ...(quota.rate === null ? {} : { rate: quota.rate }),
    ...(quota.burst === null ? {} : { burst: quota.burst }),
    ...(quota.maxInFlight === null ? {} : { maxInFlight: quota.maxInFlight }),
    updatedAt: quota.updatedAt.toISOString(),
    updatedBy: quota.updatedBy,
  };
}

function requireTenant(value: string) {
  const id = parseTenantId(value);
  if (!id) throw new ValidationError(`'${value}' is not a tenant id`, [{ path: 'tenant_id', message: 'invalid tenant id' }]);
  return id;
}

const CLEARABLE = new Set(['rate', 'burst', 'max_in_flight', 'maxInFlight']);

/** fairway.scheduler.v1.SchedulerAdmin: live quotas, fleet statistics and explanations. */
export function schedulerAdminHandlers(
  store: JobStore,
  dispatcher: FairDispatcher,
  replica: string,
  capacity: () => { total: number; workers: Array<{ workerId: string; address: string; capacity: number; inUse: number }>; shares: Readonly<Record<string, number | undefined>> } = () => ({
    total: 0,
    workers: [],
    shares: {},
  }),
): SchedulerAdminHandlers {
  return {
    GetTenantQuota: unaryHandler(async (req) => {
      const tenantId = requireTenant(req.tenantId);
      const [quota] = await store.loadQuotas(tenantId);
      if (quota) return toMessage(quota);
      const statuses = await store.tenantStatuses([tenantId]);
      if (!statuses.has(tenantId)) throw new NotFoundError('tenant', tenantId);
      return { tenantId, weight: 1, updatedAt: '', updatedBy: '' };
    }),

    SetTenantQuota: unaryHandler(async (req) => {
      const tenantId = requireTenant(req.tenantId);
      const issues: Array<{ path: string; message: string }> = [];
      // proto3 `optional` fields: presence is the virtual oneof `_<field>` (proto-loader oneofs).
      const has = (field: 'weight' | 'rate' | 'burst' | 'maxInFlight') => (req as unknown as Record<string, unknown>)[`_${field}`] === field;
      if (has('weight') && !((req.weight ?? 0) > 0)) issues.push({ path: 'weight', message: `must be > 0 (got ${req.weight})` });
      if (has('rate') && !((req.rate ?? 0) > 0)) issues.push({ path: 'rate', message: `must be > 0 jobs per second (got ${req.rate})` });
      if (has('burst') && !((req.burst ?? 0) >= 1)) issues.push({ path: 'burst', message: `must be >= 1 (got ${req.burst})` });
      if (has('maxInFlight') && !((req.maxInFlight ?? 0) >= 1)) issues.push({ path: 'max_in_flight', message: `must be an integer >= 1 (got ${req.maxInFlight})` });
      for (const field of req.clear) if (!CLEARABLE.has(field)) issues.push({ path: 'clear', message: `'${field}' cannot be cleared; use rate, burst or max_in_flight` });
      if (issues.length > 0) throw new ValidationError(`quota for '${tenantId}' is not valid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
      const statuses = await store.tenantStatuses([tenantId]);
      if (!statuses.has(tenantId)) throw new NotFoundError('tenant', tenantId);
      const clear = new Set(req.clear.map((f) => (f === 'max_in_flight' ? 'maxInFlight' : f)));
      const quota = await store.setQuota(
        tenantId,
        {
          ...(has('weight') ? { weight: req.weight as number } : {}),
          ...(clear.has('rate') ? { rate: null } : has('rate') ? { rate: req.rate as number } : {}),
          ...(clear.has('burst') ? { burst: null } : has('burst') ? { burst: req.burst as number } : {}),
          ...(clear.has('maxInFlight') ? { maxInFlight: null } : has('maxInFlight') ? { maxInFlight: req.maxInFlight as number } : {}),
        },
        req.actor || 'unknown',
      );
      // This replica applies it at once; the others hear the table's NOTIFY.
      dispatcher.applyQuota(quota);
      return toMessage(quota);
    }),

    ListTenantStats: unaryHandler(async () => {
      const [stats, quotas] = await Promise.all([store.tenantStats(60), store.loadQuotas()]);
      const quotaOf = new Map(quotas.map((q) => [q.tenantId, q]));
      const busy = stats.filter((s) => s.queued > 0 || s.running > 0 || s.serviceMs > 0);
      const totalWeight = busy.reduce((sum, s) => sum + (quotaOf.get(s.tenantId)?.weight ?? 1), 0) || 1;
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
          const weight = quota?.weight ?? 1;
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
      return { tenantId, state: explanation.state, reason: explanation.reason, detailsJson: JSON.stringify({ ...explanation, replica, partitions: dispatcher.partitions }) };
    }),
  };
}

/** Adds SchedulerAdmin to a gRPC server. */
export function addSchedulerAdmin(server: grpc.Server, definition: grpc.ServiceDefinition, handlers: SchedulerAdminHandlers): void {
  server.addService(definition, handlers as unknown as grpc.UntypedServiceImplementation);
}
