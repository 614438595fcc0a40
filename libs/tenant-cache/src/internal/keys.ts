import type { TenantContext } from '@fairway/tenant-context';

/**
 * The Redis keys of one tenant's cache. Every key carries the tenant as a Redis Cluster hash tag,
 * `<prefix>{<tenant>}:...`, so all of a tenant's keys live in one slot (the scripts touch several
 * of them atomically) and one SCAN pattern finds them all.
 *
 * Internal: only TenantCache builds keys, from the tenant context it reads itself. Nothing outside
 * the lib can name a key (index.ts does not export this module; tenant-cache.test.ts checks it).
 */
export interface TenantKeys {
  /** Hash: `gen` (the fill generation, a random token), `bytes` (the entries' accounted size). */
  readonly meta: string;
  /** Sorted set: entry key -> the time it expires (ms), oldest first for eviction. */
  readonly index: string;
  /** Hash: entry key -> its accounted size in bytes. */
  readonly sizes: string;
  /** The SCAN pattern that matches every key of the tenant. */
  readonly pattern: string;
  /** The key of one entry. */
  entry(kind: string, id: string): string;
}

/** The longest entry id accepted: ids are record or job ids, never free text. */
export const MAX_ID_LENGTH = 200;

/**
 * The keys of `tenant`'s cache under `prefix`. Tenant ids are `[a-z0-9-]` and prefixes
 * `[A-Za-z0-9:_-]`, neither holds a brace or a glob character, so the hash tag and the SCAN
 * pattern cannot be escaped by a tenant id.
 */
export function tenantKeys(prefix: string, tenant: TenantContext): TenantKeys {
  const base = `${prefix}{${tenant.tenantId}}:`;
  return {
    meta: `${base}meta`,
    index: `${base}index`,
    sizes: `${base}sizes`,
    pattern: `${base}*`,
    entry(kind: string, id: string): string {
      if (id.length === 0 || id.length > MAX_ID_LENGTH) throw new RangeError(`a cache entry id must have 1-${MAX_ID_LENGTH} characters (got ${id.length})`);
      return `${base}e:${kind}:${id}`;
    },
  };
}
