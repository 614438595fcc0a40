import type { Pool } from 'pg';
import { CIPHERTEXT_PREFIX, keyVersionPrefix, reencryptSealedLines, reencryptValue, type ReencryptionTarget } from '@fairway/crypto';
import { withTenantId } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import type { TenantData } from './records-repository';

/** Where a tenant's encrypted values live: its records store, and the catalog's stored job results. */
export interface ReencryptionStores {
  /** The tenant's records, in whichever isolation model (the TenantDataRouter). */
  data: TenantData;
  /** The catalog database as the application role: job_artifacts (one table for every model), under RLS. */
  catalogPool: Pool;
}

/** Stored results per batch: each may be a whole export, so fewer than records. */
const ARTIFACTS_PER_BATCH = 20;

/**
 * Everything of a tenant that is sealed with its data key, as re-encryption targets
 * (libs/crypto runReencryption):
 *
 * - `records.body`: the sensitive field of every record, in the tenant's pooled rows, schema or
 *   database (reached through `data.withTenant`, so the SQL is the same for all three);
 * - `job_artifacts.body`: stored export/report results written before migration 610, sealed
 *   chunks one per line, in the catalog database for every model;
 * - `job_result_chunks.body`: stored results since, one sealed chunk per row (libs/records job-results).
 *
 * Rows are paged by primary key (UUIDs) and locked for the batch, so a concurrent update of the
 * same row waits for the batch instead of being overwritten. Values that are not ciphertext
 * (written before encryption was turned on) are left as they are.
 */
export function recordsReencryptionTargets(stores: ReencryptionStores, tenantId: TenantId): ReencryptionTarget[] {
  const records: ReencryptionTarget = {
    name: 'records.body',
    batch: (cipher, after, limit) =>
      stores.data.withTenant(tenantId, async (tx) => {
        const { rows } = await tx.query<{ id: string; body: string }>(
          'SELECT id::text AS id, body FROM records WHERE ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2 FOR UPDATE',
          [after ?? null, limit],
        );
        let reencrypted = 0;
        for (const row of rows) {
          const moved = reencryptValue(cipher, row.body);
          if (moved === undefined) continue;
          await tx.query('UPDATE records SET body = $2 WHERE id = $1', [row.id, moved]);
          reencrypted += 1;
        }
        return { scanned: rows.length, reencrypted, last: rows.at(-1)?.id, exhausted: rows.length < limit };
      }),
    remaining: (keyVersion) =>
      stores.data.withTenant(tenantId, async (tx) => {
        const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM records WHERE body LIKE $1 AND body NOT LIKE $2`, [
          `${CIPHERTEXT_PREFIX}:%`,
          `${keyVersionPrefix(keyVersion)}%`,
        ]);
        return rows[0]?.n ?? 0;
      }),
  };

  const artifacts: ReencryptionTarget = {
    name: 'job_artifacts.body',
    batch: (cipher, after, limit) =>
      withTenantId(stores.catalogPool, tenantId, async (tx) => {
        const { rows } = await tx.query<{ job_id: string; body: string }>(
          // attempt IS NULL: results stored whole, before migration 610; later ones have an empty body.
          'SELECT job_id::text AS job_id, body FROM job_artifacts WHERE attempt IS NULL AND ($1::uuid IS NULL OR job_id > $1::uuid) ORDER BY job_id LIMIT $2 FOR UPDATE',
          [after ?? null, Math.min(limit, ARTIFACTS_PER_BATCH)],
        );
        let reencrypted = 0;
        for (const row of rows) {
          const moved = reencryptSealedLines(cipher, row.body);
          if (moved.reencrypted === 0) continue;
          await tx.query('UPDATE job_artifacts SET body = $2 WHERE job_id = $1', [row.job_id, moved.body]);
          reencrypted += moved.reencrypted;
        }
        return { scanned: rows.length, reencrypted, last: rows.at(-1)?.job_id, exhausted: rows.length < Math.min(limit, ARTIFACTS_PER_BATCH) };
      }),
    remaining: (keyVersion) =>
      withTenantId(stores.catalogPool, tenantId, async (tx) => {
        const { rows } = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM job_artifacts AS a, regexp_split_to_table(a.body, E'\\n') AS line
            WHERE line LIKE $1 AND line NOT LIKE $2`,
          [`${CIPHERTEXT_PREFIX}:%`, `${keyVersionPrefix(keyVersion)}%`],
        );
        return rows[0]?.n ?? 0;
      }),
  };

  const chunks: ReencryptionTarget = {
    name: 'job_result_chunks.body',
    batch: (cipher, after, limit) =>
      withTenantId(stores.catalogPool, tenantId, async (tx) => {
        // The keyset cursor is the row's primary key, as text: job id, attempt, seq.
        const [job, attempt, seq] = after === undefined ? [null, null, null] : after.split('/');
        const { rows } = await tx.query<{ job_id: string; attempt: number; seq: number; body: string }>(
          `SELECT job_id::text AS job_id, attempt, seq, body FROM job_result_chunks
            WHERE $1::uuid IS NULL OR (job_id, attempt, seq) > ($1::uuid, $2::integer, $3::integer)
            ORDER BY job_id, attempt, seq LIMIT $4 FOR UPDATE`,
          [job ?? null, attempt ?? null, seq ?? null, Math.min(limit, ARTIFACTS_PER_BATCH)],
        );
        let reencrypted = 0;
        for (const row of rows) {
          const moved = reencryptValue(cipher, row.body);
          if (moved === undefined) continue;
          await tx.query('UPDATE job_result_chunks SET body = $4 WHERE job_id = $1 AND attempt = $2 AND seq = $3', [row.job_id, row.attempt, row.seq, moved]);
          reencrypted += 1;
        }
        const last = rows.at(-1);
        return {
          scanned: rows.length,
          reencrypted,
          last: last && `${last.job_id}/${last.attempt}/${last.seq}`,
          exhausted: rows.length < Math.min(limit, ARTIFACTS_PER_BATCH),
        };
      }),
    remaining: (keyVersion) =>
      withTenantId(stores.catalogPool, tenantId, async (tx) => {
        const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_result_chunks WHERE body LIKE $1 AND body NOT LIKE $2`, [
          `${CIPHERTEXT_PREFIX}:%`,
          `${keyVersionPrefix(keyVersion)}%`,
        ]);
        return rows[0]?.n ?? 0;
      }),
  };

  return [records, artifacts, chunks];
}
