import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { deferred, eventually, uniqueTenantId } from '@fairway/db/testing';
import { NotFoundError } from '@fairway/errors';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import { cacheKind, TenantCache, type TenantCacheOptions } from './index';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const as = <T>(tenant: TenantId, fn: () => T): T => runWithTenant(tenantContext(tenant, 'system'), fn);
const RECORD = cacheKind<{ owner: string; title: string }>('record');

describe('TenantCache on a real Redis', () => {
  const prefix = `fairway-test:cache:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 });
  const caches: TenantCache[] = [];
  const cacheWith = (options: Partial<TenantCacheOptions> = {}, client: Redis = redis) => {
    const cache = new TenantCache(client, { prefix, ttlMs: 30_000, maxKeysPerTenant: 100, maxBytesPerTenant: 64 * 1024, ...options });
    caches.push(cache);
    return cache;
  };
  /** Every key of `tenant` under this test's prefix, found by SCAN (as an operator would look). */
  async function keysOf(tenant: TenantId): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}{${tenant}}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }

  beforeAll(async () => {
    await eventually('the test Redis connection', () => redis.status, { until: (status) => status === 'ready' });
  });

  afterAll(async () => {
    for (const cache of caches) cache.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('never shows tenant B the value tenant A cached under the same id', async () => {
    const cache = cacheWith();
    const a = uniqueTenantId('ca');
    const b = uniqueTenantId('cb');
    const loads: string[] = [];
    const load = async (t: { tenantId: string }) => (loads.push(t.tenantId), { owner: t.tenantId, title: `${t.tenantId}'s` });
    expect(await as(a, () => cache.read(RECORD, 'same-id', load))).toEqual({ owner: a, title: `${a}'s` });
    expect(await as(b, () => cache.read(RECORD, 'same-id', load))).toEqual({ owner: b, title: `${b}'s` });
    // Both now hits, each its own.
    expect(await as(a, () => cache.read(RECORD, 'same-id', load))).toEqual({ owner: a, title: `${a}'s` });
    expect(await as(b, () => cache.read(RECORD, 'same-id', load))).toEqual({ owner: b, title: `${b}'s` });
    expect(loads).toEqual([a, b]);
    expect(await keysOf(a)).toContain(`${prefix}{${a}}:e:record:same-id`);
  });

  it('reads the new value after a write is invalidated, from this process and from another', async () => {
    const writer = cacheWith();
    const reader = cacheWith(); // another replica: its own TenantCache, the same Redis
    const tenant = uniqueTenantId('cw');
    let stored = { owner: tenant, title: 'v1' };
    const load = async () => stored;
    await as(tenant, () => reader.read(RECORD, 'r1', load));
    stored = { owner: tenant, title: 'v2' };
    expect((await as(tenant, () => reader.read(RECORD, 'r1', load))).title).toBe('v1'); // cached, as expected before the write's invalidation
    await as(tenant, () => writer.invalidate(RECORD, ['r1']));
    expect((await as(tenant, () => reader.read(RECORD, 'r1', load))).title).toBe('v2');
    expect((await as(tenant, () => writer.read(RECORD, 'r1', load))).title).toBe('v2');
  });

  it('refuses to store a value read before a write that was invalidated while the read was in flight', async () => {
    const cache = cacheWith();
    const tenant = uniqueTenantId('cr');
    const slowRead = deferred<{ owner: string; title: string }>();
    const started = deferred<void>();
    const racing = as(tenant, () =>
      cache.read(RECORD, 'r1', () => {
        started.resolve();
        return slowRead.promise;
      }),
    );
    await started.promise;
    // The write commits and invalidates while the reader still holds the old value...
    await as(tenant, () => cache.invalidate(RECORD, ['r1']));
    slowRead.resolve({ owner: tenant, title: 'old' });
    expect((await racing).title).toBe('old'); // ...which that one reader may return (it began before the write),
    // but nobody else ever sees it: the fill was refused.
    expect(await redis.exists(`${prefix}{${tenant}}:e:record:r1`)).toBe(0);
    expect((await as(tenant, () => cache.read(RECORD, 'r1', async () => ({ owner: tenant, title: 'new' })))).title).toBe('new');
  });

  it('purges every key of a deleted tenant (SCAN finds none) and leaves the other tenant alone', async () => {
    const cache = cacheWith();
    const gone = uniqueTenantId('cd');
    const kept = uniqueTenantId('ck');
    for (const tenant of [gone, kept]) {
      for (let i = 0; i < 5; i += 1) await as(tenant, () => cache.read(RECORD, `r${i}`, async () => ({ owner: tenant, title: `t${i}` })));
    }
    expect((await keysOf(gone)).length).toBeGreaterThanOrEqual(5);
    // A key of the tenant's pattern that no index knows (another version's, say) goes too.
    await redis.set(`${prefix}{${gone}}:e:legacy:x`, 'v', 'PX', 60_000);
    expect(await as(gone, () => cache.purgeTenant())).toBeGreaterThanOrEqual(6);
    expect(await keysOf(gone)).toEqual([]);
    expect((await keysOf(kept)).length).toBeGreaterThanOrEqual(5);
    // A request that still arrives for the deleted tenant fails its load and leaves nothing either.
    await expect(
      as(gone, () =>
        cache.read(RECORD, 'r1', async () => {
          throw new NotFoundError('tenant', gone);
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await keysOf(gone)).toEqual([]);
  });

  it('refuses a fill that was in flight when the tenant was purged', async () => {
    const cache = cacheWith();
    const tenant = uniqueTenantId('cp');
    const slowRead = deferred<{ owner: string; title: string }>();
    const started = deferred<void>();
    const racing = as(tenant, () =>
      cache.read(RECORD, 'r1', () => {
        started.resolve();
        return slowRead.promise;
      }),
    );
    await started.promise;
    await as(tenant, () => cache.purgeTenant());
    slowRead.resolve({ owner: tenant, title: 'read before the deletion' });
    await racing;
    expect(await keysOf(tenant)).toEqual([]);
  });

  it("keeps each tenant within its key and byte budget by evicting only that tenant's entries", async () => {
    const registry = new Registry();
    const cache = cacheWith({ maxKeysPerTenant: 5, maxBytesPerTenant: 4096, registry });
    const noisy = uniqueTenantId('cn');
    const quiet = uniqueTenantId('cq');
    await as(quiet, () => cache.read(RECORD, 'q', async () => ({ owner: quiet, title: 'small' })));
    for (let i = 0; i < 20; i += 1) await as(noisy, () => cache.read(RECORD, `r${i}`, async () => ({ owner: noisy, title: 'x'.repeat(100) })));
    expect((await as(noisy, () => cache.usage())).keys).toBe(5);
    // The newest entries stay; the oldest went.
    expect(await redis.exists(`${prefix}{${noisy}}:e:record:r19`)).toBe(1);
    expect(await redis.exists(`${prefix}{${noisy}}:e:record:r0`)).toBe(0);
    // Bytes: 1 KiB values under a 4 KiB budget hold at most 3 entries (keys count too).
    for (let i = 0; i < 6; i += 1) await as(noisy, () => cache.read(RECORD, `big${i}`, async () => ({ owner: noisy, title: 'y'.repeat(1024) })));
    const usage = await as(noisy, () => cache.usage());
    expect(usage.bytes).toBeLessThanOrEqual(4096);
    expect(usage.keys).toBeLessThanOrEqual(3);
    // A value larger than the whole budget is returned but never stored.
    const huge = { owner: noisy, title: 'z'.repeat(5000) };
    expect(await as(noisy, () => cache.read(RECORD, 'huge', async () => huge))).toEqual(huge);
    expect(await redis.exists(`${prefix}{${noisy}}:e:record:huge`)).toBe(0);
    // The quiet tenant's entry was never touched by the noisy one's evictions.
    expect(await redis.exists(`${prefix}{${quiet}}:e:record:q`)).toBe(1);
    const evictions = await registry.getSingleMetric('fairway_tenant_cache_evictions_total')!.get();
    expect(evictions.values.find((v) => v.labels['tenant'] === noisy)?.value).toBeGreaterThanOrEqual(15);
    expect(evictions.values.find((v) => v.labels['tenant'] === quiet)).toBeUndefined();
  });

  it('evicts in fill order even when fills share a millisecond (names sorting the other way)', async () => {
    const cache = cacheWith({ maxKeysPerTenant: 2 });
    const tenant = uniqueTenantId('co');
    // Ids filled in descending name order, back to back: several land in one millisecond, where a
    // sorted set's tie-break (the name) would evict the newer entry.
    const ids = Array.from({ length: 12 }, (_, i) => `k${String(11 - i).padStart(2, '0')}`);
    for (const id of ids) await as(tenant, () => cache.read(RECORD, id, async () => ({ owner: tenant, title: id })));
    const kept = (await keysOf(tenant))
      .filter((key) => key.includes(':e:record:'))
      .map((key) => key.split(':e:record:')[1])
      .sort();
    expect(kept).toEqual(['k00', 'k01']);
  });

  it('counts hits and misses per kind with bounded labels', async () => {
    const registry = new Registry();
    const cache = cacheWith({ registry });
    const tenant = uniqueTenantId('cm');
    for (let i = 0; i < 3; i += 1) await as(tenant, () => cache.read(RECORD, 'r1', async () => ({ owner: tenant, title: 't' })));
    // A second cache on the same registry shares the counters (no duplicate registration).
    await as(tenant, () => cacheWith({ registry }).read(RECORD, 'r1', async () => ({ owner: tenant, title: 't' })));
    const reads = await registry.getSingleMetric('fairway_tenant_cache_reads_total')!.get();
    const of = (outcome: string) => reads.values.find((v) => v.labels['outcome'] === outcome && v.labels['tenant'] === tenant)?.value;
    expect([of('miss'), of('hit')]).toEqual([1, 3]);
    expect(new Set(reads.values.map((v) => v.labels['kind']))).toEqual(new Set(['record']));
  });

  it('answers from the database when Redis is down, and a purge says it failed', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const cache = cacheWith({}, down);
    const tenant = uniqueTenantId('cx');
    let loads = 0;
    for (let i = 0; i < 3; i += 1) {
      expect(await as(tenant, () => cache.read(RECORD, 'r1', async () => (loads++, { owner: tenant, title: 'db' })))).toEqual({ owner: tenant, title: 'db' });
    }
    expect(loads).toBe(3);
    await expect(as(tenant, () => cache.invalidate(RECORD, ['r1']))).resolves.toBeUndefined();
    await expect(as(tenant, () => cache.purgeTenant())).rejects.toThrow();
    down.disconnect();
  });

  it('after an invalidation Redis did not take, reads the tenant from the database until the retry went through', async () => {
    const flaky = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    await flaky.connect();
    const cache = cacheWith({ retryAfterMs: 50 }, flaky);
    const tenant = uniqueTenantId('cf');
    let stored = 'v1';
    const load = async () => ({ owner: tenant, title: stored });
    await as(tenant, () => cache.read(RECORD, 'r1', load));
    flaky.disconnect();
    stored = 'v2';
    await as(tenant, () => cache.invalidate(RECORD, ['r1'])); // the write committed; Redis is unreachable
    expect(cache.pendingTenants).toBe(1);
    // The stale v1 is still in Redis, but this process does not read it.
    expect(await redis.get(`${prefix}{${tenant}}:e:record:r1`)).toContain('v1');
    expect((await as(tenant, () => cache.read(RECORD, 'r1', load))).title).toBe('v2');
    await eventually('the flaky connection to close', () => flaky.status, { until: (status) => status === 'end' });
    await flaky.connect();
    await eventually('the pending invalidation to go through', () => cache.pendingTenants, { until: (n) => n === 0, intervalMs: 20 });
    expect(await redis.exists(`${prefix}{${tenant}}:e:record:r1`)).toBe(0);
    flaky.disconnect();
  });
});
