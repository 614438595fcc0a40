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
