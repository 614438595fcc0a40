import { createHash, randomBytes, randomUUID } from 'node:crypto';
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
  const { rows } = await owner.query<{ created_at: Date }>('INSERT INTO api_keys (id, tenant_id, prefix, hash) VALUES ($1, $2, $3, $4) RETURNING created_at', [
    generated.id,
    tenantId,
    generated.prefix,
    generated.hash,
  ]);
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
export async function revokeApiKey(
  owner: Pool | PoolClient,
  tenantId: string,
  keyId: string,
): Promise<{ before: ApiKeyDescription; after: ApiKeyDescription } | undefined> {
  const { rows } = await owner.query<{
    id: string;
    tenant_id: string;
    prefix: string;
    created_at: Date;
    old_revoked_at: Date | null;
    revoked_at: Date;
    last_used_at: Date | null;
  }>(
    `UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, now())
     FROM api_keys old WHERE old.id = k.id AND k.id = $2 AND k.tenant_id = $1
     RETURNING k.id, k.tenant_id, k.prefix, k.created_at, old.revoked_at AS old_revoked_at, k.revoked_at, k.last_used_at`,
    [tenantId, keyId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const base = {
    id: row.id,
    tenantId: row.tenant_id,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
  return { before: { ...base, revokedAt: row.old_revoked_at?.toISOString() ?? null }, after: { ...base, revokedAt: row.revoked_at.toISOString() } };
}
