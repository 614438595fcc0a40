import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { MAX_TENANT_PAGE } from '@fairway/db';
import { ValidationError } from '@fairway/errors';
import { parseTenantId } from '@fairway/tenant-context';
import type { AdminDeps } from './deps';
import { actorOf, parse, tenantParam } from './request';

/** The isolation models the catalog provisions (tenantctl offers the same). */
export const ISOLATION_MODELS = ['pooled', 'schema', 'database'] as const;

const tenantBody = z
  .object({
    id: z.string().min(1).max(63),
    displayName: z.string().min(1).max(200).optional(),
    plan: z.string().min(1).max(50).optional(),
    isolationModel: z.enum(ISOLATION_MODELS).optional(),
    dbServer: z.string().min(1).max(100).optional(),
  })
  .strict();

/** Tenants a page holds when the request does not say (the most is MAX_TENANT_PAGE, 1000). */
export const DEFAULT_TENANT_PAGE = 100;

const tenantsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_TENANT_PAGE).default(DEFAULT_TENANT_PAGE),
    after: z.string().min(1).max(200).optional(),
  })
  .strict();

/** /tenants: list, create, read, suspend, resume and delete. The catalog audits every change in its own transaction. */
export function tenantsRoutes(deps: Pick<AdminDeps, 'catalog'>): Router {
  const routes = Router();
  routes.get('/tenants', async (req, res) => {
    const query = parse(tenantsQuery, req.query, 'the tenants query');
    const after = query.after === undefined ? undefined : parseTenantId(query.after);
    if (query.after !== undefined && !after)
      throw new ValidationError(`after must be a tenant id: pass nextAfter of the previous page (got '${query.after.slice(0, 64)}')`, [
        { path: 'after', message: 'not a tenant id' },
      ]);
    const page = await deps.catalog.listPage({ after, limit: query.limit });
    // RFC 8288: the next page's URL for clients that follow links instead of reading the body.
    if (page.nextAfter !== null) res.links({ next: `/admin/v1/tenants?limit=${query.limit}&after=${encodeURIComponent(page.nextAfter)}` });
    res.json(page);
  });
  routes.post('/tenants', async (req, res) => {
    const body = parse(tenantBody, req.body, 'the tenant');
    const id = parseTenantId(body.id);
    if (!id)
      throw new ValidationError(`'${body.id}' is not a tenant id: use 1-63 lowercase letters, digits and dashes`, [
        { path: 'id', message: 'invalid tenant id' },
      ]);
    const tenant = await deps.catalog.create({ ...body, id }, actorOf(req));
    res.status(201).location(`/admin/v1/tenants/${id}`).json(tenant);
  });
  routes.get('/tenants/:id', async (req, res) => {
    res.json(await deps.catalog.get(tenantParam(req)));
  });
  const statusChange = (status: 'suspended' | 'active' | 'deleted') => async (req: Request, res: Response) => {
    const id = tenantParam(req);
    res.json(status === 'deleted' ? await deps.catalog.delete(id, actorOf(req)) : await deps.catalog.setStatus(id, status, actorOf(req)));
  };
  routes.post('/tenants/:id/suspend', statusChange('suspended'));
  routes.post('/tenants/:id/resume', statusChange('active'));
  routes.delete('/tenants/:id', statusChange('deleted'));
  return routes;
}
