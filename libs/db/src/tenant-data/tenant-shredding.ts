import type { Pool } from 'pg';
import type { TenantId } from '@fairway/tenant-context';
import { withTenantId } from '../with-tenant';
import { quoteIdent } from './tenant-location';

/** What shredTenantData removed or cleared. */
export interface ShreddingReport {
  /** Jobs whose params, result, error, trace headers and idempotency key were cleared. */
  jobsCleared: number;
  /** Of those, jobs still queued or running, now cancelled. */
  jobsCancelled: number;
  effectsDeleted: number;
  apiKeysDeleted: number;
  reencryptionsDeleted: number;
}

/** Jobs cleared per transaction: a tenant with millions of jobs never holds one huge transaction. */
const JOB_BATCH = 5000;

/**
 * The catalog tables a tenant's running work writes to, each guarded by the trigger of migration
 * 621 once the tenant is offboarding. job_result_chunks comes with migration 610 (checked, not assumed).
 */
const GUARDED_TABLES = ['jobs', 'job_effects', 'job_artifacts', 'job_result_chunks', 'records'] as const;

/** The values a shredded job keeps: its id, type, class, priority, state, attempts and times (accounting). */
const CLEARED_JOB = `params = '{}'::jsonb, result = NULL, last_error = NULL, trace_headers = '{}'::jsonb,
  idempotency_key = NULL, request_hash = NULL, lease_expires_at = NULL,
  state = CASE WHEN state IN ('queued', 'running') THEN 'cancelled' ELSE state END,
  finished_at = CASE WHEN state IN ('queued', 'running') THEN now() ELSE finished_at END`;

const NOT_YET_CLEARED = `(params <> '{}'::jsonb OR result IS NOT NULL OR last_error IS NOT NULL OR trace_headers <> '{}'::jsonb
  OR idempotency_key IS NOT NULL OR request_hash IS NOT NULL OR state IN ('queued', 'running'))`;

/**
 * Waits until every transaction that was writing to a guarded table when this is called has ended.
 * Called after the tenant's status 'offboarding' is committed: a write that began before is then
 * committed (and visible to the shredding) or gone, and one that begins after is stopped by the
 * trigger of migration 621. One table per transaction, so the barrier never holds one lock while
 * waiting for another (no deadlock with a writer that touches two of them). New writes to the table
 * queue behind the barrier only while it waits for the writes in progress; it holds nothing after.
 */
export async function awaitWritesInProgress(ownerPool: Pool): Promise<void> {
  const { rows } = await ownerPool.query<{ name: string }>('SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL', [GUARDED_TABLES]);
  for (const { name } of rows) {
    const client = await ownerPool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${quoteIdent(name)} IN SHARE MODE`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

/**
 * Crypto-shredding of what a deleted tenant left outside its encrypted fields (issue #16 item 7;
 * docs/security.md, "Crypto-shredding"). Destroying the tenant's data keys makes its sealed values
 * unreadable, but job parameters, results, errors, effects and trace headers are stored as
 * plaintext; this removes them. Run by deprovisionTenant, as the owner, after the tenant's status
 * is 'offboarding' (committed). Idempotent: a second run finds nothing to clear.
 *
 * Kept, because the platform must keep them: each job row's id, type, class, priority, state,
 * attempts and timestamps (usage accounting and the scheduler's history), the catalog row (that the
 * tenant existed; its display name is replaced by its id), its quota and quota history (operator
 * settings), the tombstones of its destroyed keys, and its audit chain (admin actions; secrets
 * redacted, never tenant data).
 */
export async function shredTenantData(ownerPool: Pool, tenantId: TenantId): Promise<ShreddingReport> {
  await awaitWritesInProgress(ownerPool);
  const report: ShreddingReport = { jobsCleared: 0, jobsCancelled: 0, effectsDeleted: 0, apiKeysDeleted: 0, reencryptionsDeleted: 0 };
  for (;;) {
    // The owner reaches one tenant's jobs only inside that tenant's transaction (migration 621's policy).
    const batch = await withTenantId(ownerPool, tenantId, async (tx) => {
      const { rows } = await tx.query<{ cancelled: boolean }>(
        `WITH batch AS (SELECT id, state IN ('queued', 'running') AS cancelled FROM jobs
                         WHERE tenant_id = $1 AND ${NOT_YET_CLEARED} LIMIT ${JOB_BATCH} FOR UPDATE)
         UPDATE jobs SET ${CLEARED_JOB} FROM batch WHERE jobs.id = batch.id RETURNING batch.cancelled`,
        [tenantId],
      );
      return rows;
    });
    report.jobsCleared += batch.length;
    report.jobsCancelled += batch.filter((r) => r.cancelled).length;
    if (batch.length < JOB_BATCH) break;
  }
  await withTenantId(ownerPool, tenantId, async (tx) => {
    report.effectsDeleted = (await tx.query('DELETE FROM job_effects WHERE tenant_id = $1', [tenantId])).rowCount ?? 0;
    // Hashes of the tenant's API key secrets: nothing may authenticate as a deleted tenant.
    report.apiKeysDeleted = (await tx.query('DELETE FROM api_keys WHERE tenant_id = $1', [tenantId])).rowCount ?? 0;
    // Its re-encryption cursors (record ids) and error text.
    report.reencryptionsDeleted = (await tx.query('DELETE FROM tenant_reencryptions WHERE tenant_id = $1', [tenantId])).rowCount ?? 0;
    // The display name was chosen by or for the customer; the id (and slug) stay as the record.
    await tx.query('UPDATE tenants SET display_name = id WHERE id = $1 AND display_name <> id', [tenantId]);
  });
  return report;
}
