import { createHash, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { withTenantId } from '@fairway/db';
import { validateJob } from '@fairway/jobs';
import { commandMessage, type GroupCommitPublisher } from '@fairway/kafka';
import { withTenantBaggage } from '@fairway/tenant-context';
import { injectTraceHeaders } from '@fairway/telemetry';
import { context } from '@opentelemetry/api';
import { requestTenant } from './authenticate';

/** Job ids derived from (tenant, Idempotency-Key) live in this UUIDv5 namespace. */
const IDEMPOTENCY_NAMESPACE = '6f1c9a52-3b7e-4d0b-9a57-1f0f6c1e2b44';

/** The body of POST /v1/jobs. */
export const createJobBody = z
  .object({
    type: z.string().min(1).max(100),
    params: z.record(z.unknown()).default({}),
    priority: z.number().int().min(-100).max(100).default(0),
  })
  .strict();

const idempotencyKey = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const jobId = z.string().uuid();

function zodIssues(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
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

/** The jobs API: accept commands into Kafka, read jobs back under the tenant's row-level security. */
export function jobsRouter(deps: { publisher: GroupCommitPublisher; pool: Pool; onAccepted?: (tenant: string) => void }): Router {
  const router = Router();

  router.post('/', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const parsed = createJobBody.safeParse(req.body);
    if (!parsed.success) throw new ValidationError('the job request is not valid', zodIssues(parsed.error));
    const job = validateJob(parsed.data.type, parsed.data.params);

    const keyHeader = req.get('idempotency-key');
    let key: string | undefined;
    if (keyHeader !== undefined) {
      const checked = idempotencyKey.safeParse(keyHeader);
      if (!checked.success) throw new ValidationError('the Idempotency-Key header is not valid', [{ path: 'Idempotency-Key', message: checked.error.issues[0]?.message ?? 'invalid' }]);
      key = checked.data;
    }
    // With a key, the job id is a function of (tenant, key): a retried request maps to the same job,
    // and the scheduler's insert keyed by job id keeps it one job.
    const id = key === undefined ? randomUUID() : uuidv5(`${tenant.tenantId}\n${key}`, IDEMPOTENCY_NAMESPACE);
    const requestHash = createHash('sha256').update(JSON.stringify([job.type, job.params, parsed.data.priority])).digest('hex');
    const acceptedAt = new Date().toISOString();
    const traceHeaders = injectTraceHeaders(withTenantBaggage(tenant, context.active()));

    await deps.publisher.publish(
      commandMessage(
        tenant.tenantId,
        { jobId: id, type: job.type, params: job.params, priority: parsed.data.priority, idempotencyKey: key, requestHash, acceptedAt },
        traceHeaders,
      ),
    );
    deps.onAccepted?.(tenant.tenantId);
    res
      .status(202)
      .location(`/v1/jobs/${id}`)
      .json({ id, state: 'accepted', type: job.type, jobClass: job.jobClass, acceptedAt });
  });

  router.get('/:id', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const id = jobId.safeParse(req.params['id']);
    if (!id.success) throw new NotFoundError('job', String(req.params['id']).slice(0, 64));
    const row = await withTenantId(deps.pool, tenant.tenantId, async (tx) => {
      const { rows } = await tx.query<JobRow>(
        `SELECT id, tenant_id, type, job_class, state, priority, attempts, last_error, result,
                accepted_at, queued_at, started_at, finished_at
         FROM jobs WHERE id = $1`,
        [id.data],
      );
      return rows[0];
    });
    // Another tenant's job is invisible under RLS, so it is "not found", exactly like a missing one.
    if (!row) throw new NotFoundError('job', id.data);
    res.json({
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
    });
  });

  return router;
}
