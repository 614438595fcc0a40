import { Router, type Request, type Response } from 'express';
import { readReencryption, runReencryption, startReencryption } from '@fairway/crypto';
import { withQueryWorkload } from '@fairway/db';
import { HttpRequestError, NotFoundError } from '@fairway/errors';
import { recordsReencryptionTargets } from '@fairway/records';
import type { TenantId } from '@fairway/tenant-context';
import type { AdminDeps } from './deps';
import { reasonOf, tenantParam } from './request';

/**
 * /tenants/:id/keys: key rotation, a new data key for new writes at once (old versions stay
 * readable), then every value of the tenant (records.body in its pooled rows, schema or database,
 * and its stored job results) is re-encrypted under it by a background run on this replica. The
 * run's state is in the catalog (tenant_reencryptions), so any replica answers for it, a second
 * rotation is refused while it runs, and a failed or stalled run is resumed from its cursors.
 */
export function dataKeysRoutes(deps: Pick<AdminDeps, 'catalog' | 'ownerPool' | 'keys' | 'log'>): Router {
  const routes = Router();
  const keyAdmin = () => {
    if (!deps.keys)
      throw new HttpRequestError(
        'ROUTE_NOT_FOUND',
        'key management is not configured on this control plane: start it with its key provider and tenant data router',
      );
    return deps.keys;
  };
  const runInBackground = (keys: NonNullable<AdminDeps['keys']>, tenantId: TenantId, runId: string): void => {
    const targets = recordsReencryptionTargets({ data: keys.data, catalogPool: keys.appPool }, tenantId);
    // A background run over all of a tenant's data: its transactions get the tenant's `heavy` query time limits.
    void withQueryWorkload('heavy', () => runReencryption(deps.ownerPool, keys.provider, tenantId, runId, targets, keys.reencryption ?? {})).then(
      (status) => {
        if (status.state === 'failed') deps.log.error({ tenant: tenantId, runId, error: status.error }, 're-encryption failed; fix the cause and resume it');
        else
          deps.log.info({ tenant: tenantId, runId, state: status.state, scanned: status.scanned, reencrypted: status.reencrypted }, 're-encryption finished');
      },
      (err: unknown) => deps.log.error({ err, tenant: tenantId, runId }, 're-encryption could not run; resume it with POST .../keys/reencryption'),
    );
  };
  const startKeyJob = (rotate: boolean) => async (req: Request, res: Response) => {
    const id = tenantParam(req);
    const keys = keyAdmin();
    await deps.catalog.get(id);
    const reason = reasonOf(req);
    const status = await startReencryption(deps.ownerPool, keys.provider, id, {
      actor: req.operator ?? 'operator',
      rotate,
      ...(reason === undefined ? {} : { reason }),
      ...(keys.reencryption?.staleAfterMs === undefined ? {} : { staleAfterMs: keys.reencryption.staleAfterMs }),
    });
    runInBackground(keys, id, status.runId);
    res.status(202).location(`/admin/v1/tenants/${id}/keys/reencryption`).json({ tenantId: id, keyVersion: status.toKeyVersion, reencryption: status });
  };
  routes.post('/tenants/:id/keys/rotate', startKeyJob(true));
  // Re-encrypts to the current key without rotating: resumes a failed or stalled run, or checks again.
  routes.post('/tenants/:id/keys/reencryption', startKeyJob(false));
  routes.get('/tenants/:id/keys/reencryption', async (req, res) => {
    const id = tenantParam(req);
    const staleAfterMs = deps.keys?.reencryption?.staleAfterMs;
    const status = await readReencryption(deps.ownerPool, id, staleAfterMs === undefined ? {} : { staleAfterMs });
    if (!status) throw new NotFoundError('re-encryption', id);
    res.json(status);
  });
  return routes;
}
