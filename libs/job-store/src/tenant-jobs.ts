import type { TenantTx } from '@fairway/db';
import type { JobState } from '@fairway/jobs';

/** A job as its tenant sees it through the API. */
export interface TenantJob {
  id: string;
  tenantId: string;
  type: string;
  jobClass: string;
  state: JobState;
  priority: number;
  attempts: number;
  lastError: string | null;
  result: unknown;
  acceptedAt: Date;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * Where a page of jobs ends: the (accepted_at, id) of its last job. `acceptedAt` is PostgreSQL's
 * microsecond text (UTC): a JS Date would cut it to milliseconds, and the next page would skip or
 * repeat jobs accepted within the same millisecond.
 */
export interface JobPageCursor {
  acceptedAt: string;
  id: string;
}

/** Which jobs to list, newest first. */
export interface JobListing {
  state?: string | undefined;
  type?: string | undefined;
  /** The cursor of the previous page; absent for the first page. */
  after?: JobPageCursor | undefined;
  limit: number;
}

/** A page of jobs, and the cursor of its last job when more follow. */
export interface JobPage {
  jobs: TenantJob[];
  next: JobPageCursor | null;
}

/** What a cancel did: cancelled the job, found it past queued, or found no such job. */
export type CancelOutcome = { cancelled: TenantJob } | { notCancellable: JobState } | { notFound: true };

interface TenantJobRow {
  id: string;
  tenant_id: string;
  type: string;
  job_class: string;
  state: JobState;
  priority: number;
  attempts: number;
  last_error: string | null;
  result: unknown;
  accepted_at: Date;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const TENANT_JOB_COLUMNS = `id, tenant_id, type, job_class, state, priority, attempts, last_error, result,
  accepted_at, queued_at, started_at, finished_at`;

function toTenantJob(row: TenantJobRow): TenantJob {
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
 * A page of the tenant's jobs, newest first. The tenant filter is row-level security's (hence a
 * {@link TenantTx}); (accepted_at, id) DESC walks jobs_tenant_recent.
 */
export async function listTenantJobs(tx: TenantTx, listing: JobListing): Promise<JobPage> {
  const { state, type, after, limit } = listing;
  const { rows } = await tx.query<TenantJobRow & { cursor_at: string }>(
    `SELECT ${TENANT_JOB_COLUMNS}, to_char(accepted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at FROM jobs
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR type = $2)
       AND ($3::timestamptz IS NULL OR (accepted_at, id) < ($3::timestamptz, $4::uuid))
     ORDER BY accepted_at DESC, id DESC LIMIT $5`,
    [state ?? null, type ?? null, after?.acceptedAt ?? null, after?.id ?? null, limit + 1],
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { jobs: page.map(toTenantJob), next: rows.length > limit && last ? { acceptedAt: last.cursor_at, id: last.id } : null };
}

/** The tenant's job `id`, or undefined (another tenant's job is invisible under RLS, like a missing one). */
export async function findTenantJob(tx: TenantTx, id: string): Promise<TenantJob | undefined> {
  const { rows } = await tx.query<TenantJobRow>(`SELECT ${TENANT_JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return rows[0] && toTenantJob(rows[0]);
}

/**
 * Cancels the tenant's job `id` if it is still queued. Only a queued job is cancelled: the
 * scheduler's claim takes only queued jobs, so a job cancelled here never runs.
 */
export async function cancelQueuedJob(tx: TenantTx, id: string): Promise<CancelOutcome> {
  const { rows } = await tx.query<TenantJobRow>(
    `UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = $1 AND state = 'queued' RETURNING ${TENANT_JOB_COLUMNS}`,
    [id],
  );
  if (rows[0]) return { cancelled: toTenantJob(rows[0]) };
  const current = await tx.query<{ state: JobState }>('SELECT state FROM jobs WHERE id = $1', [id]);
  const state = current.rows[0]?.state;
  return state === undefined ? { notFound: true } : { notCancellable: state };
}

/**
 * The request hash stored with the tenant's job `id` (the Idempotency-Key's body fingerprint), or
 * null when there is no such job or it was accepted without a key.
 */
export async function storedRequestHash(tx: TenantTx, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ request_hash: string | null }>('SELECT request_hash FROM jobs WHERE id = $1', [id]);
  return rows[0]?.request_hash ?? null;
}
