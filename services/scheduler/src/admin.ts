import type * as grpc from '@grpc/grpc-js';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { unaryHandler, type SchedulerAdminHandlers } from '@fairway/grpc';
import { defaultQuota, patchFromMessage, QUOTA_DEFAULTS, quotaToMessage } from '@fairway/quota';
import { parseTenantId } from '@fairway/tenant-context';
import type { JobStore, QuotaRow } from './job-store';
import type { FairDispatcher } from './fair-dispatcher';

function requireTenant(value: string) {
  const id = parseTenantId(value);
  if (!id) throw new ValidationError(`'${value}' is not a tenant id`, [{ path: 'tenant_id', message: 'invalid tenant id' }]);
  return id;
}

type FleetTotals = Awaited<ReturnType<JobStore['fleet']['fleetTotals']>>;

/** How long ListTenantStats reuses the fleet's totals and quotas (the pages of one top frame). */
const FLEET_TOTALS_TTL_MS = 1_000;

/** The most tenants one ListTenantStats page holds (a larger page_size is cut to it). */
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
  // The fleet's totals and quotas, shared by the pages of one `tenantctl top` frame for a second:
  // computed for every page they cost more than the page itself (bench:scale, 50 pages at 50,000
  // tenants), and a frame's pages then state their shares against the same totals.
  let fleet: { at: number; value: Promise<{ quotas: QuotaRow[]; totals: FleetTotals }> } | undefined;
  const fleetWide = () => {
    if (!fleet || Date.now() - fleet.at > FLEET_TOTALS_TTL_MS) {
      const value = Promise.all([store.loadQuotas(), store.fleet.fleetTotals(60)]).then(([quotas, totals]) => ({ quotas, totals }));
      fleet = { at: Date.now(), value };
      value.catch(() => (fleet = undefined));
    }
    return fleet.value;
  };
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
      // A page of page_size tenants after after_tenant_id (one more is read to know whether another
      // page follows); page_size 0 is every tenant. Share and entitlement are fractions of the
      // whole fleet's totals on every page, so pages read one after the other add up.
      const pageSize = Math.min(req.pageSize ?? 0, MAX_STATS_PAGE);
      const after = req.afterTenantId ? requireTenant(req.afterTenantId) : undefined;
      const [rows, { quotas, totals }] = await Promise.all([store.tenantStats(60, { after, limit: pageSize > 0 ? pageSize + 1 : undefined }), fleetWide()]);
      const more = pageSize > 0 && rows.length > pageSize;
      const stats = more ? rows.slice(0, pageSize) : rows;
      const quotaOf = new Map(quotas.map((q) => [q.tenantId, q]));
      const totalWeight = totals.busyTenants.reduce((sum, id) => sum + (quotaOf.get(id)?.weight ?? QUOTA_DEFAULTS.weight), 0) || 1;
      const totalService = totals.serviceMs || 1;
      const live = capacity();
      return {
        replica,
        nextAfterTenantId: more ? (stats[stats.length - 1]?.tenantId ?? '') : '',
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
