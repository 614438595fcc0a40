import * as grpc from '@grpc/grpc-js';
import { upsertTenant } from '@fairway/db';
import { createTestTenant, dropTestTenants, testPools, uniqueTenantId } from '@fairway/db/testing';
import {
  bindServer,
  loadSchedulerAdminProto,
  type ListTenantStatsResponse__Output,
  type SchedulerAdminClient,
  type TenantQuotaMessage__Output,
} from '@fairway/grpc';
import { parseQuotaPatch, QUOTA_DEFAULTS, type TenantQuota } from '@fairway/quota';
import type { TenantId } from '@fairway/tenant-context';
import { addSchedulerAdmin, schedulerAdminHandlers } from './admin';
import type { FairDispatcher } from './fair-dispatcher';
import { JobStore } from './job-store';
import { QuotaStore } from './quota-store';

/**
 * The scheduler's quota store and SchedulerAdmin's quota calls against the real catalog database:
 * the change is applied from @fairway/quota's patch, recorded in tenant_quota_history, and a bad
 * value never reaches the table.
 */
describe('QuotaStore and SchedulerAdmin quotas (real PostgreSQL, real gRPC)', () => {
  let pools: ReturnType<typeof testPools>;
  let quotas: QuotaStore;
  let server: grpc.Server;
  let client: SchedulerAdminClient;
  const applied: TenantQuota[] = [];
  const tenants: TenantId[] = [];

  beforeAll(async () => {
    pools = testPools();
    quotas = new QuotaStore(pools.scheduler);
    // The dispatcher's part here is only to be told; its own tests drive the core.
    const dispatcher = { applyQuota: (quota: TenantQuota) => void applied.push(quota), tierUsage: () => [] } as unknown as FairDispatcher;
    server = new grpc.Server();
    const SchedulerAdmin = loadSchedulerAdminProto().fairway.scheduler.v1.SchedulerAdmin;
    addSchedulerAdmin(server, SchedulerAdmin.service, schedulerAdminHandlers(new JobStore(pools.scheduler, 'quota-test'), dispatcher, 'quota-test'));
    const port = await bindServer(server, '127.0.0.1:0');
    client = new SchedulerAdmin(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    server.forceShutdown();
    await dropTestTenants(pools.owner, tenants);
    await pools.end();
  });

  async function tenant(): Promise<TenantId> {
    const id = await createTestTenant(pools.owner, 'quota');
    tenants.push(id);
    return id;
  }

  const history = async (id: string) =>
    (
      await pools.owner.query<{ changed_by: string; before: unknown; after: unknown }>(
        'SELECT changed_by, before, after FROM tenant_quota_history WHERE tenant_id = $1 ORDER BY id',
        [id],
      )
    ).rows;

  it('starts a new quota from the defaults, changes only the fields given, clears any field back to its default, and records each change', async () => {
    const id = await tenant();
    const first = await quotas.setQuota(id, parseQuotaPatch({ maxInFlight: 4, rate: 5 }), 'alice');
    expect(first).toMatchObject({ tenantId: id, weight: QUOTA_DEFAULTS.weight, rate: 5, burst: null, maxInFlight: 4, updatedBy: 'alice' });
    const second = await quotas.setQuota(id, parseQuotaPatch({ weight: 3, clear: ['rate'] }), 'bob');
    expect(second).toMatchObject({ weight: 3, rate: null, maxInFlight: 4, updatedBy: 'bob' });
    const third = await quotas.setQuota(id, parseQuotaPatch({ clear: ['weight', 'maxInFlight'] }), 'bob');
    expect(third).toMatchObject({ weight: QUOTA_DEFAULTS.weight, maxInFlight: null });
    expect(await quotas.loadQuotas(id)).toEqual([third]);
    expect(await history(id)).toEqual([
      { changed_by: 'alice', before: null, after: { ...QUOTA_DEFAULTS, rate: 5, maxInFlight: 4 } },
      { changed_by: 'bob', before: { ...QUOTA_DEFAULTS, rate: 5, maxInFlight: 4 }, after: { ...QUOTA_DEFAULTS, weight: 3, maxInFlight: 4 } },
      { changed_by: 'bob', before: { ...QUOTA_DEFAULTS, weight: 3, maxInFlight: 4 }, after: QUOTA_DEFAULTS },
    ]);
  });

  it('stores a cost-based rate and per-class caps, replaces the caps whole, and clears them', async () => {
    const id = await tenant();
    const costed = await quotas.setQuota(id, parseQuotaPatch({ rate: 2_000, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } }), 'alice');
    expect(costed).toMatchObject({ rate: 2_000, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } });
    const replaced = await quotas.setQuota(id, parseQuotaPatch({ maxInFlightByClass: { heavy: 1 } }), 'alice');
    expect(replaced).toMatchObject({ rateBasis: 'cost', maxInFlightByClass: { heavy: 1 } });
    const cleared = await quotas.setQuota(id, parseQuotaPatch({ clear: ['maxInFlightByClass', 'rateBasis'] }), 'alice');
    expect(cleared).toMatchObject({ rateBasis: QUOTA_DEFAULTS.rateBasis, maxInFlightByClass: null, rate: 2_000 });
    expect(await quotas.loadQuotas(id)).toEqual([cleared]);
    expect((await history(id)).map((h) => h.after)).toEqual([
      expect.objectContaining({ rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } }),
      expect.objectContaining({ maxInFlightByClass: { heavy: 1 } }),
      expect.objectContaining({ rateBasis: 'jobs', maxInFlightByClass: null }),
    ]);
  });

  const call = <Res>(start: (cb: grpc.requestCallback<Res>) => void) =>
    new Promise<{ err: grpc.ServiceError | null; res: Res | undefined }>((resolve) => start((err, res) => resolve({ err, res })));

  it('answers SetTenantQuota with the stored quota and applies it to the dispatcher, and GetTenantQuota with the defaults for a tenant without one', async () => {
    const id = await tenant();
    const fresh = await call<TenantQuotaMessage__Output>((cb) => client.getTenantQuota({ tenantId: id }, cb));
    expect(fresh.res).toMatchObject({ tenantId: id, weight: QUOTA_DEFAULTS.weight, updatedBy: '' });
    expect(fresh.res?._maxInFlight).toBeUndefined();
    const set = await call<TenantQuotaMessage__Output>((cb) =>
      client.setTenantQuota({ tenantId: id, maxInFlight: 2, rateBasis: 'cost', maxInFlightByClass: { heavy: 1 }, clear: [], actor: 'carol' }, cb),
    );
    expect(set.err).toBeNull();
    expect(set.res).toMatchObject({
      tenantId: id,
      maxInFlight: 2,
      _maxInFlight: 'maxInFlight',
      rateBasis: 'cost',
      maxInFlightByClass: { heavy: 1 },
      updatedBy: 'carol',
    });
    expect(applied.at(-1)).toMatchObject({ tenantId: id, maxInFlight: 2, rateBasis: 'cost', maxInFlightByClass: { heavy: 1 } });
  });

  it('answers ListTenantStats a keyset page at a time (page_size, after_tenant_id, next_after_tenant_id), with shares of the whole fleet', async () => {
    const base = uniqueTenantId('qpage');
    const [one, two, three] = [1, 2, 3].map((n) => `${base}-${n}` as TenantId) as [TenantId, TenantId, TenantId];
    for (const id of [one, two, three]) await upsertTenant(pools.owner, { id });
    tenants.push(one, two, three);
    const first = await call<ListTenantStatsResponse__Output>((cb) => client.listTenantStats({ pageSize: 2, afterTenantId: `${base}-0` }, cb));
    expect(first.err).toBeNull();
    expect(first.res?.tenants.map((t) => t.tenantId)).toEqual([one, two]);
    expect(first.res?.nextAfterTenantId).toBe(two);
    const next = await call<ListTenantStatsResponse__Output>((cb) => client.listTenantStats({ pageSize: 2, afterTenantId: two }, cb));
    expect(next.res?.tenants[0]?.tenantId).toBe(three);
    const everyone = await call<ListTenantStatsResponse__Output>((cb) => client.listTenantStats({}, cb));
    expect(everyone.res?.nextAfterTenantId).toBe('');
    expect(everyone.res?.tenants.map((t) => t.tenantId)).toEqual(expect.arrayContaining([one, two, three]));
    const bad = await call<ListTenantStatsResponse__Output>((cb) => client.listTenantStats({ pageSize: 2, afterTenantId: 'Not Valid!' }, cb));
    expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('refuses a bad SetTenantQuota with INVALID_ARGUMENT naming every bad field, and stores nothing', async () => {
    const id = await tenant();
    const bad = await call((cb) =>
      client.setTenantQuota(
        { tenantId: id, weight: 0, maxInFlight: 0, rateBasis: 'tokens', maxInFlightByClass: { heavy: 0 }, clear: ['colour'], actor: 'mallory' },
        cb,
      ),
    );
    expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.err?.details).toMatch(/rateBasis/);
    expect(bad.err?.details).toMatch(/maxInFlightByClass\.heavy/);
    expect(bad.err?.details).toMatch(/weight/);
    expect(bad.err?.details).toMatch(/maxInFlight/);
    expect(bad.err?.details).toMatch(/clear/);
    expect(await quotas.loadQuotas(id)).toEqual([]);
    expect(await history(id)).toEqual([]);
  });
});
