import { randomUUID } from 'node:crypto';
import { TenantDataRouter, type IsolationModel } from '@fairway/db';
import { openJobResult } from '@fairway/records';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { tenantContext, type TenantId } from '@fairway/tenant-context';
import { executeJob, type ExecutorDeps } from './executor';

describe('export and report jobs on every isolation model (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let data: TenantDataRouter;
  let deps: ExecutorDeps;
  const tenants = {} as Record<IsolationModel, { a: TenantId; b: TenantId }>;
  const ids: TenantId[] = [];

  beforeAll(async () => {
    pools = testPools();
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app });
    deps = { pool: pools.app, data, workerId: 'test-worker', exportBatchSize: 50 };
    for (const model of ['pooled', 'schema', 'database'] as const) {
      const a = await createIsolatedTestTenant(pools.owner, model, `wk${model.slice(0, 2)}a`);
      const b = await createIsolatedTestTenant(pools.owner, model, `wk${model.slice(0, 2)}b`);
      tenants[model] = { a, b };
      ids.push(a, b);
      await data.withTenant(a, (tx) =>
        tx.query(`INSERT INTO records (id, title, amount, tags) SELECT gen_random_uuid(), 'a' || i, i, ARRAY['t' || (i % 3)] FROM generate_series(1, 500) i`),
      );
      await data.withTenant(b, (tx) => tx.query(`INSERT INTO records (id, title, amount) VALUES (gen_random_uuid(), 'only b', 7)`));
    }
  });

  afterAll(async () => {
    await data.close();
    await dropIsolatedTestTenants(pools.owner, ids);
    await pools.end();
  });

  async function artifact(tenant: TenantId, jobId: string) {
    const result = await openJobResult(pools.app, tenant, jobId);
    if (!result) return undefined;
    let body = '';
    for await (const chunk of result.chunks) body += chunk;
    return { content_type: result.contentType, body };
  }

  it.each(['pooled', 'schema', 'database'] as const)("exports only the tenant's records (%s), once per job id however often it runs", async (model) => {
    const { a, b } = tenants[model];
    const jobId = randomUUID();
    const job = { jobId, type: 'export', paramsJson: '{}', attempt: 1 };
    const first = await executeJob(deps, job, { context: tenantContext(a, 'grpc') });
    expect(first.applied).toBe(true);
    expect(first.result).toMatchObject({ rows: 500, metadataTenant: a, dbSessionTenant: a });
    expect(Number(first.result['chunks'])).toBeGreaterThanOrEqual(1);
    const again = await executeJob(deps, { ...job, attempt: 2 }, { context: tenantContext(a, 'grpc') });
    expect(again.applied).toBe(false);
    const stored = await artifact(a, jobId);
    expect(stored?.content_type).toMatch(/^text\/csv/);
    const lines = stored?.body.trim().split('\r\n') ?? [];
    expect(lines).toHaveLength(501);
    expect(stored?.body).not.toContain('only b');
    // Tenant B cannot read A's artifact, even knowing the job id.
    expect(await artifact(b, jobId)).toBeUndefined();
  });

  it.each(['pooled', 'schema', 'database'] as const)('reports count, sum, average and per-tag totals of the tenant alone (%s)', async (model) => {
    const { a } = tenants[model];
    const jobId = randomUUID();
    const outcome = await executeJob(deps, { jobId, type: 'report', paramsJson: '{}', attempt: 1 }, { context: tenantContext(a, 'grpc') });
    expect(outcome.result).toMatchObject({ count: 500, sumAmount: '125250.00' });
    const report = JSON.parse((await artifact(a, jobId))?.body ?? '{}') as { byTag: Array<{ tag: string; count: number }>; avgAmount: string };
    expect(report.avgAmount).toBe('250.50');
    expect(report.byTag.map((t) => [t.tag, t.count])).toEqual([
      ['t0', 166],
      ['t1', 167],
      ['t2', 167],
    ]);
  });
});
