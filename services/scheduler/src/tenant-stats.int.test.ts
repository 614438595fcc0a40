import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createTestTenant, dropTestTenants, eventually, testPools } from '@fairway/db/testing';
import { bindServer, loadSchedulerAdminProto, type ListTenantStatsResponse__Output, type SchedulerAdminClient } from '@fairway/grpc';
import type { TenantId } from '@fairway/tenant-context';
import { addSchedulerAdmin, schedulerAdminHandlers } from './admin';
import type { FairDispatcher } from './fair-dispatcher';
import { JobStore } from './job-store';

/**
 * ListTenantStats' top-N (#18) against the real catalog database over real gRPC: the tenants
 * first by a key and the fleet's totals in one answer, and the keyset pages filled from the same
 * reading. The jobs sit in a partition no dispatcher owns, so they stay queued while other test
 * files' schedulers run on the same database.
 */
describe('SchedulerAdmin ListTenantStats top-N (real PostgreSQL, real gRPC)', () => {
  const pools = testPools();
  const store = new JobStore(pools.scheduler, 'top-test');
  const server = new grpc.Server();
  let client: SchedulerAdminClient;
  const tenants: TenantId[] = [];

  const call = (request: { pageSize?: number; afterTenantId?: string; sort?: string }) =>
    new Promise<{ err: grpc.ServiceError | null; res: ListTenantStatsResponse__Output | undefined }>((resolve) =>
      client.listTenantStats(request, (err, res) => resolve({ err, res })),
    );

  beforeAll(async () => {
    const dispatcher = { tierUsage: () => [] } as unknown as FairDispatcher;
    const SchedulerAdmin = loadSchedulerAdminProto().fairway.scheduler.v1.SchedulerAdmin;
    addSchedulerAdmin(server, SchedulerAdmin.service, schedulerAdminHandlers(store, dispatcher, 'top-test'));
    client = new SchedulerAdmin(`127.0.0.1:${await bindServer(server, '127.0.0.1:0')}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    server.forceShutdown();
    await dropTestTenants(pools.owner, tenants);
    await pools.end();
  });

  it('answers the page_size first tenants by queue depth with the totals of the whole fleet, and the keyset pages show the same lines', async () => {
    const [big, small, idle] = [
      await createTestTenant(pools.owner, 'topb'),
      await createTestTenant(pools.owner, 'tops'),
      await createTestTenant(pools.owner, 'topi'),
    ];
    tenants.push(big, small, idle);
    const job = (tenantId: TenantId) => ({
      id: randomUUID(),
      tenantId,
      type: 'synthetic',
      jobClass: 'standard',
      params: { ms: 1 },
      priority: 0,
      traceHeaders: {},
      acceptedAt: new Date().toISOString(),
      partition: 9_999,
    });
    await store.insertJobs([...Array.from({ length: 900 }, () => job(big)), ...Array.from({ length: 700 }, () => job(small))]);

    // The scheduler reads the fleet at most once a second: wait for a reading taken after the insert.
    const top = await eventually('a top-N that counts the new jobs', () => call({ sort: 'queued', pageSize: 1000 }), {
      until: (r) => r.res?.tenants.some((t) => t.tenantId === small && t.queued === 700) === true,
    });
    expect(top.err).toBeNull();
    const rows = top.res?.tenants ?? [];
    const at = (id: string) => rows.findIndex((t) => t.tenantId === id);
    expect(at(big)).toBeGreaterThanOrEqual(0);
    expect(at(big)).toBeLessThan(at(small));
    expect(rows[at(big)]).toMatchObject({ queued: 900, inFlight: 0, weight: 1 });
    for (let i = 1; i < rows.length; i++) expect((rows[i - 1]?.queued ?? 0) >= (rows[i]?.queued ?? 0)).toBe(true);
    expect(top.res?.nextAfterTenantId).toBe('');
    expect(top.res?.totals?.tenants).toBeGreaterThanOrEqual(3);
    expect(top.res?.totals?.queued).toBeGreaterThanOrEqual(1_600);
    expect(Number.isNaN(Date.parse(top.res?.statsAt ?? ''))).toBe(false);

    // The keyset listing fills each tenant from the same reading; an idle tenant is listed with zeros.
    // A page starting just before the tenant: after its id less the last character (a valid tenant id
    // that sorts right before it; decrementing the last character gave '/' or '`' for ids ending in
    // '0' or 'a'). Other tests' tenants may sort in between, so the tenant is looked for in the page.
    const pageFrom = async (id: string) => (await call({ pageSize: 1000, afterTenantId: id.slice(0, -1) })).res;
    const page = await pageFrom(big);
    expect(page?.tenants.find((t) => t.tenantId === big)).toMatchObject({ tenantId: big, queued: 900 });
    expect(page?.totals).toEqual(top.res?.totals);
    const idlePage = await pageFrom(idle);
    expect(idlePage?.tenants.find((t) => t.tenantId === idle)).toMatchObject({ tenantId: idle, queued: 0, inFlight: 0, share: 0, entitlement: 0 });

    // By tenant, a top-N is the first keyset page.
    const byTenant = await call({ sort: 'tenant', pageSize: 3 });
    const firstPage = await call({ pageSize: 3 });
    expect(byTenant.res?.tenants.map((t) => t.tenantId)).toEqual(firstPage.res?.tenants.map((t) => t.tenantId));
  });

  it.each([
    ['an unknown key', { sort: 'colour', pageSize: 5 }, /sort must be one of queued, in-flight, wait-p99, share, tenant/],
    ['a sort without page_size', { sort: 'queued' }, /sort needs page_size/],
    ['a sort with after_tenant_id', { sort: 'share', pageSize: 5, afterTenantId: 'acme' }, /leave after_tenant_id empty/],
  ])('refuses %s with INVALID_ARGUMENT', async (_name, request, message) => {
    const { err } = await call(request);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(message);
  });
});
