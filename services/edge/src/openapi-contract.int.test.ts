import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import createClient, { type Middleware } from 'openapi-fetch';
import { withTenantId } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import type { paths } from './generated/public-api';
import { responseViolations, TestEdge, type ObservedResponse, type OpenApiDocumentShape } from './testing';

/**
 * The OpenAPI document proven against the real edge (Kafka, PostgreSQL, Redis): a client generated
 * from it (openapi-typescript types, openapi-fetch) compiles against every route and calls each one,
 * and every response it gets, success or problem, is checked against the document the edge serves.
 */
describe('the public OpenAPI document, through a client generated from it, against the real edge', () => {
  const edge = new TestEdge();
  const observed: ObservedResponse[] = [];
  let document: OpenApiDocumentShape;
  let tenant: { id: TenantId; authorization: string };

  // Records what each call got, as the path template the client called (openapi-fetch's schemaPath).
  const recorder: Middleware = {
    async onResponse({ request, response, schemaPath }) {
      observed.push({
        method: request.method.toLowerCase(),
        path: schemaPath,
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: await response.clone().text(),
      });
    },
  };
  const client = () => {
    const c = createClient<paths>({ baseUrl: edge.url, headers: { authorization: tenant.authorization } });
    c.use(recorder);
    return c;
  };
  const anonymous = () => {
    const c = createClient<paths>({ baseUrl: edge.url });
    c.use(recorder);
    return c;
  };

  /** A job row as the scheduler writes it once it stored the command (no scheduler runs here). */
  const insertJob = async (state: 'queued' | 'succeeded'): Promise<string> => {
    const id = randomUUID();
    await edge.pools.scheduler.query(
      `INSERT INTO jobs (id, tenant_id, type, job_class, state, accepted_at, finished_at) VALUES ($1, $2, 'export', 'heavy', $3, now(), CASE WHEN $3 = 'succeeded' THEN now() END)`,
      [id, tenant.id, state],
    );
    return id;
  };

  beforeAll(async () => {
    await edge.start({ records: true });
    tenant = await edge.tenant();
    const res = await fetch(`${edge.url}/openapi.json`);
    document = (await res.json()) as OpenApiDocumentShape;
  });
  afterAll(() => edge.close());

  afterEach(() => {
    // Every response so far matches the document; a mismatch names the operation, status and field.
    expect(observed.flatMap((o) => responseViolations(document, o))).toEqual([]);
  });

  it('uses client types generated from the current document (else: npm run gen:openapi)', () => {
    // A child process: openapi-typescript loads ES modules that jest's CommonJS runtime cannot.
    const check = spawnSync(process.execPath, [path.join(__dirname, '..', '..', '..', 'scripts', 'gen-openapi-client.cjs'), '--check'], { encoding: 'utf8' });
    expect(check.stdout).toContain('up to date');
    expect(check.status).toBe(0);
  });

  it('serves the document and the probes without a credential', async () => {
    const api = anonymous();
    const doc = await api.GET('/openapi.json');
    expect(doc.response.status).toBe(200);
    expect(doc.data?.['openapi']).toBe('3.1.0');
    expect((await api.GET('/healthz')).data).toEqual({ status: 'ok' });
    expect((await api.GET('/readyz')).data).toEqual({ status: 'ready' });
  });

  it('submits, lists, reads and cancels jobs, and downloads a result', async () => {
    const api = client();
    const accepted = await api.POST('/v1/jobs', { body: { type: 'synthetic', params: { ms: 1 } }, headers: { 'idempotency-key': randomUUID() } });
    expect(accepted.response.status).toBe(202);
    expect(accepted.data?.state).toBe('accepted');

    const queued = await insertJob('queued');
    const page = await api.GET('/v1/jobs', { params: { query: { state: 'queued', limit: 10 } } });
    expect(page.data?.items.map((j) => j.id)).toEqual([queued]);
    expect(page.data?.nextCursor).toBeNull();

    const job = await api.GET('/v1/jobs/{id}', { params: { path: { id: queued } } });
    expect(job.data).toMatchObject({ id: queued, state: 'queued', tenantId: tenant.id });
    const cancelled = await api.DELETE('/v1/jobs/{id}', { params: { path: { id: queued } } });
    expect(cancelled.data?.state).toBe('cancelled');
    const again = await api.DELETE('/v1/jobs/{id}', { params: { path: { id: queued } } });
    expect(again.error?.code).toBe('JOB_NOT_CANCELLABLE');

    const done = await insertJob('succeeded');
    // A result as stored before chunked results (one row, body inline): the route serves both kinds.
    await withTenantId(edge.pools.app, tenant.id, (tx) =>
      tx.query(`INSERT INTO job_artifacts (job_id, tenant_id, content_type, body) VALUES ($1, $2, 'text/csv; charset=utf-8', 'id,title\n1,a\n')`, [
        done,
        tenant.id,
      ]),
    );
    const result = await api.GET('/v1/jobs/{id}/result', { params: { path: { id: done } }, parseAs: 'text' });
    expect(result.response.status).toBe(200);
    expect(result.data).toBe('id,title\n1,a\n');
    expect(result.response.headers.get('content-disposition')).toBe(`attachment; filename="${done}"`);
    const none = await api.GET('/v1/jobs/{id}/result', { params: { path: { id: queued } } });
    expect(none.error?.code).toBe('NOT_FOUND');
  });

  it('creates, lists, reads, changes and deletes records', async () => {
    const api = client();
    const created = await api.POST('/v1/records', { body: { title: 'Invoice 7', amount: '12.50', tags: ['q3'] } });
    expect(created.response.status).toBe(201);
    const id = created.data?.id ?? '';
    expect(created.response.headers.get('location')).toBe(`/v1/records/${id}`);
    expect(created.data).toMatchObject({ title: 'Invoice 7', amount: '12.50', body: '', tags: ['q3'] });

    const page = await api.GET('/v1/records', { params: { query: { tag: 'q3', limit: 10 } } });
    expect(page.data?.items.map((r) => r.id)).toEqual([id]);
    expect((await api.GET('/v1/records/{id}', { params: { path: { id } } })).data?.title).toBe('Invoice 7');
    const changed = await api.PATCH('/v1/records/{id}', { params: { path: { id } }, body: { amount: 3 } });
    expect(changed.data).toMatchObject({ id, amount: '3.00', title: 'Invoice 7' });
    const deleted = await api.DELETE('/v1/records/{id}', { params: { path: { id } } });
    expect(deleted.response.status).toBe(204);
    expect((await api.GET('/v1/records/{id}', { params: { path: { id } } })).error?.code).toBe('NOT_FOUND');
  });

  it('answers refusals and invalid requests with documented problems', async () => {
    const api = client();
    expect((await anonymous().GET('/v1/jobs')).error?.code).toBe('UNAUTHENTICATED');
    expect((await api.GET('/v1/jobs', { params: { header: { 'x-tenant-id': 'someone-else' } } })).error?.code).toBe('TENANT_MISMATCH');
    expect((await api.GET('/v1/jobs', { params: { query: { limit: 0 } } })).error?.code).toBe('VALIDATION_FAILED');
    expect((await api.GET('/v1/records', { params: { query: { cursor: 'not-a-cursor' } } })).error?.code).toBe('VALIDATION_FAILED');
    expect((await api.POST('/v1/jobs', { body: { type: 'no-such-type' } })).error?.code).toBe('UNKNOWN_JOB_TYPE');
    expect((await api.POST('/v1/records', { body: { title: '' } })).error?.code).toBe('VALIDATION_FAILED');
    expect((await api.PATCH('/v1/records/{id}', { params: { path: { id: randomUUID() } }, body: { title: 'x' } })).error?.code).toBe('NOT_FOUND');
    expect((await api.GET('/v1/jobs/{id}', { params: { path: { id: randomUUID() } } })).error?.code).toBe('NOT_FOUND');
    expect((await api.DELETE('/v1/records/{id}', { params: { path: { id: randomUUID() } } })).error?.code).toBe('NOT_FOUND');
  });

  it('has called every operation of the document, each with a success', () => {
    const documented = Object.entries(document.paths).flatMap(([p, methods]) => Object.keys(methods).map((method) => `${method} ${p}`));
    const succeeded = new Set(observed.filter((o) => o.status < 300).map((o) => `${o.method} ${o.path}`));
    expect(documented.length).toBeGreaterThanOrEqual(13);
    expect(documented.filter((op) => !succeeded.has(op))).toEqual([]);
  });
});
