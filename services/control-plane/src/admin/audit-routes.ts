import { Router } from 'express';
import { z } from 'zod';
import { listAudit, MAX_AUDIT_PAGE, verifyAuditChains } from '@fairway/audit';
import type { AdminDeps } from './deps';
import { parse } from './request';

const isoDate = z
  .string()
  .datetime({ offset: true })
  .transform((s) => new Date(s));
const auditQuery = z
  .object({
    tenant: z.string().min(1).max(63).optional(),
    actor: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(100).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100),
    after: z
      .string()
      .regex(/^\d{1,19}$/)
      .optional(),
  })
  .strict();

/** /audit: read the trail a page at a time, and verify its hash chains. */
export function auditRoutes(deps: Pick<AdminDeps, 'ownerPool'>): Router {
  const routes = Router();
  routes.get('/audit', async (req, res) => {
    const query = parse(auditQuery, req.query, 'the audit query');
    const entries = await listAudit(deps.ownerPool, query);
    const last = entries[entries.length - 1];
    res.json({ entries, nextAfter: entries.length === query.limit && last ? last.id : null });
  });
  routes.get('/audit/verify', async (req, res) => {
    const { tenant } = parse(z.object({ tenant: z.string().min(1).max(63).optional() }).strict(), req.query, 'the query');
    res.json(await verifyAuditChains(deps.ownerPool, tenant === undefined ? {} : { tenant }));
  });
  return routes;
}
