import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { TenantCache, tenantCacheOptions, type TenantCacheConfig } from '@fairway/tenant-cache';
import type { Logger } from '@fairway/telemetry';

/** The control plane's handle on the tenant cache, and how to let it go. */
export interface ControlPlaneTenantCache {
  cache: TenantCache;
  close(): void;
}

/**
 * The tenant cache the edge fills, for the catalog's invalidations and purges; none when
 * REDIS_CACHE_ENABLED is false. Redis not answering at start-up is not fatal: a status change's
 * invalidation is retried, and a deletion fails (retriable) until its purge goes through.
 */
export async function connectTenantCache(
  config: TenantCacheConfig & { REDIS_URL: string },
  registry: Registry,
  log: Logger,
): Promise<ControlPlaneTenantCache | undefined> {
  if (!config.REDIS_CACHE_ENABLED) return undefined;
  const redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, commandTimeout: 2_000, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error (tenant cache)'));
  await redis.connect().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'redis not reachable at start; tenant cache purges will be retried'));
  const cache = new TenantCache(redis, {
    ...tenantCacheOptions(config),
    registry,
    onError: (err, operation) => log.warn({ err: err.message, operation }, 'tenant cache: redis failed'),
  });
  return {
    cache,
    close: () => {
      cache.close();
      redis.disconnect();
    },
  };
}
