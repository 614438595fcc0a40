import * as api from './index';
import { cacheKind, checkTenantCacheConfig, FINAL_JOB_STATUS, TENANT_CATALOG_ENTRY, TenantCache } from './index';
import type { TenantRecord } from '@fairway/db';
import type { TenantJob } from '@fairway/job-store';
import { tenantKeys } from './internal/keys';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import type { Redis } from 'ioredis';

describe('the tenant cache API', () => {
  it('exports nothing that builds or names a key, nor anything that takes a tenant', () => {
    // The public surface, exactly: a new export must be added here on purpose, after asking
    // whether it lets a caller reach a key without the tenant context.
    expect(Object.keys(api).sort()).toEqual(
      [
        'FINAL_JOB_STATUS',
        'MAX_PRODUCTION_CACHE_TTL_MS',
        'TENANT_CATALOG_ENTRY',
        'TENANT_CATALOG_ENTRY_ID',
        'TenantCache',
        'cacheKind',
        'checkTenantCacheConfig',
        'reviveDate',
        'tenantCacheConfigShape',
        'tenantCacheOptions',
      ].sort(),
    );
    expect(Object.keys(api).filter((name) => /key|tag|scan/i.test(name))).toEqual([]);
    // TenantCache's public methods take (kind, id, ...) and never a tenant or a key.
    const methods = Object.getOwnPropertyNames(TenantCache.prototype).filter((name) => name !== 'constructor' && !name.startsWith('_'));
    expect(methods.filter((name) => /key|tenantId/i.test(name))).toEqual([]);
  });

  it('reads, invalidates and purges only inside a tenant scope', async () => {
    const redis = { status: 'ready' } as unknown as Redis;
    const cache = new TenantCache(redis, { prefix: 'unit:', ttlMs: 1000, maxKeysPerTenant: 10, maxBytesPerTenant: 10_000 });
    const kind = cacheKind<string>('thing');
    await expect(cache.read(kind, 'x', async () => 'v')).rejects.toMatchObject({ code: 'TENANT_REQUIRED' });
    await expect(cache.invalidate(kind, ['x'])).rejects.toMatchObject({ code: 'TENANT_REQUIRED' });
    await expect(cache.purgeTenant()).rejects.toMatchObject({ code: 'TENANT_REQUIRED' });
  });

  it('keeps every key of a tenant under its own hash tag, whatever the id', () => {
    const a = tenantKeys('p:', tenantContext('acme' as TenantId, 'system'));
    const b = tenantKeys('p:', tenantContext('globex' as TenantId, 'system'));
    expect(a.entry('record', 'same-id')).not.toEqual(b.entry('record', 'same-id'));
    // An id cannot escape the tag: the first {...} of the key is the tenant's.
    expect(a.entry('record', '}{globex}')).toMatch(/^p:\{acme\}:/);
    expect(() => a.entry('record', '')).toThrow(RangeError);
    expect(() => a.entry('record', 'x'.repeat(201))).toThrow(RangeError);
  });

  it.each([
    ['an upper-case letter', 'Record'],
    ['a colon', 'a:b'],
    ['a brace', '{x}'],
    ['nothing', ''],
  ])('refuses a kind name with %s', (_what, name) => {
    expect(() => cacheKind(name)).toThrow(RangeError);
  });

  it('refuses a prefix with a brace or glob character, and bounds below 1', () => {
    const redis = {} as Redis;
    const base = { prefix: 'ok:', ttlMs: 1000, maxKeysPerTenant: 10, maxBytesPerTenant: 10_000 };
    expect(() => new TenantCache(redis, { ...base, prefix: 'a{b' })).toThrow(/prefix/);
    expect(() => new TenantCache(redis, { ...base, prefix: 'a*' })).toThrow(/prefix/);
    expect(() => new TenantCache(redis, { ...base, maxKeysPerTenant: 0 })).toThrow(/maxKeysPerTenant/);
  });

  it('refuses a prefix that overlaps another namespace, and a long TTL in production', () => {
    const config = {
      NODE_ENV: 'development',
      REDIS_CACHE_ENABLED: true,
      REDIS_CACHE_PREFIX: 'fairway:',
      REDIS_CACHE_TTL: 60_000,
      REDIS_CACHE_TENANT_MAX_KEYS: 10,
      REDIS_CACHE_TENANT_MAX_BYTES: 4096,
    };
    expect(() => checkTenantCacheConfig(config, { EDGE_REDIS_PREFIX: 'fairway:edge:' })).toThrow(/REDIS_CACHE_PREFIX .* overlaps EDGE_REDIS_PREFIX/);
    expect(() => checkTenantCacheConfig({ ...config, REDIS_CACHE_PREFIX: 'fairway:cache:' }, { EDGE_REDIS_PREFIX: 'fairway:edge:' })).not.toThrow();
    expect(() => checkTenantCacheConfig({ ...config, REDIS_CACHE_PREFIX: 'fairway:edge:idem:' }, { EDGE_REDIS_PREFIX: 'fairway:edge:' })).toThrow(/overlaps/);
    // An empty EDGE_REDIS_PREFIX puts the edge's keys under its own fixed names, never under the cache's.
    expect(() => checkTenantCacheConfig({ ...config, REDIS_CACHE_PREFIX: 'fairway:cache:' }, { EDGE_REDIS_PREFIX: '' })).not.toThrow();
    expect(() => checkTenantCacheConfig({ ...config, REDIS_CACHE_PREFIX: 'c:', NODE_ENV: 'production', REDIS_CACHE_TTL: 3_600_000 })).toThrow(
      /REDIS_CACHE_TTL/,
    );
  });

  it('runs the loader with the tenant the key was built from', async () => {
    const redis = { status: 'end' } as unknown as Redis;
    const cache = new TenantCache(redis, { prefix: 'unit:', ttlMs: 1000, maxKeysPerTenant: 10, maxBytesPerTenant: 10_000 });
    const seen = await runWithTenant(tenantContext('acme' as TenantId, 'jwt'), () => cache.read(cacheKind<string>('thing'), 'x', async (t) => t.tenantId));
    expect(seen).toBe('acme');
  });

  it.each([
    ['queued', false],
    ['running', false],
    ['succeeded', true],
    ['failed', true],
    ['dead', true],
    ['cancelled', true],
  ] as const)('stores a job in state %s: %s (only final states never change)', (state, stored) => {
    const job: TenantJob = {
      id: 'j',
      tenantId: 'acme',
      type: 'report',
      jobClass: 'standard',
      state,
      priority: 0,
      attempts: 1,
      lastError: null,
      result: { count: 1 },
      acceptedAt: new Date('2026-12-06T10:00:00.123Z'),
      queuedAt: new Date('2026-12-06T10:00:00.456Z'),
      startedAt: null,
      finishedAt: new Date('2026-12-06T10:00:01.000Z'),
    };
    expect(FINAL_JOB_STATUS.cacheable(job)).toBe(stored);
    expect(FINAL_JOB_STATUS.decode(FINAL_JOB_STATUS.encode(job))).toEqual(job);
    expect(FINAL_JOB_STATUS.cacheable(undefined)).toBe(false);
  });

  it.each([
    ['active', true],
    ['suspended', true],
    ['provisioning', false],
    ['offboarding', false],
    ['deleted', false],
  ] as const)('stores a catalog entry with status %s: %s', (status, stored) => {
    const tenant: TenantRecord = {
      id: 'acme' as TenantId,
      slug: 'acme',
      displayName: 'Acme',
      status,
      isolationModel: 'pooled',
      plan: 'standard',
      createdAt: new Date('2026-01-01T00:00:00.000Z'),
    };
    expect(TENANT_CATALOG_ENTRY.cacheable(tenant)).toBe(stored);
    expect(TENANT_CATALOG_ENTRY.decode(TENANT_CATALOG_ENTRY.encode(tenant))).toEqual(tenant);
    expect(TENANT_CATALOG_ENTRY.cacheable(undefined)).toBe(false);
  });
});
