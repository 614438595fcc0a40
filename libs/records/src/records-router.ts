import { Router, type Request } from 'express';
import { TenantRequiredError } from '@fairway/errors';
import { currentTenant, type TenantContext } from '@fairway/tenant-context';
import { listQuerySchema, parseOrThrow, recordInputSchema, recordPatchSchema } from './record';
import type { RecordsRepository } from './records-repository';

/** What the records routes are wired to. */
export interface RecordsRouterDeps {
  repository: RecordsRepository;
}

/**
 * The tenant of a request: `req.tenant`, which only the edge's authenticate middleware sets from a
 * verified credential, else the async context it runs the request in. Never a header or the body.
 */
function tenantOf(req: Request): TenantContext {
  const tenant = (req as Request & { tenant?: TenantContext }).tenant ?? currentTenant();
  if (!tenant) throw new TenantRequiredError('the records API');
  return tenant;
}

/**
 * The /v1/records API: GET / (cursor paging, ?tag=), POST /, GET /:id, PATCH /:id, DELETE /:id.
 * Bodies are validated with zod (ValidationError, 400); a record the tenant does not have is
 * NotFoundError (404), whether or not another tenant has it. Mount it behind authentication:
 * `app.use('/v1/records', recordsRouter({ repository }))`.
 */
export function recordsRouter(deps: RecordsRouterDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query, 'query');
    res.json(await deps.repository.list(tenantOf(req), query));
  });
  router.post('/', async (req, res) => {
    const input = parseOrThrow(recordInputSchema, req.body, 'body');
    const record = await deps.repository.create(tenantOf(req), input);
    res.status(201).location(`${req.baseUrl}/${record.id}`).json(record);
  });
  router.get('/:id', async (req, res) => {
    res.json(await deps.repository.get(tenantOf(req), req.params.id));
  });
  router.patch('/:id', async (req, res) => {
    const patch = parseOrThrow(recordPatchSchema, req.body, 'body');
    res.json(await deps.repository.update(tenantOf(req), req.params.id, patch));
  });
  router.delete('/:id', async (req, res) => {
    await deps.repository.delete(tenantOf(req), req.params.id);
    res.status(204).end();
  });
  return router;
}
