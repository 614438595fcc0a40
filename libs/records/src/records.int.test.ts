import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { NotFoundError, toProblem } from '@fairway/errors';
import { TenantDataRouter, type IsolationModel, type TenantTx } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';
import { RecordsRepository, exportRecordsCsv, recordsRouter, reportRecords, type BusinessRecord } from './index';

const MODELS: readonly IsolationModel[] = ['pooled', 'schema', 'database'];

describe('records on every isolation model (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let data: TenantDataRouter;
  let repository: RecordsRepository;
  let server: Server;
  let base: string;
  const tenants = {} as Record<IsolationModel, { a: TenantId; b: TenantId }>;
  const created: TenantId[] = [];

  /** Calls the test app as `tenant` (the fake authenticate middleware trusts the test header). */
  async function call(tenant: TenantId, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-test-tenant': tenant, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  beforeAll(async () => {
    pools = testPools();
    for (const model of MODELS) {
      const a = await createIsolatedTestTenant(pools.owner, model, `rec${model.slice(0, 2)}a`);
      const b = await createIsolatedTestTenant(pools.owner, model, `rec${model.slice(0, 2)}b`);
      tenants[model] = { a, b };
      created.push(a, b);
    }
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app, maxConnections: 8, perDatabaseMax: 2 });
    repository = new RecordsRepository(data);
    const app = express();
    app.use(express.json());
    // Stands in for the edge's authenticate(): sets req.tenant and the async context.
    app.use((req: Request, _res: Response, next: NextFunction) => {
      const ctx = tenantContext(String(req.headers['x-test-tenant']) as TenantId, 'jwt');
      (req as Request & { tenant?: unknown }).tenant = ctx;
      runWithTenant(ctx, () => next());
    });
    app.use('/v1/records', recordsRouter({ repository }));
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const problem = toProblem(err);
      res.status(problem.status).json(problem);
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await pools.end();
  });

  describe.each(MODELS)('%s', (model) => {
    it('creates, gets, lists with a cursor, updates and deletes through the repository', async () => {
      const { a } = tenants[model];
      const made: BusinessRecord[] = [];
      for (let i = 0; i < 5; i += 1) {
        made.push(await repository.create(a, { title: `r${i}`, body: '', amount: `${i}.50`, tags: i % 2 ? ['odd'] : ['even'] }));
      }
      expect(await repository.get(a, made[0]!.id)).toEqual(made[0]);
      const first = await repository.list(a, { limit: 2 });
      expect(first.items.map((r) => r.title)).toEqual(['r0', 'r1']);
      const second = await repository.list(a, { limit: 2, cursor: first.nextCursor! });
      expect(second.items.map((r) => r.title)).toEqual(['r2', 'r3']);
      const last = await repository.list(a, { limit: 2, cursor: second.nextCursor! });
      expect(last.items.map((r) => r.title)).toEqual(['r4']);
      expect(last.nextCursor).toBeUndefined();
      expect((await repository.list(a, { tag: 'odd' })).items.map((r) => r.title)).toEqual(['r1', 'r3']);
      const updated = await repository.update(a, made[1]!.id, { amount: '10', tags: ['x'] });
      expect(updated).toMatchObject({ title: 'r1', amount: '10.00', tags: ['x'] });
      await repository.delete(a, made[4]!.id);
      await expect(repository.get(a, made[4]!.id)).rejects.toBeInstanceOf(NotFoundError);
      const report = await data.withTenant(a, reportRecords);
      expect(report).toEqual({
        count: 4,
        sumAmount: '16.50', // 0.50 + 10 (r1, updated) + 2.50 + 3.50; r4 was deleted
        avgAmount: '4.13',
        byTag: [
          { tag: 'even', count: 2, sumAmount: '3.00' },
          { tag: 'odd', count: 1, sumAmount: '3.50' },
          { tag: 'x', count: 1, sumAmount: '10.00' },
        ],
      });
    });

    it("refuses tenant A every way into tenant B's records over HTTP: 404 each time, nothing leaks or changes", async () => {
      const { a, b } = tenants[model];
      const created = await call(b, 'POST', '/v1/records', { title: 'secret of b', amount: 42, tags: ['b'] });
      expect(created.status).toBe(201);
      const id = String(created.body['id']);
      expect((await call(b, 'GET', `/v1/records/${id}`)).status).toBe(200);

      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { title: 'stolen' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await call(a, method, `/v1/records/${id}`, body);
        expect(res.status).toBe(404);
        expect(res.body['code']).toBe('NOT_FOUND');
        expect(JSON.stringify(res.body)).not.toContain('secret of b');
      }
      const listed = await call(a, 'GET', '/v1/records?limit=200');
      expect((listed.body['items'] as BusinessRecord[]).map((r) => r.id)).not.toContain(id);
      // A client-supplied cursor naming B's id only pages A's own records.
      const cursor = Buffer.from(id).toString('base64url');
      const paged = await call(a, 'GET', `/v1/records?cursor=${cursor}`);
      expect(paged.status).toBe(200);
      expect(JSON.stringify(paged.body)).not.toContain('secret of b');
      // A body that names another tenant is refused by the schema, not obeyed.
      expect((await call(a, 'POST', '/v1/records', { title: 'x', tenant_id: b })).status).toBe(400);

      const after = await call(b, 'GET', `/v1/records/${id}`);
      expect(after.body).toMatchObject({ title: 'secret of b', amount: '42.00' });
    });

    it('validates bodies and queries with the field named', async () => {
      const { a } = tenants[model];
      const bad = await call(a, 'POST', '/v1/records', { title: '', amount: 'lots' });
      expect(bad.status).toBe(400);
      expect(bad.body['code']).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(bad.body['errors'])).toMatch(/body\.title/);
      expect((await call(a, 'GET', '/v1/records?limit=0')).status).toBe(400);
      expect((await call(a, 'PATCH', `/v1/records/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`, {})).status).toBe(400);
      expect((await call(a, 'GET', '/v1/records/not-a-uuid')).status).toBe(404);
    });

    it('streams an export through a server-side cursor in chunks, never holding every row', async () => {
      const { b } = tenants[model];
      const rows = 3_000;
      await data.withTenant(b, (tx: TenantTx) =>
        tx.query(
          `INSERT INTO records (id, title, body, amount, tags)
           SELECT gen_random_uuid(), 'bulk ' || i, CASE WHEN i = 1 THEN 'has "quotes", commas
and a newline' WHEN i = 2 THEN '=cmd()' ELSE '' END, i, ARRAY['bulk'] FROM generate_series(1, ${rows}) AS i`,
        ),
      );
      const chunks: string[] = [];
      const stats = await data.withTenant(b, (tx) => exportRecordsCsv(tx, async (chunk) => void chunks.push(chunk), { batchSize: 100, chunkChars: 16 * 1024 }));
      const total = rows + 1; // and the 'secret of b' record from the isolation test
      expect(stats.rows).toBe(total);
      expect(stats.chunks).toBeGreaterThan(5);
      expect(stats.rowsReadAtFirstChunk).toBeLessThan(total / 2);
      const csv = chunks.join('');
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe('id,title,body,amount,tags,created_at,updated_at');
      expect(csv).toContain('"has ""quotes"", commas\nand a newline"');
      expect(csv).toContain(",'=cmd(),"); // CSV injection guard
      expect(csv.match(/,bulk \d+,/g)).toHaveLength(rows);
      expect(csv).toContain(',secret of b,');
    });
  });

  it('runs the same repository for the tenant of the current context (currentTenant)', async () => {
    const { a } = tenants.schema;
    const record = await runWithTenant(tenantContext(a, 'jwt'), () => data.withCurrentTenant((tx) => tx.query('SELECT count(*)::int AS n FROM records')));
    expect(record.rows[0]).toEqual({ n: expect.any(Number) });
  });
});
