import { timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { hashSecret, parseApiKey } from '@fairway/auth';

/** A stored key as the edge needs it. */
export interface StoredApiKey {
  id: string;
  tenantId: string;
  hash: string;
  revoked: boolean;
}

/** Where keys are looked up; a PostgreSQL table in production, a Map in unit tests. */
export interface ApiKeyLookup {
  /** The key stored under `prefix`, or undefined. */
  byPrefix(prefix: string): Promise<StoredApiKey | undefined>;
  /** Records that the key was used (the store decides how often to write). */
  touch(id: string): void;
}

/** Checks a presented key against its stored hash, in constant time. */
export async function verifyApiKey(lookup: ApiKeyLookup, key: string): Promise<StoredApiKey | undefined> {
  const parts = parseApiKey(key);
  if (!parts) return undefined;
  const stored = await lookup.byPrefix(parts.prefix);
  const presented = Buffer.from(hashSecret(parts.secret), 'hex');
  // Compare even when nothing is stored, against a dummy, so a miss and a wrong secret take the same time.
  const expected = Buffer.from(stored?.hash ?? '0'.repeat(64), 'hex');
  const equal = expected.length === presented.length && timingSafeEqual(expected, presented);
  if (!stored || !equal || stored.revoked) return undefined;
  lookup.touch(stored.id);
  return stored;
}

/**
 * The api_keys table as the edge (app role) reads it. Lookups are cached for `cacheTtlMs`, so a
 * revocation takes effect on every replica within that time; last_used_at is written at most once
 * per `touchIntervalMs` per key and replica, never on every request.
 */
export class PgApiKeyLookup implements ApiKeyLookup {
  private readonly cache = new Map<string, { key: StoredApiKey | undefined; expires: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    private readonly options: { cacheTtlMs: number; touchIntervalMs: number; onError?: (err: unknown) => void },
  ) {}

  async byPrefix(prefix: string): Promise<StoredApiKey | undefined> {
    const now = Date.now();
    const hit = this.cache.get(prefix);
    if (hit && hit.expires > now) return hit.key;
    const { rows } = await this.pool.query<{ id: string; tenant_id: string; hash: string; revoked_at: Date | null }>(
      'SELECT id, tenant_id, hash, revoked_at FROM api_keys WHERE prefix = $1',
      [prefix],
    );
    const row = rows[0];
    const key = row && { id: row.id, tenantId: row.tenant_id, hash: row.hash, revoked: row.revoked_at !== null };
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(prefix, { key, expires: now + this.options.cacheTtlMs });
    return key;
  }

  touch(id: string): void {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) + this.options.touchIntervalMs > now) return;
    if (this.touched.size > 100_000) this.touched.clear();
    this.touched.set(id, now);
    // The WHERE clause also throttles across replicas: a row touched recently is not rewritten.
    this.pool
      .query(
        `UPDATE api_keys SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`,
        [id, this.options.touchIntervalMs / 1000],
      )
      .catch((err: unknown) => this.options.onError?.(err));
  }
}
