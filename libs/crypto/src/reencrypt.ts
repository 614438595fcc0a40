import type { Pool } from 'pg';
import { ValidationError } from '@fairway/errors';
import type { DataKeyCache } from './data-key';
import type { KeyProvider } from './key-provider';
import { CIPHERTEXT_PREFIX } from './ciphertext';
import { tenantCipher, type TenantCipher } from './tenant-cipher';
import { inTenantTransaction } from './tenant-keys';

/** What reencryptTable moves to the tenant's current key. */
export interface ReencryptTableOptions {
  tenantId: string;
  /** Table name, optionally schema-qualified (plain identifiers only). */
  table: string;
  /** A unique, ordered column to page by (the primary key). */
  idColumn: string;
  /** The encrypted text columns. */
  columns: readonly string[];
  /** The column naming the tenant ('tenant_id' by default): rows of other tenants are never read. */
  tenantColumn?: string;
  /** Rows per transaction; 200 by default. */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (progress: ReencryptProgress) => void;
  cache?: DataKeyCache;
}

/** Progress of a re-encryption. */
export interface ReencryptProgress {
  tenantId: string;
  table: string;
  /** Rows read so far. */
  scanned: number;
  /** Values rewritten under the current key so far. */
  reencrypted: number;
  /** The key version values are moved to. */
  toKeyVersion: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function ident(name: string, what: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new ValidationError(`${what} '${name}' is not a plain SQL identifier`, [{ path: what, message: 'not an identifier' }]);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/**
 * After a tenant key rotation, rewrites the tenant's values in `table` under the current key, in
 * batches (each its own transaction, under the tenant's row-level security), so the old key
 * versions stop being needed. Values already under the current key and NULLs are left alone, so
 * it is safe to stop and run again. Returns the final progress.
 */
export async function reencryptTable(pool: Pool, provider: KeyProvider, options: ReencryptTableOptions): Promise<ReencryptProgress> {
  const table = ident(options.table, 'table');
  const id = ident(options.idColumn, 'idColumn');
  const tenantColumn = ident(options.tenantColumn ?? 'tenant_id', 'tenantColumn');
  if (options.columns.length === 0) throw new ValidationError('columns must name at least one encrypted column', [{ path: 'columns', message: 'empty' }]);
  const columns = options.columns.map((c) => ident(c, 'columns'));
  const batchSize = options.batchSize ?? 200;
  const cipher = await tenantCipher(pool, provider, options.tenantId, options.cache ? { cache: options.cache } : {});
  const progress: ReencryptProgress = { tenantId: options.tenantId, table: options.table, scanned: 0, reencrypted: 0, toKeyVersion: cipher.keyVersion };
  let last: unknown;
  for (;;) {
    const done: number = await inTenantTransaction(pool, options.tenantId, async (client) => {
      const params: unknown[] = [options.tenantId, batchSize];
      if (last !== undefined) params.push(last);
      const { rows } = await client.query<Record<string, unknown>>(
        `SELECT ${id} AS id, ${columns.join(', ')} FROM ${table}
          WHERE ${tenantColumn} = $1 ${last === undefined ? '' : `AND ${id} > $3`}
          ORDER BY ${id} LIMIT $2 FOR UPDATE`,
        params,
      );
      for (const row of rows) {
        const updates: string[] = [];
        const values: unknown[] = [];
        options.columns.forEach((column, i) => {
          const value = row[column];
          const moved = typeof value === 'string' ? reencryptValue(cipher, value) : undefined;
          if (moved !== undefined) {
            values.push(moved);
            updates.push(`${columns[i]} = $${values.length + 2}`);
          }
        });
        if (updates.length > 0) {
          await client.query(`UPDATE ${table} SET ${updates.join(', ')} WHERE ${id} = $1 AND ${tenantColumn} = $2`, [row['id'], options.tenantId, ...values]);
          progress.reencrypted += updates.length;
        }
        progress.scanned += 1;
        last = row['id'];
      }
      return rows.length;
    });
    if (done > 0) options.onProgress?.({ ...progress });
    if (done < batchSize) return progress;
  }
}

/** The text every value sealed under `keyVersion` starts with (for SQL `LIKE` filters). */
export function keyVersionPrefix(keyVersion: number): string {
  return `${CIPHERTEXT_PREFIX}:${keyVersion}:`;
}

/**
 * One stored value moved to the cipher's current key: the new ciphertext, or undefined when it is
 * already under the current key, or is not a ciphertext at all (plaintext written before
 * encryption was turned on is left as it is). Throws DecryptionFailedError for a value that does
 * not open.
 */
export function reencryptValue(cipher: TenantCipher, value: string): string | undefined {
  return cipher.needsReencryption(value) ? cipher.encrypt(cipher.decrypt(value)) : undefined;
}

/**
 * A body made of sealed chunks, one ciphertext per line (a stored export or report result), moved
 * to the cipher's current key line by line: each chunk keeps its boundaries, so the reader opens it
 * exactly as before. `reencrypted` counts the lines rewritten; 0 means `body` is returned unchanged.
 */
export function reencryptSealedLines(cipher: TenantCipher, body: string): { body: string; reencrypted: number } {
  let reencrypted = 0;
  const lines = body.split('\n').map((line) => {
    const moved = line.length > 0 ? reencryptValue(cipher, line) : undefined;
    if (moved === undefined) return line;
    reencrypted += 1;
    return moved;
  });
  return reencrypted === 0 ? { body, reencrypted } : { body: lines.join('\n'), reencrypted };
}
