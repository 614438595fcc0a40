import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import type { Producer } from 'kafkajs';
import { findTenant, setTenantStatus, upsertTenant, type TenantRecord } from '@fairway/db';
import { createTestTenant, dropTestTenants, testPools, uniqueTenantId } from '@fairway/db/testing';
import { NotFoundError } from '@fairway/errors';
import { bindServer, loadTenantCatalogProto, unaryHandler, type TenantCatalogHandlers } from '@fairway/grpc';
import { createIdempotentProducer, createKafka, GroupCommitPublisher } from '@fairway/kafka';
import { deleteTopics, testKafka, uniqueTopics } from '@fairway/kafka/testing';
import { createLogger } from '@fairway/telemetry';
import { parseTenantId } from '@fairway/tenant-context';
import { createAdminApp } from './admin-app';
import { SchedulerAdminGateway, schedulerAdminService, TenantCatalogGateway } from './admin-clients';
import { AdmissionController } from './admission';
import { PgApiKeyLookup } from './api-keys';
import { PUBLIC_ROUTES } from './api-schemas';
import { createEdgeApp } from './app';
import { RedisIdempotencyStore } from './idempotency';
import { TenantDirectory } from './tenant-directory';
import { TenantLimits, type RequestLimits } from './tenant-limits';
import { TokenVerifier } from '@fairway/auth';

const SECRET = new TextEncoder().encode('integration-secret-0123456789-0123456789');
const ISSUER = 'fairway-int';
const AUDIENCE = 'fairway-api';
const log = createLogger('edge-int', 'silent');

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').sign(SECRET);
}

function listen(app: { listen: (port: number, host: string, cb: () => void) => Server }): Promise<{ server: Server; url: string; port: number }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}`, port });
    });
  });
}

async function call(base: string, method: string, path: string, options: { auth?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.auth) headers['authorization'] = options.auth;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A real TenantCatalog gRPC server over the test database (the control plane's contract, in-test). */
function catalogHandlers(owner: ReturnType<typeof testPools>['owner']): TenantCatalogHandlers {
  const toMessage = (t: TenantRecord) => ({ id: t.id, slug: t.slug, displayName: t.displayName, status: t.status, isolationModel: t.isolationModel, plan: t.plan, createdAt: t.createdAt.toISOString() });
  return {
    GetTenant: unaryHandler(async (req) => {
      const t = await findTenant(owner, req.id);
      if (!t) throw new NotFoundError('tenant', req.id);
      return toMessage(t);
    }),
    ListTenants: unaryHandler(async () => ({ tenants: [] })),
    DeleteTenant: unaryHandler(async (req) => {
      const t = await setTenantStatus(owner, req.id, 'deleted');
      if (!t) throw new NotFoundError('tenant', req.id);
      return toMessage(t);
    }),
    CreateTenant: unaryHandler(async (req) => toMessage(await upsertTenant(owner, { id: parseTenantId(req.id)!, displayName: req.displayName || req.id, plan: req.plan || 'standard' }))),
    SetTenantStatus: unaryHandler(async (req) => {
      const t = await setTenantStatus(owner, req.id, req.status as 'active');
      if (!t) throw new NotFoundError('tenant', req.id);
      return toMessage(t);
    }),
  };
}

describe('the edge, as two replicas sharing Redis, against the real broker and database', () => {
  const pools = testPools();
  const kafka = testKafka('edge-int');
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  const prefix = `fairway:edge-int:${randomUUID().slice(0, 8)}:`;
  const created: string[] = [];
  const overrides: Record<string, Partial<RequestLimits>> = {};
  let topics: Awaited<ReturnType<typeof uniqueTopics>>;
  let producer: Producer;
  let deadProducer: Producer;
  const servers: Server[] = [];
  let edgeA: string;
  let edgeB: string;
  let shedding: string;
  let admin: string;
  let quotaCalls: Array<Record<string, unknown>>;
  let grpcServer: grpc.Server;
  let catalog: TenantCatalogGateway;
  let scheduler: SchedulerAdminGateway;
  let schedulerDown: SchedulerAdminGateway;

  const tenant = async (limits?: Partial<RequestLimits>): Promise<{ id: string; bearer: string }> => {
    const id = await createTestTenant(pools.owner, 'edge');
    created.push(id);
    if (limits) overrides[id] = limits;
    return { id, bearer: `Bearer ${await token({ tenant_id: id, sub: `user@${id}` })}` };
  };

  const edgeApp = (publisher: GroupCommitPublisher) =>
    createEdgeApp({
      publisher,
      pool: pools.app,
      log,
      bodyLimit: '64kb',
      idempotency: new RedisIdempotencyStore(redis, pools.app, { ttlMs: 60_000, keyPrefix: prefix }),
      auth: {
        tokens: new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 5_000 }),
        tenants: new TenantDirectory(pools.app, 50),
        apiKeys: new PgApiKeyLookup(pools.app, { cacheTtlMs: 50, touchIntervalMs: 60_000 }),
        baseDomain: 'api.fairway.test',
        admission: new AdmissionController({ redis, keyPrefix: prefix, leaseMs: 15_000 }),
        limits: new TenantLimits({ standard: { rate: 1_000, burst: 1_000, maxInFlight: 100 } }, overrides),
      },
    });

  beforeAll(async () => {
    topics = await uniqueTopics(kafka, 'fw-edge-int');
    producer = createIdempotentProducer(kafka);
    await producer.connect();
    // A producer on a port where no broker listens: every send fails, as when Kafka is down.
    deadProducer = createIdempotentProducer(createKafka({ brokers: '127.0.0.1:1', clientId: 'edge-int-dead' }));
    const a = await listen(edgeApp(new GroupCommitPublisher({ producer, topic: topics.commands })));
    const b = await listen(edgeApp(new GroupCommitPublisher({ producer, topic: topics.commands })));
    const c = await listen(edgeApp(new GroupCommitPublisher({ producer: deadProducer, topic: topics.commands, sendTimeoutMs: 500, retryAfterSeconds: 3 })));
    servers.push(a.server, b.server, c.server);
    [edgeA, edgeB, shedding] = [a.url, b.url, c.url];

    quotaCalls = [];
    grpcServer = new grpc.Server();
    grpcServer.addService(loadTenantCatalogProto().fairway.tenancy.v1.TenantCatalog.service, catalogHandlers(pools.owner));
    const quota = (tenantId: string) => ({ tenantId, weight: 2, rate: 10, maxInFlight: 4, updatedAt: new Date(0).toISOString(), updatedBy: 'test' });
    grpcServer.addService(schedulerAdminService(), {
      GetTenantQuota: (c: grpc.ServerUnaryCall<{ tenantId: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, quota(c.request.tenantId)),
      SetTenantQuota: (c: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        quotaCalls.push(c.request);
        cb(null, { ...quota(String(c.request['tenantId'])), weight: c.request['weight'] ?? 2, updatedBy: c.request['actor'] });
      },
      ListTenantStats: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { tenants: [{ tenantId: 'x', queued: 3, inFlight: 1, weight: 1 }], replica: 'test' }),
      ExplainTenant: (c: grpc.ServerUnaryCall<{ tenantId: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { tenantId: c.request.tenantId, state: 'no-tokens', reason: 'out of rate tokens', detailsJson: JSON.stringify({ tokens: 0 }) }),
    });
    const port = await bindServer(grpcServer, '127.0.0.1:0');
    catalog = new TenantCatalogGateway(`127.0.0.1:${port}`);
    scheduler = new SchedulerAdminGateway(`127.0.0.1:${port}`);
    schedulerDown = new SchedulerAdminGateway('127.0.0.1:1', 1_000);
    const adminApp = createAdminApp({ tokens: new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }), catalog, scheduler, ownerPool: pools.owner, log });
    const adm = await listen(adminApp);
    servers.push(adm.server);
    admin = adm.url;
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    catalog.close();
    scheduler.close();
    schedulerDown.close();
    grpcServer.forceShutdown();
    await producer.disconnect();
    await deleteTopics(kafka, topics).catch(() => undefined);
    await pools.owner.query("DELETE FROM audit_log WHERE chain = ANY($1::text[])", [created]).catch(() => undefined);
    await dropTestTenants(pools.owner, created);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await pools.end();
  });

  it('shares one token bucket between replicas: burst 5 admits 5 of 10 requests sent to both, then 429 with Retry-After and RateLimit headers', async () => {
    const t = await tenant({ rate: 0.01, burst: 5 });
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await call(i % 2 === 0 ? edgeA : edgeB, 'GET', '/v1/jobs?limit=1', { auth: t.bearer });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(refused?.body['code']).toBe('RATE_LIMITED');
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused?.headers.get('ratelimit-policy')).toBe('"tenant";q=5;w=500');
    expect(refused?.headers.get('ratelimit')).toMatch(/^"tenant";r=0;t=\d+$/);
  });

  it('limits concurrent requests across replicas: with two in progress and maxInFlight 2, a third is 429 CONCURRENCY_LIMITED', async () => {
    const t = await tenant({ maxInFlight: 2 });
    // A request whose body has not fully arrived holds its slot: admission runs before the body is read.
    const hold = (base: string) => {
      const url = new URL(`${base}/v1/jobs`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: t.bearer, 'content-type': 'application/json', 'content-length': '60' } });
      const done = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.write('{"type":"synthetic",');
      return { finish: () => req.end('"params":{"ms":1}}'.padEnd(40, ' ')), done };
    };
    const first = hold(edgeA);
    const second = hold(edgeB);
    // Ready when both replicas have recorded their request in the shared in-flight set.
    const deadline = Date.now() + 10_000;
    const inflightKey = `${prefix}inflight:{${t.id}}`;
    while ((await redis.zcard(inflightKey)) < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await redis.zcard(inflightKey)).toBe(2);
    const third = await call(edgeA, 'GET', '/v1/jobs?limit=1', { auth: t.bearer });
    expect(third.status).toBe(429);
    expect(third.body['code']).toBe('CONCURRENCY_LIMITED');
    first.finish();
    second.finish();
    expect(await first.done).toBe(202);
    expect(await second.done).toBe(202);
    expect((await call(edgeB, 'GET', '/v1/jobs?limit=1', { auth: t.bearer })).status).toBe(200);
  });

  it('replays an Idempotency-Key with the same body as the same job on either replica, and refuses it with another body (422)', async () => {
    const t = await tenant();
    const headers = { 'idempotency-key': `order-${randomUUID()}` };
    const first = await call(edgeA, 'POST', '/v1/jobs', { auth: t.bearer, headers, body: { type: 'synthetic', params: { ms: 1 } } });
    const again = await call(edgeB, 'POST', '/v1/jobs', { auth: t.bearer, headers, body: { type: 'synthetic', params: { ms: 1 } } });
    const other = await call(edgeB, 'POST', '/v1/jobs', { auth: t.bearer, headers, body: { type: 'synthetic', params: { ms: 2 } } });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body['id']).toBe(first.body['id']);
    expect(other.status).toBe(422);
    expect(other.body['code']).toBe('IDEMPOTENCY_KEY_REUSED');
    const fresh = await call(edgeA, 'POST', '/v1/jobs', { auth: t.bearer, headers: { 'idempotency-key': `order-${randomUUID()}` }, body: { type: 'synthetic', params: { ms: 2 } } });
    expect(fresh.status).toBe(202);
    expect(fresh.body['id']).not.toBe(first.body['id']);
  });

  it('answers 503 BROKER_UNAVAILABLE with Retry-After, never 202, when Kafka cannot take the write', async () => {
    const t = await tenant();
    const res = await call(shedding, 'POST', '/v1/jobs', { auth: t.bearer, body: { type: 'synthetic', params: { ms: 1 } } });
    expect(res.status).toBe(503);
    expect(res.body['code']).toBe('BROKER_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('3');
  });

  it('lists jobs by state and type with a cursor, cancels a queued job, and refuses to cancel a running one (409)', async () => {
    const t = await tenant();
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      await pools.scheduler.query(
        `INSERT INTO jobs (id, tenant_id, type, job_class, state, accepted_at) VALUES ($1, $2, 'synthetic', 'standard', $3, now() - make_interval(secs => $4))`,
        [id, t.id, i === 4 ? 'running' : 'queued', 10 - i],
      );
    }
    const page1 = await call(edgeA, 'GET', '/v1/jobs?state=queued&type=synthetic&limit=2', { auth: t.bearer });
    expect(page1.status).toBe(200);
    const items1 = page1.body['items'] as Array<{ id: string }>;
    expect(items1.map((j) => j.id)).toEqual([ids[3], ids[2]]);
    const page2 = await call(edgeB, 'GET', `/v1/jobs?state=queued&limit=2&cursor=${String(page1.body['nextCursor'])}`, { auth: t.bearer });
    expect((page2.body['items'] as Array<{ id: string }>).map((j) => j.id)).toEqual([ids[1], ids[0]]);
    expect(page2.body['nextCursor']).toBeNull();
    const all = await call(edgeB, 'GET', '/v1/jobs?limit=100', { auth: t.bearer });
    expect((all.body['items'] as Array<{ id: string }>).map((j) => j.id)).toEqual([...ids].reverse());
    expect((await call(edgeA, 'GET', '/v1/jobs?cursor=bm9wZQ', { auth: t.bearer })).body['code']).toBe('VALIDATION_FAILED');
    expect((await call(edgeA, 'GET', '/v1/jobs?state=sleeping', { auth: t.bearer })).status).toBe(400);

    const cancelled = await call(edgeA, 'DELETE', `/v1/jobs/${ids[0]}`, { auth: t.bearer });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body['state']).toBe('cancelled');
    const running = await call(edgeA, 'DELETE', `/v1/jobs/${ids[4]}`, { auth: t.bearer });
    expect(running.status).toBe(409);
    expect(running.body).toMatchObject({ code: 'JOB_NOT_CANCELLABLE', state: 'running' });
    const again = await call(edgeA, 'DELETE', `/v1/jobs/${ids[0]}`, { auth: t.bearer });
    expect(again.body).toMatchObject({ code: 'JOB_NOT_CANCELLABLE', state: 'cancelled' });

    const other = await tenant();
    expect((await call(edgeA, 'DELETE', `/v1/jobs/${ids[1]}`, { auth: other.bearer })).status).toBe(404);
    const { rows } = await pools.scheduler.query<{ state: string }>('SELECT state FROM jobs WHERE id = $1', [ids[1]]);
    expect(rows[0]?.state).toBe('queued');
  });

  it('answers 404 NOT_FOUND for the result of a job with no stored artifact', async () => {
    const t = await tenant();
    const id = randomUUID();
    await pools.scheduler.query(`INSERT INTO jobs (id, tenant_id, type, job_class, state, accepted_at, finished_at) VALUES ($1, $2, 'synthetic', 'standard', 'succeeded', now(), now())`, [id, t.id]);
    const res = await call(edgeA, 'GET', `/v1/jobs/${id}/result`, { auth: t.bearer });
    expect(res.status).toBe(404);
    expect(res.body['code']).toBe('NOT_FOUND');
  });

  it('serves an OpenAPI 3.1 document that lists every public route', async () => {
    const res = await call(edgeA, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.text) as { openapi: string; paths: Record<string, Record<string, { responses: object }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const [method, path] of PUBLIC_ROUTES) expect(doc.paths[path]?.[method]?.responses).toBeDefined();
    // Every $ref resolves to a component that exists.
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components.schemas[ref]).toBeDefined();
    expect(doc.components.schemas['CreateJobRequest']).toMatchObject({ type: 'object', required: ['type'] });
  });

  it('admits only operator tokens on the admin API', async () => {
    const t = await tenant();
    expect((await call(admin, 'GET', '/admin/v1/stats')).status).toBe(401);
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: t.bearer })).body['code']).toBe('FORBIDDEN');
    const both = `Bearer ${await token({ role: 'operator', tenant_id: t.id })}`;
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: both })).status).toBe(403);
    const operator = `Bearer ${await token({ role: 'operator', sub: 'alice' })}`;
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: operator })).status).toBe(200);
    expect((await call(edgeA, 'GET', '/v1/jobs', { auth: operator })).body['code']).toBe('FORBIDDEN');
  });

  it('issues an API key that works on both replicas, records its use, and stops working once revoked; every step is audited', async () => {
    const t = await tenant();
    const operator = `Bearer ${await token({ role: 'operator', sub: 'alice' })}`;
    const issued = await call(admin, 'POST', `/admin/v1/tenants/${t.id}/api-keys`, { auth: operator });
    expect(issued.status).toBe(201);
    const key = String(issued.body['key']);
    expect(key).toMatch(/^fwk_[0-9a-f]{12}_/);
    const stored = await pools.owner.query<{ hash: string }>('SELECT hash FROM api_keys WHERE id = $1', [issued.body['id']]);
    expect(stored.rows[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0]?.hash).not.toContain(key.slice(17));

    expect((await call(edgeA, 'GET', '/v1/jobs', { auth: `ApiKey ${key}` })).status).toBe(200);
    expect((await call(edgeB, 'POST', '/v1/jobs', { auth: `ApiKey ${key}`, body: { type: 'synthetic', params: { ms: 1 } } })).status).toBe(202);
    const deadline = Date.now() + 10_000;
    let used: Date | null = null;
    while (!used && Date.now() < deadline) {
      used = (await pools.owner.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_keys WHERE id = $1', [issued.body['id']])).rows[0]?.last_used_at ?? null;
    }
    expect(used).toBeInstanceOf(Date);

    const revoked = await call(admin, 'DELETE', `/admin/v1/tenants/${t.id}/api-keys/${String(issued.body['id'])}`, { auth: operator });
    expect(revoked.status).toBe(200);
    expect(revoked.body['revokedAt']).toEqual(expect.any(String));
    let after = await call(edgeA, 'GET', '/v1/jobs', { auth: `ApiKey ${key}` });
    while (after.status === 200 && Date.now() < deadline) after = await call(edgeA, 'GET', '/v1/jobs', { auth: `ApiKey ${key}` });
    expect(after.status).toBe(401);
    expect((await call(admin, 'DELETE', `/admin/v1/tenants/${t.id}/api-keys/${randomUUID()}`, { auth: operator })).status).toBe(404);

    const audit = await call(admin, 'GET', `/admin/v1/audit?tenant=${t.id}&actor=alice`, { auth: operator });
    expect((audit.body['entries'] as Array<{ action: string }>).map((e) => e.action)).toEqual(['key.issue', 'key.revoke']);
    expect(JSON.stringify(audit.body)).not.toContain(key.slice(17));
    const verified = await call(admin, 'GET', `/admin/v1/audit/verify?tenant=${t.id}`, { auth: operator });
    expect(verified.body).toMatchObject({ ok: true, entries: 2 });
  });

  it('creates, suspends, resumes and deletes tenants through the TenantCatalog, and the edge follows the status', async () => {
    const operator = `Bearer ${await token({ role: 'operator', sub: 'bob' })}`;
    const id = uniqueTenantId('adm');
    created.push(id);
    const made = await call(admin, 'POST', '/admin/v1/tenants', { auth: operator, body: { id, displayName: 'Admin Test', plan: 'standard' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ id, displayName: 'Admin Test', status: 'active' });
    expect((await call(admin, 'POST', '/admin/v1/tenants', { auth: operator, body: { id: 'Not Valid!' } })).status).toBe(400);
    expect((await call(admin, 'GET', `/admin/v1/tenants/${id}`, { auth: operator })).body['id']).toBe(id);
    expect((await call(admin, 'GET', '/admin/v1/tenants/nobody-here', { auth: operator })).body['code']).toBe('NOT_FOUND');

    const bearer = `Bearer ${await token({ tenant_id: id })}`;
    expect((await call(admin, 'POST', `/admin/v1/tenants/${id}/suspend`, { auth: operator })).body['status']).toBe('suspended');
    const deadline = Date.now() + 10_000;
    let res = await call(edgeA, 'GET', '/v1/jobs', { auth: bearer });
    while (res.status === 200 && Date.now() < deadline) res = await call(edgeA, 'GET', '/v1/jobs', { auth: bearer });
    expect(res.body['code']).toBe('TENANT_SUSPENDED');
    expect((await call(admin, 'POST', `/admin/v1/tenants/${id}/resume`, { auth: operator })).body['status']).toBe('active');
    expect((await call(admin, 'DELETE', `/admin/v1/tenants/${id}`, { auth: operator })).body['status']).toBe('deleted');

    const audit = await call(admin, 'GET', `/admin/v1/audit?tenant=${id}`, { auth: operator });
    const entries = audit.body['entries'] as Array<{ action: string; actor: string; before?: { status: string }; after?: { status: string } }>;
    expect(entries.map((e) => [e.action, e.actor, e.before?.status, e.after?.status])).toEqual([
      ['tenant.create', 'bob', undefined, 'active'],
      ['tenant.suspend', 'bob', 'active', 'suspended'],
      ['tenant.resume', 'bob', 'suspended', 'active'],
      ['tenant.delete', 'bob', 'active', 'deleted'],
    ]);
  });

  it('reads and changes quotas, stats and explanations through SchedulerAdmin, and answers 503 when it is down', async () => {
    const t = await tenant();
    const operator = `Bearer ${await token({ role: 'operator', sub: 'carol' })}`;
    const quota = await call(admin, 'GET', `/admin/v1/tenants/${t.id}/quota`, { auth: operator });
    expect(quota.body).toEqual({ tenantId: t.id, weight: 2, rate: 10, burst: null, maxInFlight: 4, updatedAt: new Date(0).toISOString(), updatedBy: 'test' });
    const set = await call(admin, 'PUT', `/admin/v1/tenants/${t.id}/quota`, { auth: operator, body: { weight: 3, clear: ['rate'] } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ weight: 3, updatedBy: 'carol' });
    expect(quotaCalls.at(-1)).toMatchObject({ tenantId: t.id, weight: 3, clear: ['rate'], actor: 'carol' });
    expect((await call(admin, 'PUT', `/admin/v1/tenants/${t.id}/quota`, { auth: operator, body: { weight: -1 } })).status).toBe(400);
    expect((await call(admin, 'PUT', `/admin/v1/tenants/${t.id}/quota`, { auth: operator, body: {} })).status).toBe(400);
    expect((await call(admin, 'GET', '/admin/v1/stats', { auth: operator })).body).toMatchObject({ replica: 'test', tenants: [{ tenantId: 'x', queued: 3 }] });
    expect((await call(admin, 'GET', `/admin/v1/tenants/${t.id}/explain`, { auth: operator })).body).toEqual({ tenantId: t.id, state: 'no-tokens', reason: 'out of rate tokens', details: { tokens: 0 } });
    const audit = await call(admin, 'GET', `/admin/v1/audit?tenant=${t.id}&action=quota.set`, { auth: operator });
    expect(audit.body['entries']).toEqual([expect.objectContaining({ actor: 'carol', before: expect.objectContaining({ weight: 2 }), after: expect.objectContaining({ weight: 3 }) })]);

    const down = createAdminApp({ tokens: new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }), catalog, scheduler: schedulerDown, ownerPool: pools.owner, log });
    const { server, url } = await listen(down);
    try {
      const res = await call(url, 'GET', '/admin/v1/stats', { auth: operator });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstream: 'scheduler' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never answers 5xx to malformed, huge, deep, oddly encoded or header-injected requests (fuzz)', async () => {
    const t = await tenant({ rate: 100_000, burst: 100_000, maxInFlight: 1_000 });
    const { port } = new URL(edgeA);
    const paths = PUBLIC_ROUTES.map(([method, path]) => [method.toUpperCase(), path.replace('{id}', randomUUID())] as const);
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.fullUnicodeString({ maxLength: 200 }),
      fc.json({ maxDepth: 4 }),
      fc.constantFrom(deep(10_000), `{"type":"synthetic","params":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`, 'x'.repeat(200_000), '{"type":"synthetic","params":{"ms":1e400}}', '\uFEFF{}', '{"type":"\uD800"}', '{"__proto__":{"polluted":1},"type":"synthetic"}'),
    );
    const header = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('x\r\nX-Tenant-ID: other', 'acme\r\n\r\nGET / HTTP/1.1', '\u0000', 'é', t.id));
    const raw = (method: string, path: string, headers: Array<[string, string]>, payload: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        const bytes = Buffer.from(payload, 'utf8');
        const head = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Authorization: ${t.bearer}`, `Content-Length: ${bytes.length}`, 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
        let response = '';
        socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
        socket.on('data', (d) => (response += d.toString('latin1')));
        socket.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(0) : reject(err)));
        socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)));
        socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), bytes]));
      });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        body,
        fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', 'application/json; charset=utf-8'),
        fc.constantFrom('X-Tenant-ID', 'Idempotency-Key', 'X-Request-ID', 'Traceparent', 'Baggage'),
        header,
        async ([method, path], payload, contentType, name, value) => {
          const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
          const status = await raw(method, path, [['Content-Type', contentType], [name, value]], text);
          // 0: the server refused to parse the request at all (Node's HTTP parser closes the socket).
          expect(status === 0 || (status >= 200 && status < 500)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
