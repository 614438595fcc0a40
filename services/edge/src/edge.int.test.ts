import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import type { Producer } from 'kafkajs';
import { createTestTenant, dropTestTenants, testPools } from '@fairway/db/testing';
import { createIdempotentProducer, createKafka, GroupCommitPublisher } from '@fairway/kafka';
import { deleteTopics, testKafka, uniqueTopics } from '@fairway/kafka/testing';
import { createLogger } from '@fairway/telemetry';
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

async function call(
  base: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
) {
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
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await producer.disconnect();
    await deleteTopics(kafka, topics).catch(() => undefined);
    await pools.owner.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [created]).catch(() => undefined);
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
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: t.bearer, 'content-type': 'application/json', 'content-length': '60' },
      });
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
    const fresh = await call(edgeA, 'POST', '/v1/jobs', {
      auth: t.bearer,
      headers: { 'idempotency-key': `order-${randomUUID()}` },
      body: { type: 'synthetic', params: { ms: 2 } },
    });
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
    await pools.scheduler.query(
      `INSERT INTO jobs (id, tenant_id, type, job_class, state, accepted_at, finished_at) VALUES ($1, $2, 'synthetic', 'standard', 'succeeded', now(), now())`,
      [id, t.id],
    );
    const res = await call(edgeA, 'GET', `/v1/jobs/${id}/result`, { auth: t.bearer });
    expect(res.status).toBe(404);
    expect(res.body['code']).toBe('NOT_FOUND');
  });

  it('serves an OpenAPI 3.1 document that lists every public route', async () => {
    const res = await call(edgeA, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.text) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: object }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const [method, path] of PUBLIC_ROUTES) expect(doc.paths[path]?.[method]?.responses).toBeDefined();
    // Every $ref resolves to a component that exists.
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components.schemas[ref]).toBeDefined();
    expect(doc.components.schemas['CreateJobRequest']).toMatchObject({ type: 'object', required: ['type'] });
  });

  it('refuses an operator token on the public API: operators act through the admin plane only', async () => {
    const operator = `Bearer ${await token({ role: 'operator', sub: 'alice' })}`;
    expect((await call(edgeA, 'GET', '/v1/jobs', { auth: operator })).body['code']).toBe('FORBIDDEN');
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
      fc.constantFrom(
        deep(10_000),
        `{"type":"synthetic","params":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
        'x'.repeat(200_000),
        '{"type":"synthetic","params":{"ms":1e400}}',
        '\uFEFF{}',
        '{"type":"\uD800"}',
        '{"__proto__":{"polluted":1},"type":"synthetic"}',
      ),
    );
    const header = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('x\r\nX-Tenant-ID: other', 'acme\r\n\r\nGET / HTTP/1.1', '\u0000', 'é', t.id));
    const raw = (method: string, path: string, headers: Array<[string, string]>, payload: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        const bytes = Buffer.from(payload, 'utf8');
        const head = [
          `${method} ${path} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          `Authorization: ${t.bearer}`,
          `Content-Length: ${bytes.length}`,
          'Connection: close',
          ...headers.map(([k, v]) => `${k}: ${v}`),
        ].join('\r\n');
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
          const status = await raw(
            method,
            path,
            [
              ['Content-Type', contentType],
              [name, value],
            ],
            text,
          );
          // 0: the server refused to parse the request at all (Node's HTTP parser closes the socket).
          expect(status === 0 || (status >= 200 && status < 500)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
