import type { Pool } from 'pg';
import type { TenantId } from '@fairway/tenant-context';
import type { JobState } from '@fairway/jobs';

/** A command made durable: one row of the jobs table. */
export interface NewJob {
  id: string;
  tenantId: TenantId;
  type: string;
  jobClass: string;
  params: Record<string, unknown>;
  priority: number;
  idempotencyKey?: string | undefined;
  requestHash?: string | undefined;
  traceHeaders: Record<string, string>;
  acceptedAt: string;
}

/** A job the dispatcher claimed: its lease is held by `attempt`. */
export interface ClaimedJob {
  id: string;
  tenantId: TenantId;
  type: string;
  params: Record<string, unknown>;
  attempt: number;
  maxAttempts: number;
  traceHeaders: Record<string, string>;
}

interface ClaimedRow {
  id: string;
  tenant_id: string;
  type: string;
  params: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
  trace_headers: Record<string, string>;
}

/** The durable per-tenant job queues, in PostgreSQL, under the scheduler's role. */
export class JobStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Inserts jobs in one statement; a job id or (tenant, idempotency key) seen before is skipped,
   * so a redelivered command never becomes a second job. Returns the ids actually inserted.
   */
  async insertJobs(jobs: readonly NewJob[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO jobs (id, tenant_id, type, job_class, params, priority, idempotency_key, request_hash, trace_headers, accepted_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::int[], $7::text[], $8::text[], $9::jsonb[], $10::timestamptz[])
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [
        jobs.map((j) => j.id),
        jobs.map((j) => j.tenantId),
        jobs.map((j) => j.type),
        jobs.map((j) => j.jobClass),
        jobs.map((j) => JSON.stringify(j.params)),
        jobs.map((j) => j.priority),
        jobs.map((j) => j.idempotencyKey ?? null),
        jobs.map((j) => j.requestHash ?? null),
        jobs.map((j) => JSON.stringify(j.traceHeaders)),
        jobs.map((j) => j.acceptedAt),
      ],
    );
    return rows.map((row) => row.id);
  }

  /** The subset of `tenantIds` the catalog knows and that are active. */
  async activeTenants(tenantIds: readonly string[]): Promise<Set<string>> {
    if (tenantIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ id: string }>(
      "SELECT id FROM tenants WHERE id = ANY($1::text[]) AND status IN ('active', 'suspended')",
      [tenantIds],
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Claims the oldest runnable job of an active tenant and takes its lease: attempts + 1 is the
   * fencing token every later write of this attempt must present. SKIP LOCKED lets replicas claim
   * concurrently without waiting on each other.
   */
  async claimNext(leaseMs: number): Promise<ClaimedJob | undefined> {
    const { rows } = await this.pool.query<ClaimedRow>(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = now(),
              lease_expires_at = now() + $1 * interval '1 millisecond'
       WHERE id = (
         SELECT j.id FROM jobs j JOIN tenants t ON t.id = j.tenant_id
         WHERE j.state = 'queued' AND j.run_after <= now() AND t.status = 'active'
         ORDER BY j.accepted_at, j.id
         LIMIT 1 FOR UPDATE OF j SKIP LOCKED)
       RETURNING id, tenant_id, type, params, attempts, max_attempts, trace_headers`,
      [leaseMs],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      tenantId: row.tenant_id as TenantId,
      type: row.type,
      params: row.params,
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      traceHeaders: row.trace_headers,
    };
  }

  /** Records success, only if `attempt` still holds the lease. False means the result was fenced off. */
  async succeed(jobId: string, attempt: number, result: unknown): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE jobs SET state = 'succeeded', result = $3, finished_at = now(), lease_expires_at = NULL, last_error = NULL
       WHERE id = $1 AND attempts = $2 AND state = 'running'`,
      [jobId, attempt, JSON.stringify(result)],
    );
    return rowCount === 1;
  }

  /**
   * Records a failed attempt, only if it still holds the lease: back to the queue after
   * `retryDelayMs` when retriable and attempts remain, else `failed` (not retriable) or `dead`
   * (attempts exhausted). Returns the new state, or undefined when fenced off.
   */
  async fail(jobId: string, attempt: number, error: string, retriable: boolean, retryDelayMs: number): Promise<JobState | undefined> {
    const { rows } = await this.pool.query<{ state: JobState }>(
      `UPDATE jobs SET
         state = CASE WHEN $4 AND attempts < max_attempts THEN 'queued'
                      WHEN $4 THEN 'dead' ELSE 'failed' END,
         run_after = now() + $5 * interval '1 millisecond',
         finished_at = CASE WHEN $4 AND attempts < max_attempts THEN NULL ELSE now() END,
         lease_expires_at = NULL,
         last_error = $3
       WHERE id = $1 AND attempts = $2 AND state = 'running'
       RETURNING state`,
      [jobId, attempt, error.slice(0, 2_000), retriable, retryDelayMs],
    );
    return rows[0]?.state;
  }

  /** Puts jobs whose lease expired (their dispatcher or worker died) back in the queue. */
  async requeueExpiredLeases(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE jobs SET state = 'queued', run_after = now(), lease_expires_at = NULL, last_error = 'lease expired'
       WHERE state = 'running' AND lease_expires_at < now()`,
    );
    return rowCount ?? 0;
  }
}
