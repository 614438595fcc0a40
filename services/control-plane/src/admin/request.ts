import type { Request } from 'express';
import type { Pool, PoolClient } from 'pg';
import type { z } from 'zod';
import { appendAudit, type AuditEntryInput } from '@fairway/audit';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { parseTenantId, type TenantId } from '@fairway/tenant-context';

declare module 'express-serve-static-core' {
  interface Request {
    /** The operator an admin request acts as (the token's subject). */
    operator?: string;
  }
}

/** `value` validated by `schema`, or a ValidationError (problem+json 400) naming every bad field. */
export function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(
      `${what} is not valid`,
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
    );
  }
  return parsed.data;
}

/** The `:id` of the route as a tenant id; a malformed one is a tenant that does not exist. */
export function tenantParam(req: Request): TenantId {
  const id = parseTenantId(String(req.params['id']));
  if (!id) throw new NotFoundError('tenant', String(req.params['id']).slice(0, 64));
  return id;
}

/** The operator's optional `?reason=`, at most 500 characters. */
export function reasonOf(req: Request): string | undefined {
  return typeof req.query['reason'] === 'string' ? req.query['reason'].slice(0, 500) : undefined;
}

/** Who acts, and why, as the catalog records it. */
export function actorOf(req: Request): { actor: string; reason?: string } {
  const reason = reasonOf(req);
  return { actor: req.operator ?? 'operator', ...(reason === undefined ? {} : { reason }) };
}

/** Appends the request's audit entry. Never swallowed: an action whose record cannot be written fails (and, in a transaction, is undone). */
export async function audit(db: Pool | PoolClient, req: Request, entry: Omit<AuditEntryInput, 'actor'>): Promise<void> {
  await appendAudit(db, { ...entry, actor: req.operator ?? 'operator' });
}
