import { Router } from 'express';
import { parseQuotaPatch } from '@fairway/quota';
import type { AdminDeps } from './deps';
import { changeQuota } from './quota-change';
import { tenantParam } from './request';

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

  routes.get('/stats', async (_req, res) => {
    const stats = await deps.scheduler.stats();
    // proto3 `optional` arrives with proto-loader's synthetic oneof marker (`_maxInFlight`): the
    // answer says "unset" as null, as the quota routes do, and never shows the marker.
    const tenants = stats.tenants.map((tenant) => ({
      ...Object.fromEntries(Object.entries(tenant).filter(([key]) => !key.startsWith('_'))),
      maxInFlight: tenant.maxInFlight ?? null,
    }));
    res.json({ ...stats, tenants });
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
