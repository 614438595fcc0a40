import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { JobFailedError, QueryTimeoutError, StaleAttemptError } from '@fairway/errors';
import { withQueryWorkload, withTenantId, type TenantTx } from '@fairway/db';
import { validateJob } from '@fairway/jobs';
import { lockCurrentAttempt } from '@fairway/job-store';
import type { CallTenant } from '@fairway/grpc';
import {
  discardAbandonedChunks,
  exportRecordsCsv,
  JobResultChunks,
  reportRecords,
  type FieldCipher,
  type FieldSealer,
  type TenantData,
} from '@fairway/records';
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
  /** Result chunks committed per transaction (default 8, see JobResultChunks). */
  resultChunksPerCommit?: number;
  /**
   * The statement timeout of every transaction of a job, in ms (JOB_STATEMENT_TIMEOUT, default
   * 60 s), or what is left until the attempt's deadline if that is sooner: an attempt without a
   * deadline still never waits on one statement forever.
   */
  statementTimeoutMs?: number;
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

/** How long an attempt may run, and who may stop it before that. */
export interface JobExecution {
  /** Aborted when the caller gives up on the attempt (the call was cancelled, or its deadline passed). */
  signal?: AbortSignal;
  /** When the attempt must be over, in Date.now() milliseconds: every statement is timed out by it. */
  deadline?: number;
}

/** PostgreSQL "query_canceled": a statement timeout (or a cancel request) ended the statement. */
const QUERY_CANCELED = '57014';

/** The statement timeout of a job's transactions when ExecutorDeps sets none. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * The bounds of one attempt: each transaction's `statement_timeout` is the job's statement timeout
 * or what is left until the attempt's deadline, whichever is sooner, and the work checks between
 * steps (chunks, the effect's commit) that it was not cancelled meanwhile.
 */
class AttemptBounds {
  /** Whether the tenant's own `heavy` statement limit, not the job's bound, was the one in force last. */
  private tenantLimitInForce = false;

  constructor(
    private readonly job: JobAttempt,
    private readonly execution: JobExecution,
    private readonly statementTimeoutMs: number,
  ) {}

  /** Throws the attempt's failure if it was cancelled or its deadline passed. */
  check(): void {
    if (this.execution.signal?.aborted) throw this.stopped();
    if (this.execution.deadline !== undefined && Date.now() >= this.execution.deadline) throw this.pastDeadline();
  }

  /**
   * Lowers the transaction's statement timeout to the job's bound when that is sooner than the
   * tenant's own `heavy` limit, which the tenant transaction set on entering (a 0 there is "none").
   * SET LOCAL (set_config's `true`), so it ends with the transaction and never reaches the pooled
   * connection's next borrower. pg_settings gives the current value in ms, whatever unit set it.
   */
  readonly prepare = async (tx: TenantTx): Promise<void> => {
    this.check();
    const left = this.execution.deadline === undefined ? Infinity : Math.max(1, Math.ceil(this.execution.deadline - Date.now()));
    const bound = Math.min(left, this.statementTimeoutMs);
    const { rows } = await tx.query<{ tenant_ms: number }>(
      `SELECT s.setting::int AS tenant_ms, set_config('statement_timeout', least(nullif(s.setting::int, 0), $1::int)::text, true)
         FROM pg_settings s WHERE s.name = 'statement_timeout'`,
      [String(bound)],
    );
    const tenantMs = rows[0]?.tenant_ms ?? 0;
    this.tenantLimitInForce = tenantMs > 0 && tenantMs <= bound;
  };

  /** The attempt's own failure for an error its bounds caused; other errors as they are. */
  failure(err: unknown): unknown {
    if (err instanceof JobFailedError || err instanceof StaleAttemptError) return err;
    // libs/db reports a statement a limit cancelled as QUERY_TIMEOUT; the tenant's own limit stays
    // that, the job's deadline or JOB_STATEMENT_TIMEOUT is the attempt's failure as before.
    const timeout = err instanceof QueryTimeoutError ? err : undefined;
    if (timeout && timeout.kind !== 'statement') return timeout;
    const cause: unknown = timeout ? timeout.cause : err;
    if ((cause as { code?: unknown } | undefined)?.code === QUERY_CANCELED) {
      if (this.execution.deadline !== undefined && Date.now() >= this.execution.deadline - 1) return this.pastDeadline(cause);
      if (timeout && this.tenantLimitInForce) return timeout;
      return new JobFailedError(
        `a statement of attempt ${this.job.attempt} of job ${this.job.jobId} ran past the ${this.statementTimeoutMs} ms statement timeout; its transaction was rolled back`,
        true,
        { cause },
      );
    }
    if (this.execution.signal?.aborted) return this.stopped();
    if (this.execution.deadline !== undefined && Date.now() >= this.execution.deadline) return this.pastDeadline(err);
    return err;
  }

  private stopped(): JobFailedError {
    const reason: unknown = this.execution.signal?.reason;
    if (reason instanceof JobFailedError) return reason;
    return new JobFailedError(`attempt ${this.job.attempt} of job ${this.job.jobId} was cancelled by its caller`, true, { cause: reason });
  }

  private pastDeadline(cause?: unknown): JobFailedError {
    return new JobFailedError(`attempt ${this.job.attempt} of job ${this.job.jobId} ran past its deadline; its transaction was rolled back`, true, { cause });
  }
}

/**
 * Runs one attempt of a job for the tenant of the call. The job's effect is written in a
 * transaction under the tenant's row-level security, once per job id: the first attempt to commit
 * wins, and a retried attempt finds the effect and reports it instead of applying it again. The
 * effect is fenced by the attempt: once a newer attempt of the job exists, this one commits nothing
 * (StaleAttemptError).
 *
 * `execution` bounds the attempt: every statement is timed out by its deadline and the work stops at
 * the next step once its signal is aborted; the promise settles only when the attempt's
 * transactions have ended (rolled back unless the effect committed), so a slot held for it is really
 * free when it settles.
 */
export function executeJob(deps: ExecutorDeps, job: JobAttempt, tenant: CallTenant, execution: JobExecution = {}): Promise<AttemptOutcome> {
  // Every tenant transaction of a job runs under the tenant's `heavy` query time limits.
  return withQueryWorkload('heavy', async () => {
    const bounds = new AttemptBounds(job, execution, deps.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
    try {
      bounds.check();
      return await runAttempt(deps, job, tenant, bounds, execution.signal);
    } catch (err) {
      throw bounds.failure(err);
    }
  });
}

async function runAttempt(
  deps: ExecutorDeps,
  job: JobAttempt,
  tenant: CallTenant,
  bounds: AttemptBounds,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
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
  const artifact = { deps, job, tenantId, sealer, bounds };
  switch (validated.type) {
    case 'export':
      return withArtifact(artifact, 'text/csv; charset=utf-8', async (write) => {
        const stats = await deps.data.withTenant(tenantId, async (tx) => {
          await bounds.prepare(tx);
          return exportRecordsCsv(tx, write, {
            batchSize: (validated.params as { batchSize?: number }).batchSize ?? deps.exportBatchSize ?? 500,
            ...(sealer ? { open: sealer.open } : {}),
          });
        });
        return { ...seen, rows: stats.rows, chars: stats.chars, chunks: stats.chunks, batchSize: stats.batchSize };
      });
    case 'report':
      return withArtifact(artifact, 'application/json', async (write) => {
        // A report tolerates staleness: it reads on the replica while its lag is within bounds
        // (REPLICA_MAX_LAG), so one tenant's report flood does not compete with writes on the primary.
        const report = await deps.data.withTenant(
          tenantId,
          async (tx) => {
            await bounds.prepare(tx);
            return reportRecords(tx);
          },
          { replica: true },
        );
        await write(JSON.stringify(report));
        return { ...seen, count: report.count, sumAmount: report.sumAmount };
      });
    case 'synthetic':
      return runSynthetic(deps, job, tenantId, validated.params as { ms: number; failAttempts?: number }, seen, bounds, signal);
  }
}

async function runSynthetic(
  deps: ExecutorDeps,
  job: JobAttempt,
  tenantId: TenantId,
  params: { ms: number; failAttempts?: number },
  seen: Record<string, unknown>,
  bounds: AttemptBounds,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> {
  const { ms, failAttempts } = params;
  // The work itself happens outside the transaction, so a long job does not hold a connection.
  // No timer at all for a no-op job: even a 0 ms timeout costs a turn of the timers phase (~1 ms).
  if (ms > 0) await sleep(ms, undefined, signal ? { signal } : {});
  bounds.check();
  if (failAttempts !== undefined && job.attempt <= failAttempts) {
    throw new JobFailedError(`synthetic failure on attempt ${job.attempt} of ${failAttempts}`, true);
  }
  const effect = { jobId: job.jobId, tenantId, attempt: job.attempt, observed: { ...seen, sleptMs: ms } };
  return deps.effects ? deps.effects.record(effect) : recordSyntheticEffect(deps.pool, effect, bounds.prepare);
}

/**
 * Fences an effect's transaction on the job's attempt: locks the job's row, so that a claim of a
 * newer attempt waits for this transaction to end, and refuses (StaleAttemptError, nothing written)
 * when a newer attempt already holds the job. The same fencing token as the scheduler's completion
 * and migration 601's (`attempts` is the attempt). A job id without a job row (the effect alone, in
 * tests) has no newer attempt.
 */
async function fenceAttempt(tx: TenantTx, jobId: string, attempt: number): Promise<void> {
  const current = await lockCurrentAttempt(tx, jobId);
  if (current !== undefined && current > attempt) throw new StaleAttemptError(jobId, attempt, current);
}

/** Records one synthetic effect in a transaction of its own, fenced by its attempt. */
export function recordSyntheticEffect(pool: Pool, effect: SyntheticEffect, prepare?: (tx: TenantTx) => Promise<void>): Promise<AttemptOutcome> {
  return withTenantId(pool, effect.tenantId, async (tx) => {
    await prepare?.(tx);
    await fenceAttempt(tx, effect.jobId, effect.attempt);
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

/** What {@link withArtifact} needs of the attempt. */
interface ArtifactAttempt {
  deps: ExecutorDeps;
  job: JobAttempt;
  tenantId: TenantId;
  sealer: FieldSealer | undefined;
  bounds: AttemptBounds;
}

/**
 * Produces a job's artifact and records its effect. The artifact's chunks are written as `produce`
 * hands them over, as rows of this attempt committed a few at a time (JobResultChunks: neither the
 * worker nor a transaction holds the whole result); then ONE transaction, fenced by the attempt,
 * publishes them as the job's result and inserts the job_effects row. A job id has at most one
 * artifact however often it runs: the artifact row and the effect are keyed by job id, and the
 * chunks of an attempt that lost, failed or went stale are deleted.
 */
async function withArtifact(
  attempt: ArtifactAttempt,
  contentType: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<Record<string, unknown>>,
): Promise<AttemptOutcome> {
  const { deps, job, tenantId, bounds } = attempt;
  const earlier = await withTenantId(deps.pool, tenantId, async (tx) => {
    await bounds.prepare(tx);
    const found = await tx.query<{ observed: Record<string, unknown> }>('SELECT observed FROM job_effects WHERE job_id = $1', [job.jobId]);
    if (found.rows[0]) return found.rows[0].observed;
    // No result yet: whatever chunks earlier attempts left are nobody's.
    await discardAbandonedChunks(tx, job.jobId, job.attempt);
    return undefined;
  });
  if (earlier) return { applied: false, result: earlier };

  const chunks = new JobResultChunks(deps.pool, tenantId, job.jobId, job.attempt, {
    ...(attempt.sealer ? { sealer: attempt.sealer } : {}),
    ...(deps.resultChunksPerCommit === undefined ? {} : { chunksPerCommit: deps.resultChunksPerCommit }),
    prepare: bounds.prepare,
  });
  let published = false;
  try {
    const stats = await produce(async (chunk) => {
      bounds.check();
      await chunks.append(chunk);
    });
    await chunks.flush();
    return await withTenantId(deps.pool, tenantId, async (tx): Promise<AttemptOutcome> => {
      await bounds.prepare(tx);
      await fenceAttempt(tx, job.jobId, job.attempt);
      const observed = { ...stats, dbSessionTenant: await sessionTenant(tx) };
      if (!(await chunks.publish(tx, contentType))) return { applied: false, result: await existingEffect(tx, job.jobId, observed) };
      await tx.query(`INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING`, [
        job.jobId,
        tenantId,
        job.attempt,
        observed,
      ]);
      published = true;
      return { applied: true, result: observed };
    });
  } finally {
    // Best effort: chunks left behind are deleted by the job's next attempt, or with the tenant.
    if (!published) await chunks.discard().catch(() => undefined);
  }
}
