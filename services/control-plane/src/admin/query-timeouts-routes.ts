import { Router, type Request } from 'express';
import { AuditAction, GLOBAL_CHAIN } from '@fairway/audit';
import { getQueryTimeouts, setQueryTimeouts, type QueryTimeoutScope } from '@fairway/db';
import { NotFoundError } from '@fairway/errors';
import { parseQueryTimeoutsPatch, planNameSchema } from '@fairway/quota';
import type { AdminDeps } from './deps';
import { audit, tenantParam } from './request';

/** The `:plan` of the route (`*` is the default plan); a malformed one is a plan that does not exist. */
function planParam(req: Request): string {
  const parsed = planNameSchema.safeParse(String(req.params['plan']));
  if (!parsed.success) throw new NotFoundError('plan', String(req.params['plan']).slice(0, 64));
  return parsed.data;
}

/**
 * Query time limits (statement, lock, idle in transaction) per plan and per tenant, for
 * interactive requests and heavy jobs. The body is @fairway/quota's patch (a number sets a limit,
 * null inherits it again); the catalog's trigger tells every router, so tenants' next transactions
 * run under the new values without a restart. A tenant's answer carries `effective`, what its
 * transactions get after inheritance.
 */
export function queryTimeoutsRoutes(deps: Pick<AdminDeps, 'ownerPool' | 'catalog'>): Router {
  const routes = Router();
  const change = async (req: Request, scope: QueryTimeoutScope, name: string) => {
    const patch = parseQueryTimeoutsPatch(req.body, `the query timeouts of ${scope} '${name}'`);
    const before = await getQueryTimeouts(deps.ownerPool, scope, name);
    const after = await setQueryTimeouts(deps.ownerPool, scope, name, patch, req.operator ?? 'operator');
    await audit(deps.ownerPool, req, {
      chain: scope === 'tenant' ? name : GLOBAL_CHAIN,
      action: AuditAction.queryTimeoutsSet,
      target: `${scope}:${name}`,
      before,
      after,
    });
    return after;
  };
  const effective = async (tenantId: string) => {
    const { rows } = await deps.ownerPool.query<{ workload: 'interactive' | 'heavy'; s: number | null; l: number | null; i: number | null }>(
      `SELECT w AS workload, q.statement_timeout_ms AS s, q.lock_timeout_ms AS l, q.idle_in_transaction_timeout_ms AS i
         FROM unnest(ARRAY['interactive', 'heavy']) AS w, fairway_query_timeouts($1, w) AS q`,
      [tenantId],
    );
    return Object.fromEntries(rows.map((r) => [r.workload, { statementTimeoutMs: r.s, lockTimeoutMs: r.l, idleInTransactionTimeoutMs: r.i }]));
  };
  const tenant = async (req: Request) => {
    const id = tenantParam(req);
    await deps.catalog.get(id); // NotFoundError for a tenant the catalog does not have
    return id;
  };

  routes.get('/plans/:plan/query-timeouts', async (req, res) => {
    res.json(await getQueryTimeouts(deps.ownerPool, 'plan', planParam(req)));
  });
  routes.put('/plans/:plan/query-timeouts', async (req, res) => {
    res.json(await change(req, 'plan', planParam(req)));
  });
  routes.get('/tenants/:id/query-timeouts', async (req, res) => {
    const id = await tenant(req);
    res.json({ ...(await getQueryTimeouts(deps.ownerPool, 'tenant', id)), effective: await effective(id) });
  });
  routes.put('/tenants/:id/query-timeouts', async (req, res) => {
    const id = await tenant(req);
    const after = await change(req, 'tenant', id);
    res.json({ ...after, effective: await effective(id) });
  });
  return routes;
}
