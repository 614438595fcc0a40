import { Router } from 'express';
import { z } from 'zod';
import { MAX_TENANT_PAGE } from '@fairway/db';
import { ValidationError } from '@fairway/errors';
import { TENANT_STATS_SORT_KEYS } from '@fairway/grpc';
import { parseQuotaPatch } from '@fairway/quota';
import { parseTenantId } from '@fairway/tenant-context';
import type { AdminDeps } from './deps';
import { changeQuota } from './quota-change';
import { parse, tenantParam } from './request';

const statsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_TENANT_PAGE).optional(),
    after: z.string().min(1).max(200).optional(),
    sort: z.enum(TENANT_STATS_SORT_KEYS).optional(),
  })
  .strict();

/** The rows of `?sort=` without `limit`: what `tenantctl top` shows by default. */
const DEFAULT_TOP = 20;

/**
 * The scheduler's side, through SchedulerAdmin: a tenant's quota (the body is @fairway/quota's
 * patch, the answer its TenantQuota), the fleet's stats and why a tenant waits.
 */
export function schedulerRoutes(deps: Pick<AdminDeps, 'scheduler' | 'ownerPool'>): Router {
  const routes = Router();
  routes.get('/tenants/:id/quota', async (req, res) => {
    res.json(await deps.scheduler.getQuota(tenantParam(req)));
  });
  routes.put('/tenants/:id/quota', async (req, res) => {
    const id = tenantParam(req);
    const patch = parseQuotaPatch(req.body);
    const { after } = await changeQuota(deps, id, patch, req.operator ?? 'operator');
    res.json(after);
  });

  routes.get('/stats', async (req, res) => {
    // ?sort=<key>&limit=N answers the N first tenants by that key (top-N, default 20: one round
    // trip for `tenantctl top`); ?limit=1-1000 a keyset page of tenants by id (and nextAfter);
    // neither, every tenant at once, as before (8.6 MB at 50,000 tenants: bench:scale). `totals`
    // count the whole fleet on every answer.
    const query = parse(statsQuery, req.query, 'the stats query');
    if (query.sort !== undefined && query.after !== undefined)
      throw new ValidationError('sort answers the first tenants by its key and does not page: leave out after', [{ path: 'after', message: 'not with sort' }]);
    const after = query.after === undefined ? undefined : parseTenantId(query.after);
    if (query.after !== undefined && !after)
      throw new ValidationError(`after must be a tenant id: pass nextAfter of the previous page (got '${query.after.slice(0, 64)}')`, [
        { path: 'after', message: 'not a tenant id' },
      ]);
    if (after !== undefined && query.limit === undefined) throw new ValidationError('after needs limit', [{ path: 'after', message: 'needs limit' }]);
    const request =
      query.sort !== undefined
        ? { pageSize: query.limit ?? DEFAULT_TOP, sort: query.sort }
        : query.limit === undefined
          ? undefined
          : { pageSize: query.limit, afterTenantId: after };
    const { nextAfterTenantId, ...stats } = await deps.scheduler.stats(request);
    // proto3 `optional` arrives with proto-loader's synthetic oneof marker (`_maxInFlight`): the
    // answer says "unset" as null, as the quota routes do, and never shows the marker.
    const tenants = stats.tenants.map((tenant) => ({
      ...Object.fromEntries(Object.entries(tenant).filter(([key]) => !key.startsWith('_'))),
      maxInFlight: tenant.maxInFlight ?? null,
    }));
    const nextAfter = query.limit === undefined || query.sort !== undefined ? undefined : nextAfterTenantId || null;
    if (nextAfter) res.links({ next: `/admin/v1/stats?limit=${query.limit}&after=${encodeURIComponent(nextAfter)}` });
    res.json({ ...stats, tenants, ...(nextAfter === undefined ? {} : { nextAfter }) });
  });
  routes.get('/tenants/:id/explain', async (req, res) => {
    const explanation = await deps.scheduler.explain(tenantParam(req));
    let details: unknown = null;
    try {
      details = explanation.detailsJson ? JSON.parse(explanation.detailsJson) : null;
    } catch {
      details = explanation.detailsJson;
    }
    res.json({ tenantId: explanation.tenantId, state: explanation.state, reason: explanation.reason, details });
  });
  return routes;
}
