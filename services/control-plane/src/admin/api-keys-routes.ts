import { Router } from 'express';
import { z } from 'zod';
import { AuditAction } from '@fairway/audit';
import { issueApiKey, revokeApiKey } from '@fairway/auth';
import { inTransaction } from '@fairway/db';
import { NotFoundError } from '@fairway/errors';
import type { AdminDeps } from './deps';
import { audit, parse, tenantParam } from './request';

/** /tenants/:id/api-keys: issue and revoke, each in one owner transaction with its audit entry (both commit or neither). */
export function apiKeysRoutes(deps: Pick<AdminDeps, 'catalog' | 'ownerPool'>): Router {
  const routes = Router();
  routes.post('/tenants/:id/api-keys', async (req, res) => {
    const id = tenantParam(req);
    await deps.catalog.get(id);
    const issued = await inTransaction(deps.ownerPool, async (tx) => {
      const key = await issueApiKey(tx, id);
      await audit(tx, req, {
        chain: id,
        action: AuditAction.keyIssue,
        target: `api-key:${key.id}`,
        after: { id: key.id, prefix: key.prefix, createdAt: key.createdAt },
      });
      return key;
    });
    res.status(201).json(issued);
  });
  routes.delete('/tenants/:id/api-keys/:keyId', async (req, res) => {
    const id = tenantParam(req);
    const keyId = parse(z.string().uuid(), req.params['keyId'], 'the key id');
    const revoked = await inTransaction(deps.ownerPool, async (tx) => {
      const change = await revokeApiKey(tx, id, keyId);
      if (change) await audit(tx, req, { chain: id, action: AuditAction.keyRevoke, target: `api-key:${keyId}`, before: change.before, after: change.after });
      return change;
    });
    if (!revoked) throw new NotFoundError('api key', keyId);
    res.json(revoked.after);
  });
  return routes;
}
