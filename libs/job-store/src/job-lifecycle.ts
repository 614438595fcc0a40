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
  partition: number;
}

/** A queued job as the dispatcher keeps it in memory (a window of each tenant's queue). */
export interface QueuedJob {
  id: string;
  tenantId: TenantId;
  type: string;
  jobClass: string;
  params: Record<string, unknown>;
  priority: number;
  partition: number;
  acceptedAt: Date;
}

/** A job the dispatcher claimed: its lease is held by `attempt`. */
export interface ClaimedJob {
  id: string;
  tenantId: TenantId;
  type: string;
  jobClass: string;
  /** The params as JSON text, passed on to the worker unparsed. */
  paramsJson: string;
  attempt: number;
  maxAttempts: number;
  traceHeaders: Record<string, string>;
  acceptedAt: Date;
  startedAt: Date;
}

/** A successful attempt to record: its result as JSON text, passed to PostgreSQL unparsed. */
export interface JobSuccess {
  jobId: string;
  attempt: number;
  resultJson: string;
}

/** A failed attempt to record. */
export interface JobFailure {
  jobId: string;
  attempt: number;
  error: string;
  retriable: boolean;
  retryDelayMs: number;
}

interface QueuedRow {
  id: string;
  tenant_id: string;
  type: string;
  job_class: string;
  params: Record<string, unknown>;
  priority: number;
  partition: number;
  accepted_ms: number;
}

/**
 * Timestamps come back as epoch milliseconds (float8): pg parses those with parseFloat, where a
 * timestamptz costs a string parse per value (postgres-date), two per claimed job.
 */
const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8 AS ${column.replace(/_at$/, '_ms')}`;

/** One tenant's window top-up: up to `want` of its queued jobs in `partition`. */
export interface RefillRequest {
  tenantId: string;
  partition: number;
  want: number;
}

const QUEUED_COLUMNS = `id, tenant_id, type, job_class, params, priority, partition, ${epochMs('accepted_at')}`;

function toQueued(row: QueuedRow): QueuedJob {
  return {
    id: row.id,
    tenantId: row.tenant_id as TenantId,
    type: row.type,
    jobClass: row.job_class,
    params: row.params,
    priority: row.priority,
    partition: row.partition,
    acceptedAt: new Date(row.accepted_ms),
  };
}

interface ClaimedRow {
  id: string;
  tenant_id: string;
  type: string;
  job_class: string;
  params_json: string;
  attempts: number;
  max_attempts: number;
  trace_headers: Record<string, string>;
  accepted_ms: number;
  started_ms: number;
}

function toClaimed(row: ClaimedRow): ClaimedJob {
  return {
    id: row.id,
    tenantId: row.tenant_id as TenantId,
    type: row.type,
    jobClass: row.job_class,
    paramsJson: row.params_json,
    attempt: row.attempts,
    maxAttempts: row.max_attempts,
    traceHeaders: row.trace_headers,
    acceptedAt: new Date(row.accepted_ms),
    startedAt: new Date(row.started_ms),
  };
}

const CLAIM_MANY = `UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = now(), dispatched_by = $3,
         lease_expires_at = now() + $2 * interval '1 millisecond'
  WHERE id = ANY($1::uuid[]) AND state = 'queued'
  RETURNING id, tenant_id, type, job_class, params::text AS params_json, attempts, max_attempts, trace_headers, ${epochMs('accepted_at')}, ${epochMs('started_at')}`;

/**
 * A job's life in the jobs table: accepted (inserted), loaded into the dispatcher's window, claimed
 * under a lease, and completed, failed or requeued, each write fenced by its attempt. Every method is
 * one statement for a whole batch (the dispatcher's group commit hands it one per event-loop turn).
 */
export class JobLifecycle {
  constructor(
    readonly pool: Pool,
    private readonly replica = 'scheduler',
  ) {}

  /**
   * Inserts jobs in one statement; a job id or (tenant, idempotency key) seen before is skipped,
   * so a redelivered command never becomes a second job. Returns the jobs actually inserted.
   *
   * PostgreSQL answers with one row, not one per job: NULL when every job was inserted (the usual
   * case), else the ids it did insert. The jobs returned are built from `jobs` themselves rather
   * than read back: parsing every inserted row (its params, trace headers and timestamps) again cost
   * the ingest more than the insert's own bookkeeping (docs/benchmarks.md, bench:ingest). The id is
   * PostgreSQL's text form of the uuid (lower case), as loadQueued gives it; when a batch repeats an
   * id, its first occurrence is the one inserted (the rows of unnest are inserted in order).
   */
  async insertJobs(jobs: readonly NewJob[]): Promise<QueuedJob[]> {
    if (jobs.length === 0) return [];
    const n = jobs.length;
    const ids = new Array<string>(n);
    const tenantIds = new Array<string>(n);
    const types = new Array<string>(n);
    const classes = new Array<string>(n);
    const params = new Array<string>(n);
    const priorities = new Array<number>(n);
    const keys = new Array<string | null>(n);
    const hashes = new Array<string | null>(n);
    const traces = new Array<string>(n);
    const acceptedAts = new Array<string>(n);
    const partitions = new Array<number>(n);
    for (let i = 0; i < n; i += 1) {
      const job = jobs[i] as NewJob;
      ids[i] = job.id;
      tenantIds[i] = job.tenantId;
      types[i] = job.type;
      classes[i] = job.jobClass;
      params[i] = JSON.stringify(job.params);
      priorities[i] = job.priority;
      keys[i] = job.idempotencyKey ?? null;
      hashes[i] = job.requestHash ?? null;
      traces[i] = JSON.stringify(job.traceHeaders);
      acceptedAts[i] = job.acceptedAt;
      partitions[i] = job.partition;
    }
    const { rows } = await this.pool.query<{ ids: string[] | null }>(
      `WITH inserted AS (
         INSERT INTO jobs (id, tenant_id, type, job_class, params, priority, idempotency_key, request_hash, trace_headers, accepted_at, partition)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::int[], $7::text[], $8::text[], $9::jsonb[], $10::timestamptz[], $11::int[])
         ON CONFLICT DO NOTHING
         RETURNING id
       )
       SELECT CASE WHEN count(*) = cardinality($1::uuid[]) THEN NULL ELSE array_agg(id::text) END AS ids FROM inserted`,
      [ids, tenantIds, types, classes, params, priorities, keys, hashes, traces, acceptedAts, partitions],
    );
    const queuedFromNew = (job: NewJob): QueuedJob => ({
      id: job.id.toLowerCase(),
      tenantId: job.tenantId,
      type: job.type,
      jobClass: job.jobClass,
      params: job.params,
      priority: job.priority,
      partition: job.partition,
      acceptedAt: new Date(job.acceptedAt),
    });
    const inserted = rows[0]?.ids;
    if (inserted === null || inserted === undefined) return jobs.map(queuedFromNew);
    const pending = new Set(inserted);
    const out: QueuedJob[] = [];
    for (const job of jobs) {
      const queued = queuedFromNew(job);
      if (pending.delete(queued.id)) out.push(queued);
    }
    return out;
  }

  /**
   * The head of each tenant's queue in `partitions`: at most `perTenant` runnable jobs per tenant,
   * in the order the tenant asked for (priority, then arrival). Suspended tenants are left out, and
   * so are the jobs of `excludeIds` (before the ranking) and the tenants of `skipTenants`.
   */
  async loadQueued(
    partitions: readonly number[],
    perTenant: number,
    tenantId?: string,
    excludeIds: readonly string[] = [],
    skipTenants: readonly string[] = [],
  ): Promise<QueuedJob[]> {
    if (partitions.length === 0) return [];
    const { rows } = await this.pool.query<QueuedRow>(
      `SELECT ${QUEUED_COLUMNS} FROM (
         SELECT j.*, row_number() OVER (PARTITION BY j.tenant_id ORDER BY j.priority DESC, j.accepted_at, j.id) AS rank
         FROM jobs j JOIN tenants t ON t.id = j.tenant_id
         WHERE j.state = 'queued' AND j.run_after <= now() AND t.status = 'active'
           AND j.partition = ANY($1::int[]) AND ($3::text IS NULL OR j.tenant_id = $3)
           AND NOT (j.id = ANY($4::uuid[])) AND NOT (j.tenant_id = ANY($5::text[]))
       ) ranked WHERE rank <= $2
       ORDER BY tenant_id, priority DESC, accepted_at, id`,
      [partitions, perTenant, tenantId ?? null, excludeIds, skipTenants],
    );
    return rows.map(toQueued);
  }

  /**
   * Tops up several tenants' windows in one statement: for each request, at most `want` runnable
   * jobs of its tenant in its partition, in the tenant's order (priority, then arrival), leaving out
   * `excludeIds` (the jobs already in memory or running) and suspended tenants. One list per
   * request, in order; a tenant asked for twice is read once, for the larger `want`, and both
   * requests get that list.
   */
  async refillMany(requests: readonly RefillRequest[], excludeIds: readonly string[]): Promise<QueuedJob[][]> {
    if (requests.length === 0) return [];
    const wants = new Map<string, RefillRequest>();
    for (const r of requests) {
      const seen = wants.get(r.tenantId);
      if (!seen || r.want > seen.want) wants.set(r.tenantId, r);
    }
    const unique = [...wants.values()];
    const { rows } = await this.pool.query<QueuedRow>(
      `SELECT ${QUEUED_COLUMNS} FROM (
         SELECT j.*, w.want, row_number() OVER (PARTITION BY j.tenant_id ORDER BY j.priority DESC, j.accepted_at, j.id) AS rank
         FROM unnest($1::text[], $2::int[], $3::int[]) AS w(tenant_id, partition, want)
         JOIN jobs j ON j.tenant_id = w.tenant_id AND j.partition = w.partition
         JOIN tenants t ON t.id = j.tenant_id
         WHERE j.state = 'queued' AND j.run_after <= now() AND t.status = 'active' AND NOT (j.id = ANY($4::uuid[]))
       ) ranked WHERE rank <= want
       ORDER BY tenant_id, priority DESC, accepted_at, id`,
      [unique.map((r) => r.tenantId), unique.map((r) => r.partition), unique.map((r) => r.want), excludeIds],
    );
    const byTenant = new Map<string, QueuedJob[]>();
    for (const row of rows) {
      const job = toQueued(row);
      const list = byTenant.get(job.tenantId);
      if (list) list.push(job);
      else byTenant.set(job.tenantId, [job]);
    }
    return requests.map((r) => byTenant.get(r.tenantId) ?? []);
  }

  /**
   * Takes the leases of queued jobs, all in one statement: attempts + 1 is the fencing token every
   * later write of an attempt must present. One entry per id, in order: undefined where the job is
   * no longer queued (cancelled, or taken by another replica during a rebalance).
   */
  async claimMany(jobIds: readonly string[], leaseMs: number): Promise<Array<ClaimedJob | undefined>> {
    if (jobIds.length === 0) return [];
    // A named statement: parsed and planned once per connection (planning was ~0.4 of the 1.8 ms
    // PostgreSQL spent on a claim of 24 jobs, EXPLAIN ANALYZE on 20,000 queued rows).
    const { rows } = await this.pool.query<ClaimedRow>({
      name: 'fairway-claim-many',
      text: CLAIM_MANY,
      values: [jobIds, leaseMs, this.replica],
    });
    const byId = new Map<string, ClaimedJob>();
    for (const row of rows) byId.set(row.id, toClaimed(row));
    return jobIds.map((id) => byId.get(id));
  }

  /**
   * Records successes in one statement, each only if its attempt still holds the lease. One entry
   * per item, in order: false where the result was fenced off (a stale attempt).
   */
  async succeedMany(items: readonly JobSuccess[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE jobs j SET state = 'succeeded', result = v.result, finished_at = now(), lease_expires_at = NULL, last_error = NULL
       FROM unnest($1::uuid[], $2::int[], $3::jsonb[]) AS v(id, attempt, result)
       WHERE j.id = v.id AND j.attempts = v.attempt AND j.state = 'running'
       RETURNING j.id`,
      [items.map((i) => i.jobId), items.map((i) => i.attempt), items.map((i) => i.resultJson)],
    );
    const recorded = new Set(rows.map((row) => row.id));
    return items.map((i) => recorded.has(i.jobId));
  }

  /**
   * Records failed attempts in one statement, each only if it still holds the lease: back to the
   * queue after its `retryDelayMs` when retriable and attempts remain, else `failed` (not
   * retriable) or `dead` (attempts exhausted). One entry per item, in order: the new state, or
   * undefined where the attempt was fenced off.
   */
  async failMany(items: readonly JobFailure[]): Promise<Array<JobState | undefined>> {
    if (items.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string; state: JobState }>(
      `UPDATE jobs j SET
         state = CASE WHEN v.retriable AND j.attempts < j.max_attempts THEN 'queued'
                      WHEN v.retriable THEN 'dead' ELSE 'failed' END,
         run_after = now() + v.delay_ms * interval '1 millisecond',
         finished_at = CASE WHEN v.retriable AND j.attempts < j.max_attempts THEN NULL ELSE now() END,
         lease_expires_at = NULL,
         last_error = v.error
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bool[], $5::int[]) AS v(id, attempt, error, retriable, delay_ms)
       WHERE j.id = v.id AND j.attempts = v.attempt AND j.state = 'running'
       RETURNING j.id, j.state`,
      [
        items.map((i) => i.jobId),
        items.map((i) => i.attempt),
        items.map((i) => i.error.slice(0, 2_000)),
        items.map((i) => i.retriable),
        items.map((i) => Math.round(i.retryDelayMs)),
      ],
    );
    const states = new Map(rows.map((row) => [row.id, row.state]));
    return items.map((i) => states.get(i.jobId));
  }

  /**
   * Puts jobs of `partitions` whose lease expired (their dispatcher or worker died) back in the
   * queue, or marks them dead when they have used every attempt. Returns the requeued jobs.
   */
  async requeueExpiredLeases(partitions: readonly number[]): Promise<QueuedJob[]> {
    if (partitions.length === 0) return [];
    const { rows } = await this.pool.query<QueuedRow & { state: string }>(
      `UPDATE jobs SET
         state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'dead' END,
         finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
         run_after = now(), lease_expires_at = NULL, last_error = 'lease expired: the attempt did not report back in time'
       WHERE state = 'running' AND lease_expires_at < now() AND partition = ANY($1::int[])
       RETURNING ${QUEUED_COLUMNS}, state`,
      [partitions],
    );
    return rows.filter((row) => row.state === 'queued').map(toQueued);
  }
}
