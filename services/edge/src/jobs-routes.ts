import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type { z } from 'zod';
import { JobNotCancellableError, NotFoundError, ValidationError } from '@fairway/errors';
import { withTenantId } from '@fairway/db';
import { validateJob } from '@fairway/jobs';
import { commandMessage, type Publisher } from '@fairway/kafka';
import { withTenantBaggage } from '@fairway/tenant-context';
import { injectTraceHeaders } from '@fairway/telemetry';
import { context } from '@opentelemetry/api';
import { createJobBody, idempotencyKeyHeader, jobIdParam, listJobsQuery } from './api-schemas';
import { requestTenant } from './authenticate';
import type { IdempotencyStore } from './idempotency';
import { CIPHERTEXT_PREFIX } from '@fairway/crypto';
import type { FieldCipher } from '@fairway/records';

/** Job ids derived from (tenant, Idempotency-Key) live in this UUIDv5 namespace. */
const IDEMPOTENCY_NAMESPACE = '6f1c9a52-3b7e-4d0b-9a57-1f0f6c1e2b44';

/** The job id of a keyed command: a function of (tenant, key), so a retry maps to the same job. */
export function idempotentJobId(tenantId: string, key: string): string {
  return uuidv5(`${tenantId}\n${key}`, IDEMPOTENCY_NAMESPACE);
}

function zodIssues(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
}

function parseOr404<T>(schema: z.ZodType<T>, value: unknown, shown: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new NotFoundError('job', shown.slice(0, 64));
  return parsed.data;
}

interface JobRow {
  id: string;
  tenant_id: string;
  type: string;
  job_class: string;
  state: string;
  priority: number;
  attempts: number;
  last_error: string | null;
  result: unknown;
  accepted_at: Date;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const JOB_COLUMNS = `id, tenant_id, type, job_class, state, priority, attempts, last_error, result,
  accepted_at, queued_at, started_at, finished_at`;

function toJob(row: JobRow) {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    jobClass: row.job_class,
    state: row.state,
    priority: row.priority,
    attempts: row.attempts,
    lastError: row.last_error,
    result: row.result,
    acceptedAt: row.accepted_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/**
 * A page cursor: the (accepted_at, id) of the last job of the previous page, opaque to clients.
 * accepted_at travels as PostgreSQL's microsecond text: a JS Date would cut it to milliseconds and
 * the next page would skip or repeat jobs accepted within the same millisecond.
 */
function encodeCursor(row: JobRow & { cursor_at: string }): string {
  return Buffer.from(JSON.stringify([row.cursor_at, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && !Number.isNaN(Date.parse(value[0])) && /^[0-9a-f-]{36}$/.test(String(value[1]))) {
      return [value[0], String(value[1])];
    }
  } catch {
    // fall through: any undecodable cursor is the same validation error
  }
  throw new ValidationError('the cursor is not valid; pass nextCursor of the previous page unchanged', [{ path: 'cursor', message: 'invalid cursor' }]);
}

/** PostgreSQL "undefined_table": job_artifacts is created by its own migration, maybe not yet here. */
const UNDEFINED_TABLE = '42P01';

/** What the jobs API is wired to. */
export interface JobsDeps {
  publisher: Publisher;
  pool: Pool;
  idempotency: IdempotencyStore;
  /** Opens results the worker stored sealed with the tenant's key. */
  cipher?: FieldCipher;
  onAccepted?: (tenant: string) => void;
}

/**
 * POST /v1/jobs: validates the command, claims its Idempotency-Key, publishes it to Kafka and
 * answers 202 once the broker acknowledged it. The hot path of the edge, so the app mounts it as a
 * route of its own (see createEdgeApp) rather than behind a sub-router.
 */
export function createJobHandler(deps: Pick<JobsDeps, 'publisher' | 'idempotency' | 'onAccepted'>) {
  return async (req: Request, res: Response): Promise<void> => {
    const tenant = requestTenant(req);
    const parsed = createJobBody.safeParse(req.body);
    if (!parsed.success) throw new ValidationError('the job request is not valid', zodIssues(parsed.error));
    const job = validateJob(parsed.data.type, parsed.data.params);

    const keyHeader = req.get('idempotency-key');
    let key: string | undefined;
    if (keyHeader !== undefined) {
      const checked = idempotencyKeyHeader.safeParse(keyHeader);
      if (!checked.success) throw new ValidationError('the Idempotency-Key header is not valid', [{ path: 'Idempotency-Key', message: checked.error.issues[0]?.message ?? 'invalid' }]);
      key = checked.data;
    }
    // With a key, the job id is a function of (tenant, key): a retried request maps to the same job,
    // and the scheduler's insert keyed by job id keeps it one job.
    const id = key === undefined ? randomUUID() : idempotentJobId(tenant.tenantId, key);
    // The request's fingerprint tells a replay (same body) from a reused key (422); without a key
    // there is nothing to tell apart.
    let requestHash: string | undefined;
    if (key !== undefined) {
      requestHash = createHash('sha256').update(JSON.stringify([job.type, job.params, parsed.data.priority])).digest('hex');
      await deps.idempotency.claim(tenant.tenantId, key, id, requestHash);
    }
    const acceptedAt = new Date().toISOString();
    const traceHeaders = injectTraceHeaders(withTenantBaggage(tenant, context.active()));

    await deps.publisher.publish(
      commandMessage(
        tenant.tenantId,
        { jobId: id, type: job.type, params: job.params, priority: parsed.data.priority, ...(key === undefined ? {} : { idempotencyKey: key, requestHash }), acceptedAt },
        traceHeaders,
      ),
    );
    deps.onAccepted?.(tenant.tenantId);
    // A job id is a UUID: the path needs no encoding (res.location would check it again).
    res.setHeader('Location', `/v1/jobs/${id}`);
    res.status(202).json({ id, state: 'accepted', type: job.type, jobClass: job.jobClass, acceptedAt });
  };
}

/** The rest of the jobs API: read, list and cancel jobs under the tenant's row-level security. */
export function jobsRouter(deps: JobsDeps): Router {
  const router = Router();

  router.get('/', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const query = listJobsQuery.safeParse(req.query);
    if (!query.success) throw new ValidationError('the query is not valid', zodIssues(query.error));
    const { state, type, limit, cursor } = query.data;
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await withTenantId(deps.pool, tenant.tenantId, async (tx) => {
      // The tenant filter is RLS's; (accepted_at, id) DESC walks jobs_tenant_recent.
      const { rows: found } = await tx.query<JobRow & { cursor_at: string }>(
        `SELECT ${JOB_COLUMNS}, to_char(accepted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at FROM jobs
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR type = $2)
           AND ($3::timestamptz IS NULL OR (accepted_at, id) < ($3::timestamptz, $4::uuid))
         ORDER BY accepted_at DESC, id DESC LIMIT $5`,
        [state ?? null, type ?? null, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return found;
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    res.json({ items: page.map(toJob), nextCursor: rows.length > limit && last ? encodeCursor(last) : null });
  });

  router.get('/:id', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const { id } = parseOr404(jobIdParam, req.params, String(req.params['id']));
    const row = await withTenantId(deps.pool, tenant.tenantId, async (tx) => {
      const { rows } = await tx.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
      return rows[0];
    });
    // Another tenant's job is invisible under RLS, so it is "not found", exactly like a missing one.
    if (!row) throw new NotFoundError('job', id);
    res.json(toJob(row));
  });

  router.delete('/:id', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const { id } = parseOr404(jobIdParam, req.params, String(req.params['id']));
    const outcome = await withTenantId(deps.pool, tenant.tenantId, async (tx) => {
      // Only a queued job is cancelled; the scheduler re-checks the state when it claims a job, so a
      // job cancelled here never runs.
      const { rows } = await tx.query<JobRow>(
        `UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = $1 AND state = 'queued' RETURNING ${JOB_COLUMNS}`,
        [id],
      );
      if (rows[0]) return { cancelled: rows[0] };
      const current = await tx.query<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [id]);
      return { state: current.rows[0]?.state };
    });
    if ('cancelled' in outcome && outcome.cancelled) {
      res.json(toJob(outcome.cancelled));
      return;
    }
    if (!('state' in outcome) || outcome.state === undefined) throw new NotFoundError('job', id);
    throw new JobNotCancellableError(id, outcome.state);
  });

  router.get('/:id/result', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const { id } = parseOr404(jobIdParam, req.params, String(req.params['id']));
    const artifact = await withTenantId(deps.pool, tenant.tenantId, async (tx) => {
      const { rows } = await tx.query<{ content_type: string; body: string }>('SELECT content_type, body FROM job_artifacts WHERE job_id = $1', [id]);
      return rows[0];
    }).catch((err: unknown) => {
      if ((err as { code?: string }).code === UNDEFINED_TABLE) return undefined;
      throw err;
    });
    if (!artifact) throw new NotFoundError('job result', id);
    // A sealed result is one line of ciphertext per chunk the worker wrote.
    let body = artifact.body;
    if (body.startsWith(CIPHERTEXT_PREFIX) && deps.cipher) {
      const sealer = await deps.cipher.forTenant(tenant.tenantId);
      body = body
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => sealer.open(line))
        .join('');
    }
    res.status(200).type(artifact.content_type).set('Content-Disposition', `attachment; filename="${id}"`).send(body);
  });

  return router;
}
