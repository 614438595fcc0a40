import { Pool } from 'pg';
import { IsolatedStack } from './support/isolated-stack';

/**
 * While 5,000 commands from 20 tenants are in flight, a scheduler replica and a worker are killed
 * with SIGKILL at random moments (and restarted). Every command Kafka acknowledged — the moment the
 * edge answers 202 — must end `succeeded`, with its effect applied exactly once.
 */
describe('crash safety: kill -9 a scheduler replica and a worker mid-flight', () => {
  const stack = new IsolatedStack({
    JOB_TIMEOUT: '3s',
    LEASE_MARGIN: '1s',
    MAINTENANCE_INTERVAL: '500ms',
    RETRY_BASE_DELAY: '100ms',
    RETRY_MAX_DELAY: '1s',
    HEALTH_CHECK_INTERVAL: '500ms',
  });
  let admin: Pool;

  beforeAll(async () => {
    await stack.start();
    admin = new Pool({ connectionString: stack.adminUrl, max: 2 });
    await stack.startWorker('worker-1');
    await stack.startWorker('worker-2');
    await stack.startScheduler('scheduler-a', ['worker-1', 'worker-2']);
    await stack.startScheduler('scheduler-b', ['worker-1', 'worker-2']);
  });

  afterAll(async () => {
    await admin?.end();
    await stack.destroy();
  });

  it('ends every acknowledged command succeeded, exactly once in effect', async () => {
    const tenants = await stack.createTenants(20, 'crash');
    const total = 5_000;
    // Random moments, logged so a failure can be replayed by hand.
    const killSchedulerAt = Math.floor(total * (0.2 + Math.random() * 0.4));
    const killWorkerAt = Math.floor(total * (0.2 + Math.random() * 0.6));
    console.log(`crash-safety: killing scheduler-a after ${killSchedulerAt} and worker-1 after ${killWorkerAt} of ${total} commands`);

    const ids: string[] = [];
    const restarts: Array<Promise<unknown>> = [];
    // Submitted 100 at a time (5 per tenant), as concurrent clients would: the commands of a tenant
    // that share a send travel as one coalesced record, the way the edge publishes them.
    const chunk = 100;
    for (let i = 0; i < total; i += chunk) {
      const submitted = Array.from({ length: Math.min(chunk, total - i) }, (_, j) =>
        stack.submit(tenants[(i + j) % tenants.length] as (typeof tenants)[number], { ms: 1 + ((i + j) % 7) }),
      );
      ids.push(...(await Promise.all(submitted)));
      const end = i + submitted.length;
      if (killSchedulerAt >= i && killSchedulerAt < end) {
        await stack.kill('scheduler-a');
        restarts.push(stack.startScheduler('scheduler-a', ['worker-1', 'worker-2']));
      }
      if (killWorkerAt >= i && killWorkerAt < end) {
        await stack.kill('worker-1');
        restarts.push(stack.startWorker('worker-1'));
      }
    }
    await Promise.all(restarts);

    const states = await stack.waitFor(ids, (s) => ids.every((id) => s.get(id)?.state === 'succeeded'), 240_000);
    expect([...states.values()].filter((s) => s.state === 'succeeded')).toHaveLength(total);

    // Exactly once in effect: one effect row per job, none for anything else, read behind RLS.
    const { rows } = await admin.query<{ job_id: string; n: string }>(
      'SELECT job_id, count(*) AS n FROM job_effects WHERE job_id = ANY($1::uuid[]) GROUP BY job_id',
      [ids],
    );
    expect(rows).toHaveLength(total);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    const retried = [...states.values()].filter((s) => s.attempts > 1).length;
    console.log(`crash-safety: ${retried} jobs needed more than one attempt`);
  });
});
