import { eventually } from '@fairway/db/testing';
import { IsolatedStack } from './support/isolated-stack';
import { call, schedulerAdmin } from './support/scheduler-admin';

/**
 * A quota change through SchedulerAdmin on a running system: made on one replica, it must hold on
 * whichever replica owns the tenant (the other hears it through LISTEN/NOTIFY), from the next
 * decision, with no restart, and be recorded.
 */
describe('live quotas through SchedulerAdmin', () => {
  const stack = new IsolatedStack({ MAINTENANCE_INTERVAL: '500ms', SCHEDULER_TIERS: 'standard:6' });

  beforeAll(async () => {
    await stack.start();
    await stack.startWorker('worker-1');
    await stack.startScheduler('scheduler-a', ['worker-1']);
    await stack.startScheduler('scheduler-b', ['worker-1']);
  });

  afterAll(() => stack.destroy());

  async function running(tenant: string): Promise<number> {
    const { rows } = await stack.scheduler.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE tenant_id = $1 AND state = 'running'", [tenant]);
    return Number(rows[0]?.n ?? 0);
  }

  /** Polls until `predicate(running)` holds; returns how long it took (reported, never asserted). */
  async function until(tenant: string, predicate: (n: number) => boolean, timeoutMs = 15_000): Promise<number> {
    const started = Date.now();
    await eventually(`the running count of ${tenant} to satisfy ${predicate.toString()}`, () => running(tenant), {
      until: predicate,
      timeoutMs,
      intervalMs: 50,
    });
    return Date.now() - started;
  }

  it('caps a flooding tenant from the next decision and lifts the cap the same way', async () => {
    const [tenant] = await stack.createTenants(1, 'quota');
    if (!tenant) throw new Error('no tenant');
    const ids = [];
    for (let i = 0; i < 120; i += 1) ids.push(await stack.submit(tenant, { ms: 250 }));
    // Uncapped, the tenant fills the tier's six slots.
    await until(tenant, (n) => n >= 5);

    // Ask the replica that does NOT own the tenant, to prove the change reaches every replica.
    const { rows } = await stack.scheduler.query<{ partition: number }>('SELECT partition FROM jobs WHERE id = $1', [ids[0]]);
    const partition = rows[0]?.partition;
    const clientA = schedulerAdmin(stack.adminAddress('scheduler-a'));
    const explanation = await call(clientA.explainTenant.bind(clientA), { tenantId: tenant });
    const aOwns = (JSON.parse(explanation.detailsJson) as { partitions: number[] }).partitions.includes(partition ?? -1);
    const other = schedulerAdmin(stack.adminAddress(aOwns ? 'scheduler-b' : 'scheduler-a'));
    clientA.close();

    const capped = await call(other.setTenantQuota.bind(other), { tenantId: tenant, maxInFlight: 1, actor: 'operator:alice', clear: [] });
    expect(capped).toMatchObject({ tenantId: tenant, maxInFlight: 1, updatedBy: 'operator:alice' });
    const capMs = await until(tenant, (n) => n <= 1);
    // Held: every sample from now on shows at most one running while the backlog lasts.
    for (let i = 0; i < 10; i += 1) expect(await running(tenant)).toBeLessThanOrEqual(1);

    await call(other.setTenantQuota.bind(other), { tenantId: tenant, clear: ['maxInFlight'], actor: 'operator:alice' });
    const liftMs = await until(tenant, (n) => n >= 4);
    console.log(`live quota: cap applied in ${capMs} ms, lifted in ${liftMs} ms (a job runs 250 ms, so a cap shows once running jobs finish)`);

    const quota = await call(other.getTenantQuota.bind(other), { tenantId: tenant });
    expect(quota.maxInFlight).toBeUndefined();
    const history = await stack.owner.query<{ changed_by: string; before: unknown; after: { maxInFlight: number | null } }>(
      'SELECT changed_by, before, after FROM tenant_quota_history WHERE tenant_id = $1 ORDER BY id',
      [tenant],
    );
    expect(history.rows.map((r) => [r.changed_by, r.after.maxInFlight])).toEqual([
      ['operator:alice', 1],
      ['operator:alice', null],
    ]);
    expect(history.rows[0]?.before).toBeNull();
    other.close();
  });

  it('holds a tenant to a per-class cap set live, and stores its cost-based rate basis', async () => {
    const [tenant] = await stack.createTenants(1, 'classcap');
    if (!tenant) throw new Error('no tenant');
    for (let i = 0; i < 80; i += 1) await stack.submit(tenant, { ms: 250 });
    await until(tenant, (n) => n >= 3);
    const client = schedulerAdmin(stack.adminAddress('scheduler-a'));
    // Synthetic jobs are of class `standard`; the tenant-wide cap stays unset.
    const set = await call(client.setTenantQuota.bind(client), {
      tenantId: tenant,
      maxInFlightByClass: { standard: 1 },
      rateBasis: 'cost',
      actor: 'operator:alice',
      clear: [],
    });
    expect(set).toMatchObject({ tenantId: tenant, maxInFlightByClass: { standard: 1 }, rateBasis: 'cost' });
    expect(set.maxInFlight).toBeUndefined();
    await until(tenant, (n) => n <= 1);
    for (let i = 0; i < 10; i += 1) expect(await running(tenant)).toBeLessThanOrEqual(1);
    await call(client.setTenantQuota.bind(client), { tenantId: tenant, clear: ['maxInFlightByClass'], actor: 'operator:alice' });
    await until(tenant, (n) => n >= 3);
    client.close();
  });

  it('refuses an invalid quota with INVALID_ARGUMENT and says which field', async () => {
    const client = schedulerAdmin(stack.adminAddress('scheduler-a'));
    const [tenant] = await stack.createTenants(1, 'badquota');
    await expect(call(client.setTenantQuota.bind(client), { tenantId: tenant, maxInFlight: 0, actor: 'x', clear: [] })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('maxInFlight'),
    });
    await expect(call(client.getTenantQuota.bind(client), { tenantId: 'no-such-tenant' })).rejects.toMatchObject({ code: 5 });
    client.close();
  });
});
