import { eventually } from '@fairway/db/testing';
import { IsolatedStack } from './support/isolated-stack';
import { call, schedulerAdmin } from './support/scheduler-admin';

describe('scheduler replicas share the work and take over from each other', () => {
  const stack = new IsolatedStack({ MAINTENANCE_INTERVAL: '500ms' });

  beforeAll(async () => {
    await stack.start();
    await stack.startWorker('worker-1');
    await stack.startScheduler('scheduler-a', ['worker-1']);
    await stack.startScheduler('scheduler-b', ['worker-1']);
  });

  afterAll(() => stack.destroy());

  async function partitionsOf(replica: string): Promise<number[]> {
    const client = schedulerAdmin(stack.adminAddress(replica));
    try {
      const explanation = await call(client.explainTenant.bind(client), { tenantId: 'probe' });
      return (JSON.parse(explanation.detailsJson) as { partitions: number[] }).partitions;
    } finally {
      client.close();
    }
  }

  it('splits the partitions between two replicas, both dispatch, and a stopped one hands its tenants over', async () => {
    // After both joined, the group is balanced: each owns a disjoint, non-empty share of the six.
    const [a, b] = await eventually(
      'both replicas to own partitions, six in all',
      () => Promise.all([partitionsOf('scheduler-a'), partitionsOf('scheduler-b')]),
      {
        until: ([a, b]) => a.length > 0 && b.length > 0 && a.length + b.length === 6,
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const tenants = await stack.createTenants(24, 'rep');
    const ids = await Promise.all(tenants.map((t) => stack.submit(t, { ms: 5 })));
    await stack.waitFor(ids, (s) => ids.every((id) => s.get(id)?.state === 'succeeded'), 60_000);
    const { rows } = await stack.scheduler.query<{ dispatched_by: string }>('SELECT DISTINCT dispatched_by FROM jobs WHERE id = ANY($1::uuid[])', [ids]);
    expect(rows.map((r) => r.dispatched_by).sort()).toEqual(['scheduler-a', 'scheduler-b']);

    // Stop one: the other takes every partition, and every tenant's new work runs there.
    await stack.stop('scheduler-a');
    const taken = await eventually('scheduler-b to own every partition', () => partitionsOf('scheduler-b'), {
      until: (p) => p.length === 6,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(taken).toEqual([0, 1, 2, 3, 4, 5]);
    const after = await Promise.all(tenants.map((t) => stack.submit(t, { ms: 5 })));
    await stack.waitFor(after, (s) => after.every((id) => s.get(id)?.state === 'succeeded'), 60_000);
    const byReplica = await stack.scheduler.query<{ dispatched_by: string }>('SELECT DISTINCT dispatched_by FROM jobs WHERE id = ANY($1::uuid[])', [after]);
    expect(byReplica.rows.map((r) => r.dispatched_by)).toEqual(['scheduler-b']);
  });
});
