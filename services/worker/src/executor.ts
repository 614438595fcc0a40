import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { JobFailedError } from '@fairway/errors';
import { withTenantId, type TenantTx } from '@fairway/db';
import { validateJob } from '@fairway/jobs';
import type { CallTenant } from '@fairway/grpc';
import { exportRecordsCsv, reportRecords, type FieldCipher, type FieldSealer, type TenantData } from '@fairway/records';
import type { TenantId } from '@fairway/tenant-context';

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
  /**
   * True when the job's success was recorded in the effect's own transaction (the attempt still
   * held the lease); the scheduler then records nothing more.
   */
  completed?: boolean;
  /** `result` as JSON text, when the writer already has it so (nothing to stringify again). */
  resultJson?: string;
}

/** What the executor works with: the catalog database (effects, artifacts) and the tenants' data. */
export interface ExecutorDeps {
  /** The catalog database as the application role: job_effects and job_artifacts, under RLS. */
  pool: Pool;
  /** The tenants' own data (records), wherever their isolation model puts it. */
  data: TenantData;
  workerId: string;
  /** Rows per cursor fetch for exports (default 500). */
  exportBatchSize?: number;
  /**
   * Seals records' sensitive fields and job results with the tenant's key. Export/report results
   * are stored as sealed chunks, one per line; the edge opens them for the download.
   */
  cipher?: FieldCipher;
  /**
   * Records synthetic jobs' effects; by default each in a transaction of its own. The job stream
   * passes a {@link SyntheticEffects} batcher so that the effects of one turn share a commit.
   */
  effects?: SyntheticEffectWriter;
}

/** Writes a synthetic job's effect once per job id, under the tenant's row-level security. */
export interface SyntheticEffectWriter {
  /**
   * Records `observed` (to which the database session's tenant is added) as the effect of `jobId`,
   * unless an earlier attempt already did: then `applied` is false and the stored effect returned.
   */
  record(effect: SyntheticEffect): Promise<AttemptOutcome>;
}

/** A synthetic job's effect, as the worker observed the tenant. */
export interface SyntheticEffect {
  jobId: string;
  tenantId: TenantId;
  attempt: number;
  observed: Record<string, unknown>;
}

/**
 * Runs one attempt of a job for the tenant of the call. The job's effect is written in a
 * transaction under the tenant's row-level security, once per job id: the first attempt to commit
 * wins, and a retried attempt finds the effect and reports it instead of applying it again.
 */
export async function executeJob(deps: ExecutorDeps, job: JobAttempt, tenant: CallTenant): Promise<AttemptOutcome> {
  let params: unknown;
  try {
    params = JSON.parse(job.paramsJson || '{}');
  } catch {
    throw new JobFailedError(`params of job ${job.jobId} are not JSON`, false);
  }
  const validated = validateJob(job.type, params);
  const tenantId = tenant.context.tenantId;
  const seen = {
    workerId: deps.workerId,
    metadataTenant: tenantId,
    baggageTenant: tenant.baggageTenant ?? null,
  };
  const sealer = validated.type === 'synthetic' || !deps.cipher ? undefined : await deps.cipher.forTenant(tenantId);
  switch (validated.type) {
    case 'export':
      return withArtifact(deps.pool, job, tenantId, 'text/csv; charset=utf-8', sealer, async (write) => {
        const stats = await deps.data.withTenant(tenantId, (tx) =>
          exportRecordsCsv(tx, write, {
            batchSize: (validated.params as { batchSize?: number }).batchSize ?? deps.exportBatchSize ?? 500,
            ...(sealer ? { open: sealer.open } : {}),
          }),
        );
        return { ...seen, rows: stats.rows, chars: stats.chars, chunks: stats.chunks, batchSize: stats.batchSize };
      });
    case 'report':
      return withArtifact(deps.pool, job, tenantId, 'application/json', sealer, async (write) => {
        const report = await deps.data.withTenant(tenantId, (tx) => reportRecords(tx));
        await write(JSON.stringify(report));
        return { ...seen, count: report.count, sumAmount: report.sumAmount };
      });
    case 'synthetic':
      return runSynthetic(deps, job, tenantId, validated.params as { ms: number; failAttempts?: number }, seen);
  }
}

async function runSynthetic(
  deps: ExecutorDeps,
  job: JobAttempt,
  tenantId: TenantId,
  params: { ms: number; failAttempts?: number },
  seen: Record<string, unknown>,
): Promise<AttemptOutcome> {
  const { ms, failAttempts } = params;
  // The work itself happens outside the transaction, so a long job does not hold a connection.
  // No timer at all for a no-op job: even a 0 ms timeout costs a turn of the timers phase (~1 ms).
  if (ms > 0) await sleep(ms);
  if (failAttempts !== undefined && job.attempt <= failAttempts) {
    throw new JobFailedError(`synthetic failure on attempt ${job.attempt} of ${failAttempts}`, true);
  }
  const effect = { jobId: job.jobId, tenantId, attempt: job.attempt, observed: { ...seen, sleptMs: ms } };
  return deps.effects ? deps.effects.record(effect) : recordSyntheticEffect(deps.pool, effect);
}

/** Records one synthetic effect in a transaction of its own. */
export function recordSyntheticEffect(pool: Pool, effect: SyntheticEffect): Promise<AttemptOutcome> {
  return withTenantId(pool, effect.tenantId, async (tx) => {
    const observed = { ...effect.observed, dbSessionTenant: await sessionTenant(tx) };
    const inserted = await tx.query(
      `INSERT INTO job_effects (job_id, tenant_id, attempt, observed)
       VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING`,
      [effect.jobId, effect.tenantId, effect.attempt, observed],
    );
    if (inserted.rowCount === 1) return { applied: true, result: observed };
    return { applied: false, result: await existingEffect(tx, effect.jobId, observed) };
  });
}

async function sessionTenant(tx: TenantTx): Promise<string | null> {
  return (await tx.query<{ t: string }>("SELECT current_setting('app.tenant_id', true) AS t")).rows[0]?.t ?? null;
}

async function existingEffect(tx: TenantTx, jobId: string, fallback: Record<string, unknown>): Promise<Record<string, unknown>> {
  const existing = await tx.query<{ observed: Record<string, unknown> }>('SELECT observed FROM job_effects WHERE job_id = $1', [jobId]);
  return existing.rows[0]?.observed ?? fallback;
}

/**
 * Produces a job's artifact and its effect in ONE catalog transaction, so a job id has at most one
 * artifact however often it runs: the artifact row is claimed first (a concurrent attempt blocks
 * on its primary key, then finds it taken), the body is appended chunk by chunk as `produce`
 * writes it (never held whole in the worker), and the job_effects row commits with it.
 */
async function withArtifact(
  pool: Pool,
  job: JobAttempt,
  tenantId: TenantId,
  contentType: string,
  sealer: FieldSealer | undefined,
  produce: (write: (chunk: string) => Promise<void>) => Promise<Record<string, unknown>>,
): Promise<AttemptOutcome> {
  // Sealed, each chunk is one line of ciphertext (base64url has no newline), so the body still grows
  // chunk by chunk and is opened line by line.
  const stored = (chunk: string) => (sealer ? `${sealer.seal(chunk)}\n` : chunk);
  return withTenantId(pool, tenantId, async (tx) => {
    const claimed = await tx.query(
      `INSERT INTO job_artifacts (job_id, tenant_id, content_type, body) VALUES ($1, $2, $3, '') ON CONFLICT (job_id) DO NOTHING`,
      [job.jobId, tenantId, contentType],
    );
    if (claimed.rowCount !== 1) return { applied: false, result: await existingEffect(tx, job.jobId, {}) };
    const observed = {
      ...(await produce((chunk) => tx.query('UPDATE job_artifacts SET body = body || $2 WHERE job_id = $1', [job.jobId, stored(chunk)]).then(() => undefined))),
      dbSessionTenant: await sessionTenant(tx),
    };
    await tx.query(
      `INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING`,
      [job.jobId, tenantId, job.attempt, observed],
    );
    return { applied: true, result: observed };
  });
}
