import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

/**
 * API keys look like `fwk_<prefix>_<secret>`: the 12-hex prefix is public and finds the stored row,
 * the 43-character secret is checked against its SHA-256. The secret is 256 random bits, so a
 * plain (unsalted, fast) hash is enough: there is nothing to brute-force as there is with passwords.
 */
const KEY_PATTERN = /^fwk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A key parsed into its parts, or undefined when it is not shaped like one. */
export function parseApiKey(key: string): { prefix: string; secret: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { prefix: match[1], secret: match[2] } : undefined;
}

/** The stored hash of a key's secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new key and what to store of it. The key is returned to the operator once and never stored. */
export function generateApiKey(): { id: string; prefix: string; key: string; hash: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id: randomUUID(), prefix, key: `fwk_${prefix}_${secret}`, hash: hashSecret(secret) };
}

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

/** An issued key as the admin API returns it. */
export interface IssuedApiKey {
  id: string;
  tenantId: string;
  prefix: string;
  key: string;
  createdAt: string;
}

/** Issues a key for `tenantId` (owner role). */
export async function issueApiKey(owner: Pool | PoolClient, tenantId: string): Promise<IssuedApiKey> {
  const generated = generateApiKey();
  const { rows } = await owner.query<{ created_at: Date }>(
    'INSERT INTO api_keys (id, tenant_id, prefix, hash) VALUES ($1, $2, $3, $4) RETURNING created_at',
    [generated.id, tenantId, generated.prefix, generated.hash],
  );
  return { id: generated.id, tenantId, prefix: generated.prefix, key: generated.key, createdAt: (rows[0]?.created_at ?? new Date()).toISOString() };
}

/** A key's public description (never its hash). */
export interface ApiKeyDescription {
  id: string;
  tenantId: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** Revokes key `keyId` of `tenantId` (owner role); the key as it was before, or undefined if there is none. */
export async function revokeApiKey(owner: Pool | PoolClient, tenantId: string, keyId: string): Promise<{ before: ApiKeyDescription; after: ApiKeyDescription } | undefined> {
  const { rows } = await owner.query<{ id: string; tenant_id: string; prefix: string; created_at: Date; old_revoked_at: Date | null; revoked_at: Date; last_used_at: Date | null }>(
    `UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, now())
     FROM api_keys old WHERE old.id = k.id AND k.id = $2 AND k.tenant_id = $1
     RETURNING k.id, k.tenant_id, k.prefix, k.created_at, old.revoked_at AS old_revoked_at, k.revoked_at, k.last_used_at`,
    [tenantId, keyId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const base = { id: row.id, tenantId: row.tenant_id, prefix: row.prefix, createdAt: row.created_at.toISOString(), lastUsedAt: row.last_used_at?.toISOString() ?? null };
  return { before: { ...base, revokedAt: row.old_revoked_at?.toISOString() ?? null }, after: { ...base, revokedAt: row.revoked_at.toISOString() } };
}
