import type { Pool } from 'pg';
import { withTenantId } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';

/** What one round of {@link purgeFinishedJobs} removed. */
export interface RetentionRound {
  jobs: number;
  effects: number;
  artifacts: number;
  chunks: number;
  tenants: number;
  /** True when the round was full: more jobs past retention may be left. */
  more: boolean;
}

/** The states a job never leaves. */
const FINISHED = `('succeeded', 'failed', 'dead', 'cancelled')`;

/**
 * One round of the retention of finished jobs: the `batchSize` jobs that finished longest before
 * `finishedBefore` (index jobs_finished_at, migration 906), deleted with their effect, their stored
 * result and its chunks. Each tenant's share is deleted in a transaction of that tenant as the
 * owner (the offboarding policies of migration 621 let the owner reach one tenant's rows at a
 * time), so retention needs no wider write than offboarding has. A job that is queued or running is
 * never touched, whatever its age. Call it again while `more` is true.
 *
 * @param pool the owner role (the control plane).
 * @param options.tenants only these tenants' jobs (a retention of their own); every tenant's when absent.
 */
export async function purgeFinishedJobs(
  pool: Pool,
  finishedBefore: Date,
  batchSize = 500,
  options: { tenants?: readonly string[] } = {},
): Promise<RetentionRound> {
  const { rows } = await pool.query<{ id: string; tenant_id: string }>(
    `SELECT id, tenant_id FROM jobs
     WHERE state IN ${FINISHED} AND finished_at < $1 AND (cardinality($3::text[]) = 0 OR tenant_id = ANY($3::text[]))
     ORDER BY finished_at LIMIT $2`,
    [finishedBefore, batchSize, [...(options.tenants ?? [])]],
  );
  const byTenant = new Map<string, string[]>();
  for (const row of rows) byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), row.id]);
  const round: RetentionRound = { jobs: 0, effects: 0, artifacts: 0, chunks: 0, tenants: byTenant.size, more: rows.length === batchSize };
  for (const [tenant, ids] of byTenant) {
    await withTenantId(pool, tenant as TenantId, async (tx) => {
      round.chunks += (await tx.query('DELETE FROM job_result_chunks WHERE job_id = ANY($1::uuid[])', [ids])).rowCount ?? 0;
      round.artifacts += (await tx.query('DELETE FROM job_artifacts WHERE job_id = ANY($1::uuid[])', [ids])).rowCount ?? 0;
      round.effects += (await tx.query('DELETE FROM job_effects WHERE job_id = ANY($1::uuid[])', [ids])).rowCount ?? 0;
      // Still finished: a row is never deleted under a state it changed to since the SELECT.
      round.jobs += (await tx.query(`DELETE FROM jobs WHERE id = ANY($1::uuid[]) AND state IN ${FINISHED}`, [ids])).rowCount ?? 0;
    });
  }
  return round;
}

/** How {@link JobRetention} runs. */
export interface JobRetentionOptions {
  /** How long a finished job is kept, ms (JOB_RETENTION). */
  retentionMs: number;
  /** How often a tick runs, ms (JOB_RETENTION_INTERVAL). */
  intervalMs: number;
  /** Jobs a round deletes at most. Default 500. */
  batchSize?: number;
  /** Rounds a tick runs at most, so one tick never holds the pool for long. Default 20. */
  maxRoundsPerTick?: number;
  /** Only these tenants' jobs; every tenant's when absent. */
  tenants?: readonly string[];
  /** What a tick removed (called when it removed something). */
  onTick?: (removed: Omit<RetentionRound, 'more'> & { rounds: number }) => void;
  /** A tick that failed; the next interval tries again. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * The retention of finished jobs, run periodically by the control plane: each tick deletes the jobs
 * that finished more than `retentionMs` ago, {@link purgeFinishedJobs} round after round until a
 * round is not full or `maxRoundsPerTick` ran. Several replicas may run it: two rounds that take
 * the same jobs delete them once (the second finds nothing).
 */
export class JobRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly options: JobRetentionOptions,
  ) {
    if (!Number.isFinite(options.retentionMs) || options.retentionMs < 60_000) {
      throw new RangeError(`job retention must be at least 60000 ms (got ${options.retentionMs})`);
    }
    if (!Number.isFinite(options.intervalMs) || options.intervalMs < 1_000) {
      throw new RangeError(`job retention interval must be at least 1000 ms (got ${options.intervalMs})`);
    }
  }

  /** Runs a tick at once, then every interval. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops the timer and waits for a tick in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One tick now: what it removed. Errors are thrown (the timer reports them through onError). */
  async runNow(): Promise<Omit<RetentionRound, 'more'> & { rounds: number }> {
    const cutoff = new Date((this.options.now ?? Date.now)() - this.options.retentionMs);
    const total = { jobs: 0, effects: 0, artifacts: 0, chunks: 0, tenants: 0, rounds: 0 };
    for (let more = true; more && total.rounds < (this.options.maxRoundsPerTick ?? 20);) {
      const round = await purgeFinishedJobs(this.pool, cutoff, this.options.batchSize ?? 500, { tenants: this.options.tenants ?? [] });
      total.rounds += 1;
      total.jobs += round.jobs;
      total.effects += round.effects;
      total.artifacts += round.artifacts;
      total.chunks += round.chunks;
      total.tenants += round.tenants;
      more = round.more;
    }
    if (total.jobs > 0) this.options.onTick?.(total);
    return total;
  }

  private tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.runNow()
      .then(() => undefined)
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
