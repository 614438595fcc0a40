import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TenantDataRouter, type IsolationModel } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, eventually, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { NotFoundError } from '@fairway/errors';
import { RecordsRepository } from '@fairway/records';
import { createLogger } from '@fairway/telemetry';
import { TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, TenantCache } from '@fairway/tenant-cache';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import { findTenant } from '@fairway/db';
import { TenantCatalog } from './tenant-catalog';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * The tenant cache through the real writers and readers: records read through the repository
 * (pooled and schema tenants), their writes invalidating, the control plane's status change
 * invalidating the catalog entry, and its deletion purging every key of the tenant.
 */
describe('the tenant cache with the records repository and the tenant catalog (real PostgreSQL and Redis)', () => {
  const prefix = `fairway-test:cache:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
  let pools: ReturnType<typeof testPools>;
  let data: TenantDataRouter;
  let cache: TenantCache;
  let repository: RecordsRepository;
  let catalog: TenantCatalog;
  const created: TenantId[] = [];

  async function keysOf(tenant: string): Promise<string[]> {
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
    pools = testPools();
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app, maxConnections: 4, perDatabaseMax: 2 });
    cache = new TenantCache(redis, { prefix, ttlMs: 60_000, maxKeysPerTenant: 100, maxBytesPerTenant: 256 * 1024 });
    repository = new RecordsRepository(data, undefined, cache);
    catalog = new TenantCatalog({ ownerPool: pools.owner, ownerUrl: testDatabaseUrls().owner }, createLogger('tenant-cache-int', 'silent'), cache);
  });

  afterAll(async () => {
    cache.close();
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await pools.end();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it.each<IsolationModel>(['pooled', 'schema'])('%s: a record read is cached for its tenant only, and an update or delete is seen at once', async (model) => {
    const a = await createIsolatedTestTenant(pools.owner, model, 'tca');
    const b = await createIsolatedTestTenant(pools.owner, model, 'tcb');
    created.push(a, b);
    const made = await repository.create(a, { title: 'first', body: 'secret of a', amount: '1.00', tags: [] });
    expect(await repository.get(a, made.id)).toEqual(made);
    const key = `${prefix}{${a}}:e:record:${made.id}`;
    expect(await redis.exists(key)).toBe(1);
    // B asks for A's id: a key of B's own, a miss, and B's database has no such row.
    await expect(repository.get(b, made.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await keysOf(b)).not.toContain(`${prefix}{${b}}:e:record:${made.id}`);
    // A's cached value is served to A (the database row is changed behind the cache's back to prove it).
    await data.withTenant(a, (tx) => tx.query(`UPDATE records SET title = 'changed behind the cache' WHERE id = $1`, [made.id]));
    expect((await repository.get(a, made.id)).title).toBe('first');
    // A write through the repository invalidates: the next read is the database's.
    await repository.update(a, made.id, { title: 'second' });
    expect((await repository.get(a, made.id)).title).toBe('second');
    await repository.delete(a, made.id);
    await expect(repository.get(a, made.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await redis.exists(key)).toBe(0);
  });

  it("invalidates a tenant's catalog entry when the control plane changes its status", async () => {
    const tenant = await createIsolatedTestTenant(pools.owner, 'pooled', 'tcs');
    created.push(tenant);
    const read = () =>
      runWithTenant(tenantContext(tenant, 'system'), () =>
        cache.read(TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, (scoped) => findTenant(pools.owner, scoped.tenantId)),
      );
    expect((await read())?.status).toBe('active');
    expect(await redis.exists(`${prefix}{${tenant}}:e:tenant:entry`)).toBe(1);
    await catalog.setStatus(tenant, 'suspended', { actor: 'test' });
    expect((await read())?.status).toBe('suspended');
  });

  it('leaves no key of a deleted tenant behind (SCAN after DeleteTenant)', async () => {
    const tenant = await createIsolatedTestTenant(pools.owner, 'schema', 'tcd');
    created.push(tenant);
    const records = [];
    for (let i = 0; i < 3; i += 1) records.push(await repository.create(tenant, { title: `r${i}`, body: 'b', amount: '1.00', tags: [] }));
    for (const record of records) await repository.get(tenant, record.id);
    await runWithTenant(tenantContext(tenant, 'system'), () =>
      cache.read(TENANT_CATALOG_ENTRY, TENANT_CATALOG_ENTRY_ID, (scoped) => findTenant(pools.owner, scoped.tenantId)),
    );
    expect((await keysOf(tenant)).length).toBeGreaterThanOrEqual(4);
    await catalog.delete(tenant, { actor: 'test', reason: 'tenant cache purge test' });
    expect(await keysOf(tenant)).toEqual([]);
    // A late read of the deleted tenant (its data is gone) leaves nothing either.
    await expect(repository.get(tenant, records[0]!.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await keysOf(tenant)).toEqual([]);
  });
});
