import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { JobFailedError } from '@fairway/errors';
import { withTenantId } from '@fairway/db';
import { validateJob } from '@fairway/jobs';
import type { CallTenant } from '@fairway/grpc';

/** One attempt of a job, as the worker receives it. */
export interface JobAttempt {
  jobId: string;
  type: string;
  paramsJson: string;
  attempt: number;
}

/** What one attempt did. `applied` is false when an earlier attempt already recorded the effect. */
export interface AttemptOutcome {
  applied: boolean;
  result: Record<string, unknown>;
}

/**
 * Runs one attempt of a job for the tenant of the call. The job's effect is written in a
 * transaction under the tenant's row-level security, once per job id: the first attempt to commit
 * wins, and a retried attempt finds the effect and reports it instead of applying it again.
 */
export async function executeJob(pool: Pool, workerId: string, job: JobAttempt, tenant: CallTenant): Promise<AttemptOutcome> {
  let params: unknown;
  try {
    params = JSON.parse(job.paramsJson || '{}');
  } catch {
    throw new JobFailedError(`params of job ${job.jobId} are not JSON`, false);
  }
  const validated = validateJob(job.type, params);
  const { ms, failAttempts } = validated.params as { ms: number; failAttempts?: number };
  // The work itself happens outside the transaction, so a long job does not hold a connection.
  await sleep(ms);
  if (failAttempts !== undefined && job.attempt <= failAttempts) {
    throw new JobFailedError(`synthetic failure on attempt ${job.attempt} of ${failAttempts}`, true);
  }
  const tenantId = tenant.context.tenantId;
  return withTenantId(pool, tenantId, async (tx) => {
    const observed = {
      workerId,
      metadataTenant: tenantId,
      baggageTenant: tenant.baggageTenant ?? null,
      dbSessionTenant: (await tx.query<{ t: string }>("SELECT current_setting('app.tenant_id', true) AS t")).rows[0]?.t ?? null,
      sleptMs: ms,
    };
    const inserted = await tx.query(
      `INSERT INTO job_effects (job_id, tenant_id, attempt, observed)
       VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING`,
      [job.jobId, tenantId, job.attempt, observed],
    );
    if (inserted.rowCount === 1) return { applied: true, result: observed };
    const existing = await tx.query<{ observed: Record<string, unknown> }>('SELECT observed FROM job_effects WHERE job_id = $1', [job.jobId]);
    return { applied: false, result: existing.rows[0]?.observed ?? observed };
  });
}
