import { z } from 'zod';
import { duration, flag } from '@fairway/config';
import { ConfigInvalidError } from '@fairway/errors';
import type { TenantCacheOptions } from './tenant-cache';

/**
 * The tenant cache's settings, for a service's config schema (`commonConfigSchema.extend(
 * tenantCacheConfigShape)`): every process that reads or writes cached data must use the same
 * prefix, or one's invalidations miss the other's entries.
 */
export const tenantCacheConfigShape = {
  /** `false` turns the cache off: every read goes to the database. */
  REDIS_CACHE_ENABLED: flag().default(true),
  REDIS_CACHE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, 'letters, digits, colon, dash and underscore')
    .default('fairway:cache:'),
  /** An entry's lifetime: how long a value can outlive a write whose invalidation was lost. */
  REDIS_CACHE_TTL: duration().default('60s'),
  /** Entries per tenant; filling past it evicts the tenant's own oldest. */
  REDIS_CACHE_TENANT_MAX_KEYS: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  /** Bytes (keys and values) per tenant; filling past it evicts the tenant's own oldest. */
  REDIS_CACHE_TENANT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
};

/** The compiled settings. */
export type TenantCacheConfig = z.output<z.ZodObject<typeof tenantCacheConfigShape>>;

/** Longest REDIS_CACHE_TTL production accepts: docs/data-isolation.md promises staleness bounded by it. */
export const MAX_PRODUCTION_CACHE_TTL_MS = 10 * 60_000;

/**
 * Refuses settings that would break the cache's promises: a prefix that overlaps another Redis
 * namespace of ours (a purge SCANs `<prefix>{tenant}:*` and would delete the edge's limiter or
 * idempotency keys), and, in production, a TTL long enough to make a lost invalidation matter.
 */
export function checkTenantCacheConfig(config: TenantCacheConfig & { NODE_ENV: string }, otherPrefixes: Record<string, string> = {}): void {
  for (const [name, other] of Object.entries(otherPrefixes)) {
    // An empty prefix puts the other's keys under fixed names of its own (`idem:`, ...), not under ours.
    if (other === '') continue;
    if (other.startsWith(config.REDIS_CACHE_PREFIX) || config.REDIS_CACHE_PREFIX.startsWith(other))
      throw new ConfigInvalidError(`REDIS_CACHE_PREFIX '${config.REDIS_CACHE_PREFIX}' overlaps ${name} '${other}': give the cache a namespace of its own`);
  }
  if (config.NODE_ENV === 'production' && config.REDIS_CACHE_TTL > MAX_PRODUCTION_CACHE_TTL_MS)
    throw new ConfigInvalidError(
      `REDIS_CACHE_TTL must be at most 10m in production (got ${config.REDIS_CACHE_TTL} ms): it bounds how stale a value can be after a lost invalidation`,
    );
}

/** TenantCacheOptions from the compiled settings. */
export function tenantCacheOptions(config: TenantCacheConfig): Pick<TenantCacheOptions, 'prefix' | 'ttlMs' | 'maxKeysPerTenant' | 'maxBytesPerTenant'> {
  return {
    prefix: config.REDIS_CACHE_PREFIX,
    ttlMs: config.REDIS_CACHE_TTL,
    maxKeysPerTenant: config.REDIS_CACHE_TENANT_MAX_KEYS,
    maxBytesPerTenant: config.REDIS_CACHE_TENANT_MAX_BYTES,
  };
}
