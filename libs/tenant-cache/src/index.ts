/**
 * A Redis cache of tenants' hot reads (catalog entries, record lookups, final job status) whose
 * keys are built only from the tenant context: no export takes a tenant or names a key. Values are
 * invalidated after writes (a generation token refuses fills that raced a write), purged per tenant
 * on offboarding and crypto-shredding, bounded per tenant in keys and bytes, and counted per kind
 * and outcome. With Redis down every read goes to the database. docs/data-isolation.md, "The
 * tenant cache".
 */
export { TenantCache, type TenantCacheOptions, type TenantCacheUsage, type CacheReadOutcome } from './tenant-cache';
export { cacheKind, reviveDate, type CacheKind, type CacheKindOptions } from './cache-kind';
export { TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, FINAL_JOB_STATUS } from './hot-reads';
export { tenantCacheConfigShape, checkTenantCacheConfig, tenantCacheOptions, MAX_PRODUCTION_CACHE_TTL_MS, type TenantCacheConfig } from './config';
