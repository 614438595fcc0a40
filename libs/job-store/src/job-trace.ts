import type { Pool } from 'pg';

/** One finished job of a recorded trace: when it arrived, whose it was, how long it waited and ran. */
export interface RecordedJobRow {
  id: string;
  tenantId: string;
  jobClass: string;
  priority: number;
  /** succeeded, failed or dead. */
  state: string;
  attempts: number;
  /** Arrival (accepted_at), in ms after the window's start. */
  arrivalMs: number;
  /** started_at - accepted_at, ms: the wait operators see (the scheduler's stats use the same). */
  waitMs: number;
  /** finished_at - started_at, ms: how long the job held its slot (its last attempt). */
  costMs: number;
}

/** A window of the jobs table and, optionally, the tenants to keep. */
export interface JobTraceWindow {
  from: Date;
  to: Date;
  /** Only these tenants; every tenant when absent or empty. */
  tenants?: readonly string[] | undefined;
}

/** Rows fetched per round trip: the reader holds at most this many at once. */
const FETCH_ROWS = 1_000;

/**
 * Reads the finished jobs that arrived in `window`, in arrival order, one round trip per
 * {@link FETCH_ROWS} rows through a server-side cursor (one scan, constant memory in this process
 * however long the window), in a READ ONLY transaction. Only timing and class columns are read,
 * never params or results.
 *
 * Needs a role that reads every tenant's jobs: the scheduler, or the owner (migration 905).
 */
export async function* readJobTrace(pool: Pool, window: JobTraceWindow): AsyncGenerator<RecordedJobRow> {
  const client = await pool.connect();
  let open = false;
  let broken = false;
  try {
    await client.query('BEGIN READ ONLY');
    open = true;
    await client.query(
      `DECLARE job_trace NO SCROLL CURSOR FOR
         SELECT id, tenant_id, job_class, priority, state, attempts,
                (extract(epoch FROM accepted_at - $1::timestamptz) * 1000)::float8 AS arrival_ms,
                (extract(epoch FROM started_at - accepted_at) * 1000)::float8 AS wait_ms,
                (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS cost_ms
         FROM jobs
         WHERE accepted_at >= $1::timestamptz AND accepted_at < $2::timestamptz
           AND state IN ('succeeded', 'failed', 'dead') AND started_at IS NOT NULL AND finished_at IS NOT NULL
           AND (cardinality($3::text[]) = 0 OR tenant_id = ANY($3::text[]))
         ORDER BY accepted_at, id`,
      [window.from, window.to, [...(window.tenants ?? [])]],
    );
    for (;;) {
      const { rows } = await client.query<{
        id: string;
        tenant_id: string;
        job_class: string;
        priority: number;
        state: string;
        attempts: number;
        arrival_ms: number;
        wait_ms: number;
        cost_ms: number;
      }>(`FETCH ${FETCH_ROWS} FROM job_trace`);
      for (const row of rows) {
        yield {
          id: row.id,
          tenantId: row.tenant_id,
          jobClass: row.job_class,
          priority: row.priority,
          state: row.state,
          attempts: row.attempts,
          arrivalMs: row.arrival_ms,
          // A clock step between two hosts can put a start before its arrival; a wait is never negative.
          waitMs: Math.max(0, row.wait_ms),
          costMs: Math.max(0, row.cost_ms),
        };
      }
      if (rows.length < FETCH_ROWS) break;
    }
    await client.query('COMMIT');
    open = false;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A consumer that stops early (return() on the generator) lands here too, with the cursor open.
    if (open && !broken) await client.query('ROLLBACK').catch(() => (broken = true));
    client.release(broken);
  }
}

/** Jobs that arrived in `window` and had not finished yet (queued or running): a trace leaves them out. */
export async function countUnfinishedJobs(pool: Pool, window: JobTraceWindow): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM jobs
     WHERE accepted_at >= $1::timestamptz AND accepted_at < $2::timestamptz AND state IN ('queued', 'running')
       AND (cardinality($3::text[]) = 0 OR tenant_id = ANY($3::text[]))`,
    [window.from, window.to, [...(window.tenants ?? [])]],
  );
  return Number(rows[0]?.n ?? 0);
}
