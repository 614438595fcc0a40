import { once } from 'node:events';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { AuditAction, appendAudit } from '@fairway/audit';
import { awaitWritesInProgress, inTransaction, setTenantStatus, type IsolationModel } from '@fairway/db';
import { ConfigInvalidError, NotFoundError, ValidationError } from '@fairway/errors';
import { restoreTenantBackup, writeTenantBackup } from '@fairway/tenant-backup';
import { parseTenantId } from '@fairway/tenant-context';
import type { AdminDeps } from './deps';
import { actorOf, parse, tenantParam } from './request';

/** The media type of a backup archive. */
export const BACKUP_MEDIA_TYPE = 'application/vnd.fairway.backup';

const MODELS = ['pooled', 'schema', 'database'] as const satisfies readonly IsolationModel[];

const restoreQuery = z
  .object({
    as: z.string().min(1).max(63).optional(),
    model: z.enum(MODELS).optional(),
    dbServer: z.string().min(1).max(63).optional(),
    reason: z.string().optional(),
  })
  .strict();

const offboardBody = z
  .object({
    archiveId: z.string().uuid(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/**
 * Backup, restore and "export then delete" (issue #20): they need the owner role and the KEK, so
 * they are served here, in the admin plane, and tenantctl streams to and from them.
 *
 * - `GET /tenants/:id/backup[?fence=offboarding]`: the archive, streamed. With the fence, the tenant
 *   is first set `offboarding` (audited as the start of its deletion), which stops every new write
 *   (migration 621's triggers), and the writes in progress are waited for, so the archive holds the
 *   tenant's last state.
 * - `POST /tenants/restore[?as=&model=&dbServer=]`: the archive as the body; 201 with what was restored.
 * - `POST /tenants/:id/offboard {archiveId, sha256}`: deletes a fenced tenant (crypto-shredding and
 *   all) once its `tenant.backup` entry shows that archive, whole, with that SHA-256: the operator's
 *   copy is what the control plane wrote. Audited in the tenant's chain with the archive it kept.
 */
export function backupRoutes(deps: Pick<AdminDeps, 'catalog' | 'ownerPool' | 'backup' | 'log'>): Router {
  const routes = Router();
  const backup = () => {
    if (!deps.backup) throw new ConfigInvalidError('backups are not configured on this control plane: set FAIRWAY_BACKUP_KEY_<ID> (base64 of 32 bytes)');
    return deps.backup;
  };

  routes.get('/tenants/:id/backup', async (req, res) => {
    const id = tenantParam(req);
    const backupDeps = backup();
    const before = await deps.catalog.get(id);
    const who = actorOf(req);
    if (req.query['fence'] === 'offboarding') await fenceForOffboarding(deps, req, id, before.status);
    else if (req.query['fence'] !== undefined) throw new ValidationError(`fence must be 'offboarding'`, [{ path: 'query.fence', message: 'unknown fence' }]);
    res.status(200).type(BACKUP_MEDIA_TYPE).attachment(`${id}.fwbak`);
    try {
      const result = await writeTenantBackup(backupDeps, id, res, who);
      deps.log.info({ tenant: id, archiveId: result.header.archiveId, bytes: result.bytes, actor: who.actor }, 'tenant backed up');
    } catch (err) {
      // Once bytes went out, a problem document cannot follow them: the cut stream (no final frame)
      // is what the client sees, and the archive reader refuses it.
      if (res.headersSent) {
        deps.log.error({ err, tenant: id }, 'backup failed while streaming');
        res.destroy(err as Error);
        return;
      }
      throw err;
    }
  });

  routes.post('/tenants/restore', async (req, res) => {
    const query = parse(restoreQuery, req.query, 'the restore');
    const as = query.as === undefined ? undefined : parseTenantId(query.as);
    if (query.as !== undefined && !as)
      throw new ValidationError(`'${query.as}' is not a tenant id: use 1-63 lowercase letters, digits and dashes`, [
        { path: 'query.as', message: 'invalid tenant id' },
      ]);
    try {
      const result = await restoreTenantBackup(backup(), req, {
        ...actorOf(req),
        ...(as ? { as } : {}),
        ...(query.model ? { model: query.model } : {}),
        ...(query.dbServer ? { dbServer: query.dbServer } : {}),
      });
      deps.log.info({ tenant: result.tenant.id, from: result.from, rows: result.rows }, 'tenant restored');
      res
        .status(201)
        .location(`/admin/v1/tenants/${result.tenant.id}`)
        .json({ ...result, tenant: await deps.catalog.get(result.tenant.id) });
    } catch (err) {
      // Read the rest of the upload before answering, so the client gets the problem document and
      // not a connection reset in the middle of its request.
      if (!req.readableEnded) {
        req.resume();
        await once(req, 'end').catch(() => undefined);
      }
      throw err;
    }
  });

  routes.post('/tenants/:id/offboard', async (req, res) => {
    const id = tenantParam(req);
    const body = parse(offboardBody, req.body, 'the offboarding');
    const tenant = await deps.catalog.get(id);
    if (tenant.status !== 'offboarding' && tenant.status !== 'deleted') {
      throw new ValidationError(`tenant '${id}' is ${tenant.status}: export it first with GET /admin/v1/tenants/${id}/backup?fence=offboarding`, [
        { path: 'status', message: 'not fenced for offboarding' },
      ]);
    }
    // The archive must be the one written after the fence: the newest backup entry of the chain,
    // later than the fence's entry, with the operator's SHA-256.
    const { rows } = await deps.ownerPool.query<{ action: string; archive_id: string | null; sha256: string | null; bytes: string | null }>(
      `SELECT action, after->>'archiveId' AS archive_id, after->>'sha256' AS sha256, after->>'bytes' AS bytes FROM audit_log
        WHERE chain = $1 AND (action = $2 OR (action = $3 AND after->>'status' = 'offboarding'))
        ORDER BY seq DESC LIMIT 1`,
      [id, AuditAction.tenantBackup, AuditAction.tenantDelete],
    );
    const last = rows[0];
    if (!last || last.action !== AuditAction.tenantBackup || last.archive_id !== body.archiveId) {
      throw new NotFoundError('backup archive written after the offboarding fence', body.archiveId);
    }
    if (last.sha256 !== body.sha256) {
      throw new ValidationError(`the archive's SHA-256 ${body.sha256} is not the ${last.sha256} the control plane wrote: keep a whole copy, then retry`, [
        { path: 'sha256', message: 'does not match the archive written' },
      ]);
    }
    const who = actorOf(req);
    await appendAudit(deps.ownerPool, {
      chain: id,
      actor: who.actor,
      action: AuditAction.tenantDelete,
      target: id,
      before: { status: tenant.status },
      after: { status: 'deleted', export: { archiveId: body.archiveId, sha256: body.sha256, bytes: Number(last.bytes) } },
      ...(who.reason === undefined ? {} : { reason: who.reason }),
    });
    res.json(await deps.catalog.delete(id, who));
  });
  return routes;
}

/**
 * Starts a deletion with its export: status `offboarding` and its audit entry in one transaction,
 * then a wait for every write already in progress (the shredding's barrier), so nothing written
 * for the tenant after this is missing from the archive; nothing new can be written at all.
 */
async function fenceForOffboarding(deps: Pick<AdminDeps, 'ownerPool'>, req: Request, id: string, status: string): Promise<void> {
  if (status === 'deleted') throw new NotFoundError('tenant', id);
  if (status !== 'offboarding') {
    await inTransaction(deps.ownerPool, async (tx) => {
      await setTenantStatus(tx, id, 'offboarding');
      const who = actorOf(req);
      await appendAudit(tx, {
        chain: id,
        actor: who.actor,
        action: AuditAction.tenantDelete,
        target: id,
        before: { status },
        after: { status: 'offboarding', export: 'pending' },
        ...(who.reason === undefined ? {} : { reason: who.reason }),
      });
    });
  }
  await awaitWritesInProgress(deps.ownerPool);
}
