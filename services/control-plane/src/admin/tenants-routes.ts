import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
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

/** /tenants: list, create, read, suspend, resume and delete. The catalog audits every change in its own transaction. */
export function tenantsRoutes(deps: Pick<AdminDeps, 'catalog'>): Router {
  const routes = Router();
  routes.get('/tenants', async (_req, res) => {
    res.json({ tenants: await deps.catalog.list() });
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
