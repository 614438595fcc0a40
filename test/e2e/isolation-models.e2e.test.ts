import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { TenantDataRouter, createPool, type IsolationModel } from '@fairway/db';
import { eventually, uniqueTenantId } from '@fairway/db/testing';
import { loadWorkerProto, type TenantCatalogClient, type TenantMessage__Output, type ExecuteResponse__Output } from '@fairway/grpc';
import type { TenantId } from '@fairway/tenant-context';
import { api, catalogClient, serviceCredentials, stack, token, waitForJob } from './support/stack';

function unary<Req, Res>(call: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => call(req, (err, res) => (err || res === undefined ? reject(err ?? new Error('no response')) : resolve(res))));
}

describe.each(['pooled', 'schema', 'database'] as const)('tenant isolation end to end: the %s model', (model: IsolationModel) => {
  let catalog: TenantCatalogClient;
  let pool: ReturnType<typeof createPool>;
  let data: TenantDataRouter;
  const a = uniqueTenantId(`iso${model.slice(0, 2)}a`);
  const b = uniqueTenantId(`iso${model.slice(0, 2)}b`);
  let aToken: string;
  let bToken: string;

  beforeAll(async () => {
    catalog = catalogClient();
    for (const id of [a, b]) {
      const created = await unary<object, TenantMessage__Output>(catalog.createTenant.bind(catalog), { id, displayName: `E2E ${id}`, isolationModel: model });
      expect(created).toMatchObject({ id, status: 'active', isolationModel: model });
    }
    aToken = await token(a);
    bToken = await token(b);
    pool = createPool({ connectionString: stack().urls.app, applicationName: 'fairway-e2e-isolation', max: 2 });
    data = new TenantDataRouter({ catalogPool: pool, catalogUrl: stack().urls.app, listen: false });
    await data.withTenant(a as TenantId, (tx) => tx.query(`INSERT INTO records (id, title, amount, tags) VALUES (gen_random_uuid(), 'of a', 1, '{a}')`));
    await data.withTenant(b as TenantId, (tx) =>
      tx.query(`INSERT INTO records (id, title, amount, tags) VALUES (gen_random_uuid(), 'secret of b', 99, '{b}')`),
    );
  });

  afterAll(async () => {
    // Offboard A too (a test offboards B): in the database model a tenant has a database of its own
    // on the server, which the stack's teardown does not drop.
    const left = await unary<object, TenantMessage__Output>(catalog.deleteTenant.bind(catalog), { id: a, actor: 'e2e', reason: 'isolation test cleanup' });
    expect(left.status).toBe('deleted');
    await data.close();
    await pool.end();
    catalog.close();
  });

  it("serves tenant A's export to A and refuses it to B: the result of a job is the tenant's own", async () => {
    const exported = await api('POST', '/v1/jobs', { token: bToken, body: { type: 'export', params: {} } });
    expect(exported.status).toBe(202);
    const id = String(exported.body['id']);
    const job = await waitForJob(id, bToken);
    expect(job['state']).toBe('succeeded');
    const own = await fetch(`${stack().edgeUrl}/v1/jobs/${id}/result`, { headers: { authorization: `Bearer ${bToken}` } });
    expect(own.status).toBe(200);
    const csv = await own.text();
    expect(csv).toContain('secret of b');
    expect(csv).not.toContain('of a,');
    const stolen = await api('GET', `/v1/jobs/${id}/result`, { token: aToken });
    expect(stolen.status).toBe(404);
    expect(JSON.stringify(stolen.body)).not.toContain('secret of b');
    expect((await api('GET', `/v1/jobs/${id}`, { token: aToken })).status).toBe(404);
  });

  it("runs a worker call under A's metadata on A's data only (gRPC straight to the worker)", async () => {
    const Worker = loadWorkerProto().fairway.worker.v1.Worker;
    // As the scheduler: the only service a worker accepts.
    const worker = new Worker(stack().workers[0] as string, serviceCredentials('scheduler', 'worker'));
    try {
      const metadata = new grpc.Metadata();
      metadata.set('x-fairway-tenant-id', a);
      const res = await new Promise<ExecuteResponse__Output>((resolve, reject) =>
        worker.execute({ jobId: randomUUID(), type: 'report', paramsJson: '{}', attempt: 1 }, metadata, (err, out) =>
          err || !out ? reject(err) : resolve(out),
        ),
      );
      expect(JSON.parse(res.resultJson)).toMatchObject({ count: 1, sumAmount: '1.00', metadataTenant: a });
    } finally {
      worker.close();
    }
  });

  it('offboards B through DeleteTenant: its data is gone, its credential refused, A untouched', async () => {
    const deleted = await unary<object, TenantMessage__Output>(catalog.deleteTenant.bind(catalog), { id: b, actor: 'e2e', reason: 'isolation test' });
    expect(deleted.status).toBe('deleted');
    // The edge caches tenant entries; it learns of the deletion from the catalog's notification
    // (or its cache TTL), so the refusal is awaited with a deadline.
    const refused = await eventually('the edge to refuse the deleted tenant', () => api('GET', '/v1/jobs', { token: bToken }), {
      until: (res) => res.status === 401,
      timeoutMs: 30_000,
    });
    expect(refused.status).toBe(401);
    const admin = createPool({
      connectionString: process.env['FAIRWAY_TEST_DATABASE_ADMIN_URL'] ?? stack().urls.owner.replace(/\/\/[^@]+@/, '//postgres@'),
      applicationName: 'fairway-e2e-admin',
      max: 1,
    });
    try {
      expect((await admin.query('SELECT 1 FROM records WHERE tenant_id = $1', [b])).rowCount).toBe(0);
      const entry = (await admin.query<{ schema_name: string | null; db_name: string | null }>('SELECT schema_name, db_name FROM tenants WHERE id = $1', [b]))
        .rows[0];
      if (entry?.schema_name) expect((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [entry.schema_name])).rowCount).toBe(0);
      if (entry?.db_name) expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [entry.db_name])).rowCount).toBe(0);
      const audit = await admin.query<{ action: string }>("SELECT action FROM audit_log WHERE chain = $1 AND action = 'tenant.delete'", [b]);
      expect(audit.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    const stillThere = await data.withTenant(a as TenantId, async (tx) => (await tx.query('SELECT title FROM records')).rows);
    expect(stillThere).toEqual([{ title: 'of a' }]);
  });
});
