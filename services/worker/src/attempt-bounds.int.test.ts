import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'pg';
import { TenantDataRouter } from '@fairway/db';
import {
  createIsolatedTestTenant,
  createTestTenant,
  deferred,
  dropIsolatedTestTenants,
  dropTestTenants,
  testAdminUrl,
  testDatabaseUrls,
  testPools,
  type Deferred,
} from '@fairway/db/testing';
import { JobFailedError, StaleAttemptError } from '@fairway/errors';
import { loadWorkerProto, tenantUnaryHandler, type ExecuteResponse__Output, type WorkerClient } from '@fairway/grpc';
import { injectGrpcMetadata, tenantContext, type TenantId } from '@fairway/tenant-context';
import { boundedExecute, type UnaryAttempt } from './execute-call';
import { executeJob, type ExecutorDeps, type JobAttempt } from './executor';
import { SyntheticEffects } from './synthetic-effects';
import { WorkerSlots } from './worker-slots';

/** The outcome of a unary call, error or response, for the test to inspect. */
function settled(
  call: (done: grpc.requestCallback<ExecuteResponse__Output>) => void,
): Promise<{ err: grpc.ServiceError | null; res?: ExecuteResponse__Output }> {
  return new Promise((resolve) => call((err, res) => resolve({ err, ...(res ? { res } : {}) })));
}

describe('the bounds of an attempt: slots, deadlines and fencing (real PostgreSQL, real grpc-js)', () => {
  const proto = loadWorkerProto();
  let pools: ReturnType<typeof testPools>;
  let admin: Pool;
  /** The tenants' data pool, named so that its backends can be found in pg_stat_activity. */
  let dataPool: Pool;
  const dataApplication = `fairway-test-bounds-${randomUUID().slice(0, 8)}`;
  let data: TenantDataRouter;
  let deps: ExecutorDeps;
  const tenants: TenantId[] = [];
  const isolated: TenantId[] = [];
  let servers: grpc.Server[] = [];
  let clients: grpc.Client[] = [];

  beforeAll(async () => {
    pools = testPools();
    admin = new Pool({ connectionString: testAdminUrl(), max: 2 });
    dataPool = new Pool({ connectionString: testDatabaseUrls().app, application_name: dataApplication, max: 4 });
    data = new TenantDataRouter({ catalogPool: dataPool, catalogUrl: testDatabaseUrls().app });
    deps = { pool: pools.app, data, workerId: 'bounds-worker' };
  });

  afterEach(() => {
    for (const c of clients) c.close();
    for (const s of servers) s.forceShutdown();
    clients = [];
    servers = [];
  });

  afterAll(async () => {
    await data.close();
    await dropIsolatedTestTenants(pools.owner, isolated);
    await dropTestTenants(pools.owner, tenants);
    await Promise.all([dataPool.end(), admin.end()]);
    await pools.end();
  });

  async function serveExecute(slots: WorkerSlots, attempt: UnaryAttempt): Promise<WorkerClient> {
    const server = new grpc.Server();
    server.addService(proto.fairway.worker.v1.Worker.service, { Execute: tenantUnaryHandler(boundedExecute(slots, 'bounds-worker', attempt)) });
    servers.push(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    const client = new proto.fairway.worker.v1.Worker(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as WorkerClient;
    clients.push(client as unknown as grpc.Client);
    return client;
  }

  function metadataFor(tenant: TenantId): grpc.Metadata {
    const metadata = new grpc.Metadata();
    injectGrpcMetadata(tenantContext(tenant, 'job'), metadata);
    return metadata;
  }

  /** A job row of `tenant` whose current attempt is `attempts` (as the scheduler's claim leaves it). */
  async function runningJob(tenant: TenantId, type: string, attempts: number): Promise<string> {
    const id = randomUUID();
    await pools.scheduler.query(
      `INSERT INTO jobs (id, tenant_id, type, job_class, state, attempts, accepted_at, started_at) VALUES ($1, $2, $3, 'batch', 'running', $4, now(), now())`,
      [id, tenant, type, attempts],
    );
    return id;
  }

  async function stored(tenant: TenantId, jobId: string): Promise<{ effects: Array<{ attempt: number }>; artifacts: number; chunks: number }> {
    const effects = await admin.query<{ attempt: number }>('SELECT attempt FROM job_effects WHERE job_id = $1 AND tenant_id = $2', [jobId, tenant]);
    const artifacts = await admin.query('SELECT 1 FROM job_artifacts WHERE job_id = $1', [jobId]);
    const chunks = await admin.query('SELECT 1 FROM job_result_chunks WHERE job_id = $1', [jobId]);
    return { effects: effects.rows, artifacts: artifacts.rowCount ?? 0, chunks: chunks.rowCount ?? 0 };
  }

  it('refuses a unary job beyond WORKER_CONCURRENCY with RESOURCE_EXHAUSTED, and takes one again once a slot is free', async () => {
    const tenant = await createTestTenant(pools.owner, 'bslot');
    tenants.push(tenant);
    const running = new Map<string, Deferred<void>>();
    // started[n - 1] resolves when the n-th attempt has started: explicit readiness, no timer.
    const started = [deferred<void>(), deferred<void>(), deferred<void>()];
    const slots = new WorkerSlots(2);
    const client = await serveExecute(slots, async (request, callTenant) => {
      const release = deferred<void>();
      running.set(request.jobId, release);
      started[running.size - 1]?.resolve();
      await release.promise;
      return { resultJson: JSON.stringify({ tenant: callTenant.context.tenantId }), applied: true };
    });
    const call = (jobId: string) =>
      settled((done) => client.Execute({ jobId, type: 'synthetic', paramsJson: '{"ms":0}', attempt: 1 }, metadataFor(tenant), done));

    const [a, b] = [randomUUID(), randomUUID()];
    const first = call(a);
    const second = call(b);
    await started[1]!.promise;
    expect(slots.inUse).toBe(2);

    const refused = await call(randomUUID());
    expect(refused.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.err?.metadata.get('x-fairway-error-code')).toEqual(['CONCURRENCY_LIMITED']);
    expect(refused.err?.metadata.get('x-fairway-retriable')).toEqual(['true']);

    running.get(a)?.resolve();
    expect((await first).res?.applied).toBe(true);
    const third = call(randomUUID());
    running.get(b)?.resolve();
    expect((await second).err).toBeNull();
    // The slot `a` freed is taken by the third job, which the test now lets finish.
    await started[2]!.promise;
    for (const [jobId, release] of running) if (jobId !== a && jobId !== b) release.resolve();
    expect((await third).err).toBeNull();
    expect(slots.inUse).toBe(0);
  });

  /** A schema tenant whose `records` sleeps when read: a report job's first statement runs for a minute. */
  async function slowTenant(prefix: string): Promise<TenantId> {
    const tenant = await createIsolatedTestTenant(pools.owner, 'schema', prefix);
    isolated.push(tenant);
    const schema = (await admin.query<{ schema_name: string }>('SELECT schema_name FROM tenants WHERE id = $1', [tenant])).rows[0]!.schema_name;
    await admin.query(`ALTER TABLE "${schema}".records RENAME TO records_stored`);
    await admin.query(`CREATE VIEW "${schema}".records AS SELECT r.* FROM "${schema}".records_stored r, pg_sleep(60)`);
    await admin.query(`GRANT SELECT ON "${schema}".records TO fairway_app`);
    return tenant;
  }

  it("cancels a slow job (pg_sleep) at its call's deadline: its statement is cancelled, its transaction rolled back, nothing stored", async () => {
    const tenant = await slowTenant('bslow');

    const attemptEnded = deferred<unknown>();
    const client = await serveExecute(new WorkerSlots(4), async (request, callTenant, execution) => {
      try {
        const outcome = await executeJob(deps, request, callTenant, execution);
        attemptEnded.resolve(outcome);
        return { resultJson: JSON.stringify(outcome.result), applied: outcome.applied };
      } catch (err) {
        attemptEnded.resolve(err);
        throw err;
      }
    });
    const jobId = randomUUID();
    const answer = await settled((done) =>
      client.Execute({ jobId, type: 'report', paramsJson: '{}', attempt: 1 }, metadataFor(tenant), { deadline: new Date(Date.now() + 1_500) }, done),
    );
    expect(answer.err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);

    // The attempt itself ended as a retriable failure past its deadline, its statement cancelled by
    // the statement timeout (57014) rather than left sleeping.
    const ended = await attemptEnded.promise;
    expect(ended).toBeInstanceOf(JobFailedError);
    expect((ended as JobFailedError).retriable).toBe(true);
    expect((ended as JobFailedError).message).toMatch(/deadline/);
    expect(((ended as JobFailedError).cause as { code?: string }).code).toBe('57014');
    // Nothing of the job is stored, and no backend of the worker's data pool is still running it.
    expect(await stored(tenant, jobId)).toEqual({ effects: [], artifacts: 0, chunks: 0 });
    const active = await admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'", [dataApplication]);
    expect(active.rows).toEqual([]);
  });

  it('times out a statement of a job without a deadline at JOB_STATEMENT_TIMEOUT: a retriable failure, nothing stored', async () => {
    const tenant = await slowTenant('bstmt');
    const jobId = randomUUID();
    const failed = await executeJob(
      { ...deps, statementTimeoutMs: 300 },
      { jobId, type: 'report', paramsJson: '{}', attempt: 1 },
      { context: tenantContext(tenant, 'grpc') },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(JobFailedError);
    expect((failed as JobFailedError).retriable).toBe(true);
    expect((failed as JobFailedError).message).toMatch(/300 ms statement timeout/);
    expect(((failed as JobFailedError).cause as { code?: string }).code).toBe('57014');
    expect(await stored(tenant, jobId)).toEqual({ effects: [], artifacts: 0, chunks: 0 });
  });

  it("does not commit a late attempt's effect when a newer attempt of the job exists; the newer attempt's commits", async () => {
    const tenant = await createTestTenant(pools.owner, 'bfence');
    tenants.push(tenant);
    const context = { context: tenantContext(tenant, 'grpc') };
    await data.withTenant(tenant, (tx) =>
      tx.query(`INSERT INTO records (id, title, amount) SELECT gen_random_uuid(), 'r' || i, i FROM generate_series(1, 20) i`),
    );

    for (const type of ['synthetic', 'export', 'report'] as const) {
      const jobId = await runningJob(tenant, type, 2);
      const late: JobAttempt = { jobId, type, paramsJson: type === 'synthetic' ? '{"ms":0}' : '{}', attempt: 1 };
      await expect(executeJob(deps, late, context)).rejects.toBeInstanceOf(StaleAttemptError);
      expect(await stored(tenant, jobId)).toEqual({ effects: [], artifacts: 0, chunks: 0 });

      const current = await executeJob(deps, { ...late, attempt: 2 }, context);
      expect(current.applied).toBe(true);
      const after = await stored(tenant, jobId);
      expect(after.effects).toEqual([{ attempt: 2 }]);
      if (type !== 'synthetic') expect(after.artifacts).toBe(1);
    }

    // The stream's group commit (migration 611) is fenced the same way.
    const effects = new SyntheticEffects(pools.app);
    const jobId = await runningJob(tenant, 'synthetic', 3);
    await expect(effects.record({ jobId, tenantId: tenant, attempt: 2, observed: { late: true } })).rejects.toBeInstanceOf(StaleAttemptError);
    expect((await stored(tenant, jobId)).effects).toEqual([]);
    await expect(effects.record({ jobId, tenantId: tenant, attempt: 3, observed: { late: false } })).resolves.toMatchObject({ applied: true, completed: true });
    expect((await stored(tenant, jobId)).effects).toEqual([{ attempt: 3 }]);
  });
});
