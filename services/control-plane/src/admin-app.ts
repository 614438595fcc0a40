import express, { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import { AuditAction, appendAudit, listAudit, MAX_AUDIT_PAGE, verifyAuditChains, type AuditEntryInput } from '@fairway/audit';
import { FairwayError, ForbiddenError, HttpRequestError, NotFoundError, UnauthenticatedError, ValidationError } from '@fairway/errors';
import { parseTenantId, type TenantId } from '@fairway/tenant-context';
import type { Logger } from '@fairway/telemetry';
import { issueApiKey, revokeApiKey, type TokenVerifier } from '@fairway/auth';
import { inTransaction } from '@fairway/db';
import { problemMiddleware } from '@fairway/http';
import type { SchedulerAdminGateway, SchedulerQuota } from './scheduler-admin-client';
import type { TenantCatalog } from './tenant-catalog';
import { readReencryption, runReencryption, startReencryption, type KeyProvider, type RunReencryptionOptions } from '@fairway/crypto';
import { recordsReencryptionTargets, type TenantData } from '@fairway/records';

/** What the admin app is wired to. */
export interface AdminDeps {
  /** Verifies operator tokens: their own issuer and audience (OPERATOR_JWT_*), never the tenants'. */
  tokens: TokenVerifier;
  catalog: Pick<TenantCatalog, 'list' | 'get' | 'create' | 'setStatus' | 'delete'>;
  scheduler: Pick<SchedulerAdminGateway, 'getQuota' | 'setQuota' | 'stats' | 'explain'>;
  /** The owner role: issues and revokes API keys, writes and reads the audit trail. */
  ownerPool: Pool;
  /**
   * Tenant data keys: rotation and the background re-encryption of the tenant's values under the
   * new key. `data` reaches the tenant's records in its isolation model; `appPool` is the catalog as
   * the application role (stored job results, under RLS). Key rows and the run's state are the
   * owner's (`ownerPool`).
   */
  keys?: {
    provider: KeyProvider;
    appPool: Pool;
    data: TenantData;
    /** Batch size, stale limit and the like of the background runs (libs/crypto defaults otherwise). */
    reencryption?: RunReencryptionOptions;
  };
  log: Logger;
  onRefusal?: (reason: string) => void;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The operator an admin request acts as (the token's subject). */
    operator?: string;
  }
}

const tenantBody = z
  .object({
    id: z.string().min(1).max(63),
    displayName: z.string().min(1).max(200).optional(),
    plan: z.string().min(1).max(50).optional(),
    isolationModel: z.enum(['pooled', 'schema', 'database']).optional(),
    dbServer: z.string().min(1).max(100).optional(),
  })
  .strict();

const QUOTA_FIELDS = ['weight', 'rate', 'burst', 'maxInFlight'] as const;
const quotaBody = z
  .object({
    weight: z.number().positive().max(1_000_000).optional(),
    rate: z.number().positive().optional(),
    burst: z.number().min(1).optional(),
    maxInFlight: z.number().int().min(1).max(1_000_000).optional(),
    clear: z.array(z.enum(['rate', 'burst', 'maxInFlight'])).max(3).default([]),
  })
  .strict()
  .refine((q) => QUOTA_FIELDS.some((f) => q[f] !== undefined) || q.clear.length > 0, { message: 'set at least one of weight, rate, burst, maxInFlight, or clear' });

const isoDate = z.string().datetime({ offset: true }).transform((s) => new Date(s));
const auditQuery = z
  .object({
    tenant: z.string().min(1).max(63).optional(),
    actor: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(100).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100),
    after: z.string().regex(/^\d{1,19}$/).optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(`${what} is not valid`, parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })));
  }
  return parsed.data;
}

function tenantParam(req: Request): TenantId {
  const id = parseTenantId(String(req.params['id']));
  if (!id) throw new NotFoundError('tenant', String(req.params['id']).slice(0, 64));
  return id;
}

/** A quota without proto3's synthetic oneof markers (`_rate`), with unset limits as null. */
function quotaJson(quota: SchedulerQuota) {
  return {
    tenantId: quota.tenantId,
    weight: quota.weight,
    rate: quota.rate ?? null,
    burst: quota.burst ?? null,
    maxInFlight: quota.maxInFlight ?? null,
    updatedAt: quota.updatedAt,
    updatedBy: quota.updatedBy,
  };
}

/**
 * Operators authenticate with a JWT of the operators' issuer and audience (OPERATOR_JWT_*), whose
 * `role` is "operator" and which has NO tenant_id. A tenant's token fails verification here (another
 * audience, and another key), and an API key is not a bearer token at all: neither can act on the fleet.
 */
function requireOperator(deps: AdminDeps) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const refuse = (reason: string, err: FairwayError): void => {
      deps.log.info({ reason, path: req.path }, 'admin request refused');
      deps.onRefusal?.(reason);
      next(err);
    };
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$/.exec(req.headers.authorization ?? '');
    if (!match?.[1]) {
      refuse('no-credential', new UnauthenticatedError('send an operator token: Authorization: Bearer <jwt> (npm run -s token -- --operator)'));
      return;
    }
    deps.tokens.verify(match[1]).then(
      (claims) => {
        if (claims.role !== 'operator' || claims.tenantId !== undefined) {
          refuse('not-operator', new ForbiddenError('the admin API needs an operator token (role "operator", no tenant_id)'));
          return;
        }
        req.operator = claims.subject ?? 'operator';
        next();
      },
      (err: unknown) => refuse('bad-token', err instanceof FairwayError ? err : new UnauthenticatedError('the token is not valid')),
    );
  };
}

/**
 * The operators' admin API, served by the control plane on its own port (ADMIN_PORT), never by the
 * public edge: tenants, API keys, quotas, scheduler stats, data keys and re-encryption, audit.
 */
export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Never swallowed: an action whose record cannot be written fails (and, in a transaction, is undone).
  const audit = async (req: Request, entry: Omit<AuditEntryInput, 'actor'>, db: Pool | PoolClient = deps.ownerPool): Promise<void> => {
    await appendAudit(db, { ...entry, actor: req.operator ?? 'operator' });
  };
  const actor = (req: Request) => {
    const reason = typeof req.query['reason'] === 'string' ? req.query['reason'].slice(0, 500) : undefined;
    return { actor: req.operator ?? 'operator', ...(reason === undefined ? {} : { reason }) };
  };

  /** Runs `fn` in an owner transaction that also holds its audit entry: both commit or neither. */
  const audited = <T>(fn: (tx: PoolClient) => Promise<T>): Promise<T> => inTransaction(deps.ownerPool, fn);

  const v1 = Router();
  v1.use(requireOperator(deps), express.json({ limit: '64kb', strict: true }));

  v1.get('/tenants', async (_req, res) => {
    res.json({ tenants: await deps.catalog.list() });
  });
  v1.post('/tenants', async (req, res) => {
    const body = parse(tenantBody, req.body, 'the tenant');
    const id = parseTenantId(body.id);
    if (!id) throw new ValidationError(`'${body.id}' is not a tenant id: use 1-63 lowercase letters, digits and dashes`, [{ path: 'id', message: 'invalid tenant id' }]);
    // The catalog records the creation in the audit trail.
    const tenant = await deps.catalog.create({ ...body, id }, actor(req));
    res.status(201).location(`/admin/v1/tenants/${id}`).json(tenant);
  });
  v1.get('/tenants/:id', async (req, res) => {
    res.json(await deps.catalog.get(tenantParam(req)));
  });
  // Status changes and deletions are audited by the catalog, in the transaction of the change.
  const statusChange = (status: string) => async (req: Request, res: Response) => {
    const id = tenantParam(req);
    res.json(status === 'deleted' ? await deps.catalog.delete(id, actor(req)) : await deps.catalog.setStatus(id, status, actor(req)));
  };
  v1.post('/tenants/:id/suspend', statusChange('suspended'));
  v1.post('/tenants/:id/resume', statusChange('active'));
  v1.delete('/tenants/:id', statusChange('deleted'));

  v1.post('/tenants/:id/api-keys', async (req, res) => {
    const id = tenantParam(req);
    await deps.catalog.get(id);
    const issued = await audited(async (tx) => {
      const key = await issueApiKey(tx, id);
      await audit(req, { chain: id, action: AuditAction.keyIssue, target: `api-key:${key.id}`, after: { id: key.id, prefix: key.prefix, createdAt: key.createdAt } }, tx);
      return key;
    });
    res.status(201).json(issued);
  });
  v1.delete('/tenants/:id/api-keys/:keyId', async (req, res) => {
    const id = tenantParam(req);
    const keyId = parse(z.string().uuid(), req.params['keyId'], 'the key id');
    const revoked = await audited(async (tx) => {
      const change = await revokeApiKey(tx, id, keyId);
      if (change) await audit(req, { chain: id, action: AuditAction.keyRevoke, target: `api-key:${keyId}`, before: change.before, after: change.after }, tx);
      return change;
    });
    if (!revoked) throw new NotFoundError('api key', keyId);
    res.json(revoked.after);
  });

  // Key rotation: a new data key for new writes at once (old versions stay readable), then every
  // value of the tenant (records.body in its pooled rows, schema or database, and its stored job
  // results) is re-encrypted under it by a background run on this replica. The run's state is in
  // the catalog (tenant_reencryptions), so any replica answers for it, a second rotation is refused
  // while it runs, and a failed or stalled run is resumed from its cursors.
  const keyAdmin = () => {
    if (!deps.keys) throw new HttpRequestError('ROUTE_NOT_FOUND', 'key management is not configured on this control plane: start it with its key provider and tenant data router');
    return deps.keys;
  };
  const runInBackground = (keys: NonNullable<AdminDeps['keys']>, tenantId: TenantId, runId: string): void => {
    const targets = recordsReencryptionTargets({ data: keys.data, catalogPool: keys.appPool }, tenantId);
    void runReencryption(deps.ownerPool, keys.provider, tenantId, runId, targets, keys.reencryption ?? {}).then(
      (status) => {
        if (status.state === 'failed') deps.log.error({ tenant: tenantId, runId, error: status.error }, 're-encryption failed; fix the cause and resume it');
        else deps.log.info({ tenant: tenantId, runId, state: status.state, scanned: status.scanned, reencrypted: status.reencrypted }, 're-encryption finished');
      },
      (err: unknown) => deps.log.error({ err, tenant: tenantId, runId }, 're-encryption could not run; resume it with POST .../keys/reencryption'),
    );
  };
  const startKeyJob = (rotate: boolean) => async (req: Request, res: Response) => {
    const id = tenantParam(req);
    const keys = keyAdmin();
    await deps.catalog.get(id);
    const reason = typeof req.query['reason'] === 'string' ? req.query['reason'].slice(0, 500) : undefined;
    const status = await startReencryption(deps.ownerPool, keys.provider, id, {
      actor: req.operator ?? 'operator',
      rotate,
      ...(reason === undefined ? {} : { reason }),
      ...(keys.reencryption?.staleAfterMs === undefined ? {} : { staleAfterMs: keys.reencryption.staleAfterMs }),
    });
    runInBackground(keys, id, status.runId);
    res.status(202).location(`/admin/v1/tenants/${id}/keys/reencryption`).json({ tenantId: id, keyVersion: status.toKeyVersion, reencryption: status });
  };
  v1.post('/tenants/:id/keys/rotate', startKeyJob(true));
  // Re-encrypts to the current key without rotating: resumes a failed or stalled run, or checks again.
  v1.post('/tenants/:id/keys/reencryption', startKeyJob(false));
  v1.get('/tenants/:id/keys/reencryption', async (req, res) => {
    const id = tenantParam(req);
    const staleAfterMs = deps.keys?.reencryption?.staleAfterMs;
    const status = await readReencryption(deps.ownerPool, id, staleAfterMs === undefined ? {} : { staleAfterMs });
    if (!status) throw new NotFoundError('re-encryption', id);
    res.json(status);
  });

  v1.get('/tenants/:id/quota', async (req, res) => {
    res.json(quotaJson(await deps.scheduler.getQuota(tenantParam(req))));
  });
  v1.put('/tenants/:id/quota', async (req, res) => {
    const id = tenantParam(req);
    const body = parse(quotaBody, req.body, 'the quota');
    const before = await deps.scheduler.getQuota(id);
    const after = await deps.scheduler.setQuota({ tenantId: id, ...body, actor: req.operator ?? 'operator' });
    await audit(req, { chain: id, action: AuditAction.quotaSet, target: id, before: quotaJson(before), after: quotaJson(after) });
    res.json(quotaJson(after));
  });

  v1.get('/stats', async (_req, res) => {
    res.json(await deps.scheduler.stats());
  });
  v1.get('/tenants/:id/explain', async (req, res) => {
    const explanation = await deps.scheduler.explain(tenantParam(req));
    let details: unknown = null;
    try {
      details = explanation.detailsJson ? JSON.parse(explanation.detailsJson) : null;
    } catch {
      details = explanation.detailsJson;
    }
    res.json({ tenantId: explanation.tenantId, state: explanation.state, reason: explanation.reason, details });
  });

  v1.get('/audit', async (req, res) => {
    const query = parse(auditQuery, req.query, 'the audit query');
    const entries = await listAudit(deps.ownerPool, query);
    const last = entries[entries.length - 1];
    res.json({ entries, nextAfter: entries.length === query.limit && last ? last.id : null });
  });
  v1.get('/audit/verify', async (req, res) => {
    const { tenant } = parse(z.object({ tenant: z.string().min(1).max(63).optional() }).strict(), req.query, 'the query');
    res.json(await verifyAuditChains(deps.ownerPool, tenant === undefined ? {} : { tenant }));
  });

  app.use('/admin/v1', v1);
  app.use((req, _res, next) => {
    next(new HttpRequestError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemMiddleware(deps.log));
  return app;
}
