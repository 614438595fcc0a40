import { createHash, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { appendAudit, AuditAction, GLOBAL_CHAIN } from '@fairway/audit';
import { DATA_KEY_BYTES, DataKey, DataKeyCache } from './data-key';
import { TenantKeysDestroyedError } from './errors';
import type { KeyProvider } from './key-provider';
import { inTransaction } from '@fairway/db';

/** The process-wide cache of unwrapped data keys used when a call passes none. */
export const defaultDataKeyCache = new DataKeyCache();

/** A stored (wrapped) data key row. */
export interface TenantKeyRow {
  version: number;
  kekVersion: string;
  wrappedKey: Buffer | null;
  createdAt: Date;
  destroyedAt: Date | null;
}

/** Runs `fn` in a transaction whose row-level security is set to `tenantId`. */
export function inTenantTransaction<T>(pool: Pool, tenantId: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    // SET LOCAL semantics: the tenant ends with the transaction and never leaks to the next borrower.
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    return fn(client);
  });
}

/** The tenant's key rows, oldest first (visible to the app role only for the transaction's tenant). */
export async function readTenantKeys(client: Pick<PoolClient, 'query'>, tenantId: string): Promise<TenantKeyRow[]> {
  const { rows } = await client.query<{ version: number; kek_version: string; wrapped_key: Buffer | null; created_at: Date; destroyed_at: Date | null }>(
    'SELECT version, kek_version, wrapped_key, created_at, destroyed_at FROM tenant_keys WHERE tenant_id = $1 ORDER BY version',
    [tenantId],
  );
  return rows.map((r) => ({ version: r.version, kekVersion: r.kek_version, wrappedKey: r.wrapped_key, createdAt: r.created_at, destroyedAt: r.destroyed_at }));
}

function cacheId(tenantId: string, row: TenantKeyRow): string {
  // The wrapped bytes' fingerprint is part of the id: a tenant deleted and created again under the
  // same id gets a new key 1, and must never be served the old one from the cache.
  const fingerprint = createHash('sha256')
    .update(row.wrappedKey ?? Buffer.alloc(0))
    .digest('base64url')
    .slice(0, 22);
  return `${tenantId}:${row.version}:${fingerprint}`;
}

/** Unwraps one live key row, through the cache. */
export async function unwrapTenantKey(provider: KeyProvider, tenantId: string, row: TenantKeyRow, cache: DataKeyCache): Promise<DataKey> {
  if (!row.wrappedKey) throw new TenantKeysDestroyedError(tenantId);
  const id = cacheId(tenantId, row);
  const cached = cache.get(id);
  if (cached) return cached;
  const key = new DataKey(tenantId, row.version, await provider.unwrap(row.wrappedKey, row.kekVersion, { tenantId, keyVersion: row.version }));
  cache.set(id, key);
  return key;
}

function sqlState(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/**
 * Adds the tenant's next data key version (version 1 for a tenant with none) through the
 * tenant_key_add function, inside `client`'s transaction, and returns it. Returns undefined when a
 * concurrent writer took that version first (the caller re-reads and uses theirs).
 */
export async function addTenantKey(client: Pick<PoolClient, 'query'>, provider: KeyProvider, tenantId: string, version: number): Promise<DataKey | undefined> {
  const dek = randomBytes(DATA_KEY_BYTES);
  const kekVersion = provider.currentKekVersion();
  const wrapped = await provider.wrap(dek, kekVersion, { tenantId, keyVersion: version });
  await client.query('SAVEPOINT tenant_key_add');
  try {
    await client.query('SELECT tenant_key_add($1, $2, $3, $4)', [tenantId, version, kekVersion, wrapped]);
    await client.query('RELEASE SAVEPOINT tenant_key_add');
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT tenant_key_add');
    if (sqlState(err) === 'FW409') return undefined;
    if (sqlState(err) === 'FW410') throw new TenantKeysDestroyedError(tenantId);
    throw err;
  }
  return new DataKey(tenantId, version, dek);
}

/** Who rotates or destroys keys, and why: recorded in the audit trail. */
export interface KeyAdminContext {
  actor: string;
  reason?: string;
}

/**
 * Starts a new data key version for the tenant: new writes use it, older versions stay readable
 * (they are never removed by rotation). Audited as `data-key.rotate`. Runs as the application role
 * (under the tenant) or the owner. To also move the tenant's stored values to the new key, use
 * startReencryption({ rotate: true }) and runReencryption (reencryption.ts) instead.
 */
export async function rotateTenantKey(pool: Pool, provider: KeyProvider, tenantId: string, admin: KeyAdminContext): Promise<{ version: number }> {
  return inTenantTransaction(pool, tenantId, (client) => rotateTenantKeyIn(client, provider, tenantId, admin));
}

/** rotateTenantKey inside the caller's transaction (which must have app.tenant_id set or be the owner's). */
export async function rotateTenantKeyIn(
  client: Pick<PoolClient, 'query'>,
  provider: KeyProvider,
  tenantId: string,
  admin: KeyAdminContext,
): Promise<{ version: number }> {
  const rows = await readTenantKeys(client, tenantId);
  if (rows.some((r) => r.destroyedAt)) throw new TenantKeysDestroyedError(tenantId);
  const version = (rows.at(-1)?.version ?? 0) + 1;
  // Inside one transaction that holds the tenant's key lock from here on, a conflict cannot
  // happen silently: it is reported rather than retried, since two rotations at once are a mistake.
  const key = await addTenantKey(client, provider, tenantId, version);
  if (!key) throw new Error(`data key version ${version} of tenant '${tenantId}' was added concurrently; retry the rotation`);
  await appendAudit(client, {
    chain: tenantId,
    actor: admin.actor,
    action: AuditAction.dataKeyRotate,
    target: tenantId,
    before: { version: version - 1 },
    after: { version, kekVersion: provider.currentKekVersion() },
    ...(admin.reason === undefined ? {} : { reason: admin.reason }),
  });
  return { version };
}

/**
 * Crypto-shredding: erases every wrapped data key of the tenant (the rows stay as tombstones with
 * destroyed_at), so every copy of its ciphertext — replicas, dead letters, exports, backups taken
 * after this moment — becomes unreadable, and no new key is ever made for it. Audited as
 * `data-keys.destroy` in the tenant's chain, in the same transaction. Needs the owner role.
 *
 * Backups taken BEFORE the shredding still hold the wrapped keys: they become unreadable when they
 * age out of retention, or at once if the KEK they were wrapped with is retired (docs/security.md).
 */
export async function destroyTenantKeys(
  ownerPool: Pool,
  tenantId: string,
  admin: KeyAdminContext,
  cache: DataKeyCache = defaultDataKeyCache,
): Promise<{ versions: number[] }> {
  const client = await ownerPool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('fairway.tenant-keys:' || $1, 0))`, [tenantId]);
    const { rows } = await client.query<{ version: number }>(
      'UPDATE tenant_keys SET wrapped_key = NULL, destroyed_at = now() WHERE tenant_id = $1 AND destroyed_at IS NULL RETURNING version',
      [tenantId],
    );
    const versions = rows.map((r) => r.version).sort((a, b) => a - b);
    // A tenant that never had a key still gets a tombstone, so none can be made for it later.
    if (versions.length === 0) {
      await client.query(
        `INSERT INTO tenant_keys (tenant_id, version, kek_version, wrapped_key, destroyed_at)
         SELECT $1, 1, 'none', NULL, now() WHERE NOT EXISTS (SELECT 1 FROM tenant_keys WHERE tenant_id = $1)`,
        [tenantId],
      );
    }
    await appendAudit(client, {
      chain: tenantId,
      actor: admin.actor,
      action: AuditAction.dataKeysDestroy,
      target: tenantId,
      after: { destroyedVersions: versions },
      ...(admin.reason === undefined ? {} : { reason: admin.reason }),
    });
    await client.query('COMMIT');
    cache.forgetTenant(tenantId);
    return { versions };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Progress of a KEK rewrap. */
export interface RewrapProgress {
  rewrapped: number;
  toKekVersion: string;
}

/**
 * KEK rotation: rewraps every live data key not yet wrapped by `toKekVersion` (the provider's
 * current KEK by default). Only the few tenant_keys rows change; no ciphertext is read or written.
 * Batched, each batch its own transaction with FOR UPDATE SKIP LOCKED, so it can run alongside
 * traffic and be resumed after a crash. Audited once in the global chain. Needs the owner role.
 */
export async function rewrapTenantKeys(
  ownerPool: Pool,
  provider: KeyProvider,
  options: {
    actor: string;
    toKekVersion?: string;
    /** Rewrap only these tenants' keys (all tenants when absent). */
    tenantIds?: readonly string[];
    batchSize?: number;
    onProgress?: (progress: RewrapProgress) => void;
  },
): Promise<RewrapProgress> {
  const toKekVersion = options.toKekVersion ?? provider.currentKekVersion();
  const batchSize = options.batchSize ?? 100;
  let rewrapped = 0;
  const fromVersions = new Set<string>();
  for (;;) {
    const client = await ownerPool.connect();
    let batch = 0;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ tenant_id: string; version: number; kek_version: string; wrapped_key: Buffer }>(
        `SELECT tenant_id, version, kek_version, wrapped_key FROM tenant_keys
          WHERE destroyed_at IS NULL AND kek_version <> $1 AND ($3::text[] IS NULL OR tenant_id = ANY($3::text[]))
          ORDER BY tenant_id, version LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [toKekVersion, batchSize, options.tenantIds ?? null],
      );
      for (const row of rows) {
        const context = { tenantId: row.tenant_id, keyVersion: row.version };
        const dek = await provider.unwrap(row.wrapped_key, row.kek_version, context);
        const wrapped = await provider.wrap(dek, toKekVersion, context);
        await client.query('UPDATE tenant_keys SET wrapped_key = $3, kek_version = $4, rewrapped_at = now() WHERE tenant_id = $1 AND version = $2', [
          row.tenant_id,
          row.version,
          wrapped,
          toKekVersion,
        ]);
        fromVersions.add(row.kek_version);
      }
      await client.query('COMMIT');
      batch = rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    if (batch === 0) break;
    rewrapped += batch;
    options.onProgress?.({ rewrapped, toKekVersion });
  }
  if (rewrapped > 0) {
    await appendAudit(ownerPool, {
      chain: GLOBAL_CHAIN,
      actor: options.actor,
      action: AuditAction.kekRewrap,
      after: { toKekVersion, fromKekVersions: [...fromVersions].sort(), rewrapped, ...(options.tenantIds ? { tenantIds: options.tenantIds } : {}) },
    });
  }
  return { rewrapped, toKekVersion };
}
