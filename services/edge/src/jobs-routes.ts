import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type { z } from 'zod';
import { JobNotCancellableError, NotFoundError, ValidationError } from '@fairway/errors';
import { unstorableJson, withTenantId, type ReadReplica } from '@fairway/db';
import { validateJob } from '@fairway/jobs';
import { cancelQueuedJob, findTenantJob, listTenantJobs, type JobPageCursor } from '@fairway/job-store';
import { commandMessage, type Publisher } from '@fairway/kafka';
import { withTenantBaggage } from '@fairway/tenant-context';
import { injectTraceHeaders } from '@fairway/telemetry';
import { context } from '@opentelemetry/api';
import { createJobBody, idempotencyKeyHeader, jobIdParam, listJobsQuery } from './api-schemas';
import { requestTenant } from './authenticate';
import type { IdempotencyStore } from './idempotency';
import { openJobResult, type FieldCipher } from '@fairway/records';
import { FINAL_JOB_STATUS, type TenantCache } from '@fairway/tenant-cache';

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

/**
 * A page cursor: the (accepted_at, id) of the last job of the previous page, opaque to clients.
 * accepted_at travels as PostgreSQL's microsecond text: a JS Date would cut it to milliseconds and
 * the next page would skip or repeat jobs accepted within the same millisecond.
 */
function encodeCursor(cursor: JobPageCursor): string {
  return Buffer.from(JSON.stringify([cursor.acceptedAt, cursor.id])).toString('base64url');
}

/** A cursor's accepted_at exactly as encodeCursor writes it (PostgreSQL's microseconds, UTC). */
const CURSOR_AT = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The (accepted_at, id) of a cursor. Only what encodeCursor writes passes: a timestamp PostgreSQL
 * would refuse (year 0000, 30 February) or an id that is not a UUID would otherwise reach the
 * query as a 500 instead of a 400.
 */
function decodeCursor(cursor: string): JobPageCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      const [at, id] = value as [string, string];
      const year = CURSOR_AT.exec(at)?.[1];
      // Date normalises 30 February to 1 March: a date that survives the round trip is a real one.
      if (year !== undefined && year !== '0000' && CURSOR_ID.test(id) && new Date(at).toISOString().slice(0, 19) === at.slice(0, 19))
        return { acceptedAt: at, id };
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
  /** Answers GET /v1/jobs/{id} of a final job from Redis (a final job never changes). */
  cache?: TenantCache;
  /**
   * The read replica: GET /v1/jobs (the list) reads there while its lag is within REPLICA_MAX_LAG,
   * else on `pool`. A job's own GET stays on the primary (docs/data-isolation.md, read-your-writes).
   */
  reads?: ReadReplica;
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
    // Refused here rather than dead-lettered by the scheduler, whose jobs table could not hold it.
    const unstorable = unstorableJson(job.params);
    if (unstorable !== undefined)
      throw new ValidationError('the job request is not valid', [{ path: 'params', message: `holds ${unstorable}, which cannot be stored` }]);

    const keyHeader = req.get('idempotency-key');
    let key: string | undefined;
    if (keyHeader !== undefined) {
      const checked = idempotencyKeyHeader.safeParse(keyHeader);
      if (!checked.success)
        throw new ValidationError('the Idempotency-Key header is not valid', [
          { path: 'Idempotency-Key', message: checked.error.issues[0]?.message ?? 'invalid' },
        ]);
      key = checked.data;
    }
    // With a key, the job id is a function of (tenant, key): a retried request maps to the same job,
    // and the scheduler's insert keyed by job id keeps it one job.
    const id = key === undefined ? randomUUID() : idempotentJobId(tenant.tenantId, key);
    // The request's fingerprint tells a replay (same body) from a reused key (422); without a key
    // there is nothing to tell apart.
    let requestHash: string | undefined;
    if (key !== undefined) {
      requestHash = createHash('sha256')
        .update(JSON.stringify([job.type, job.params, parsed.data.priority]))
        .digest('hex');
      await deps.idempotency.claim(tenant.tenantId, key, id, requestHash);
    }
    const acceptedAt = new Date().toISOString();
    const traceHeaders = injectTraceHeaders(withTenantBaggage(tenant, context.active()));

    await deps.publisher.publish(
      commandMessage(
        tenant.tenantId,
        {
          jobId: id,
          type: job.type,
          params: job.params,
          priority: parsed.data.priority,
          ...(key === undefined ? {} : { idempotencyKey: key, requestHash }),
          acceptedAt,
        },
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
    // The list tolerates staleness (a new job appears only once the scheduler ingested it anyway).
    const pool = deps.reads ? (await deps.reads.choose()).pool : deps.pool;
    const page = await withTenantId(pool, tenant.tenantId, (tx) => listTenantJobs(tx, { state, type, after, limit }));
    res.json({ items: page.jobs, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  router.get('/:id', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const { id } = parseOr404(jobIdParam, req.params, String(req.params['id']));
    // Through the cache, the request's tenant scope (set by authenticate) names the key, and the
    // loader queries the tenant the key was built for.
    const job = deps.cache
      ? await deps.cache.read(FINAL_JOB_STATUS, id, (scoped) => withTenantId(deps.pool, scoped.tenantId, (tx) => findTenantJob(tx, id)))
      : await withTenantId(deps.pool, tenant.tenantId, (tx) => findTenantJob(tx, id));
    // Another tenant's job is invisible under RLS, so it is "not found", exactly like a missing one.
    if (!job) throw new NotFoundError('job', id);
    res.json(job);
  });

  router.delete('/:id', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const { id } = parseOr404(jobIdParam, req.params, String(req.params['id']));
    const outcome = await withTenantId(deps.pool, tenant.tenantId, (tx) => cancelQueuedJob(tx, id));
    if ('cancelled' in outcome) {
      res.json(outcome.cancelled);
      return;
    }
    if ('notFound' in outcome) throw new NotFoundError('job', id);
    throw new JobNotCancellableError(id, outcome.notCancellable);
  });

  router.get('/:id/result', async (req: Request, res: Response) => {
    const tenant = requestTenant(req);
    const { id } = parseOr404(jobIdParam, req.params, String(req.params['id']));
    const result = await openJobResult(deps.pool, tenant.tenantId, id, deps.cipher ? { cipher: deps.cipher } : {}).catch((err: unknown) => {
      if ((err as { code?: string }).code === UNDEFINED_TABLE) return undefined;
      throw err;
    });
    if (!result) throw new NotFoundError('job result', id);
    // The first chunk is read before the status is sent, so that a result that cannot be read or
    // opened still answers with a problem; later failures can only cut the response short.
    const first = await result.chunks.next();
    res.status(200).type(result.contentType).set('Content-Disposition', `attachment; filename="${id}"`);
    // Chunk by chunk, each read and opened only when the client took the one before (pipeline
    // waits for 'drain'), so the edge holds a page of the result, never all of it. A client that goes
    // away ends the read (the generator is returned).
    async function* body(): AsyncGenerator<string, void, undefined> {
      if (first.done) return;
      yield first.value;
      yield* result!.chunks;
    }
    await pipeline(Readable.from(body(), { highWaterMark: 1 }), res).catch((err: unknown) => {
      if (!res.headersSent) throw err;
      // The status is out: the connection is closed without the response's terminating chunk.
      res.destroy(err as Error);
    });
  });

  return router;
}
