import { randomBytes } from 'node:crypto';
import type { ApiKeyLookup } from './api-keys';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { TestEdge } from './testing';

/** A key shaped like a real one (`fwk_<12 hex>_<43 chars>`) whose prefix no tenant holds. */
const unknownKey = (prefix = randomBytes(6).toString('hex')) => `ApiKey fwk_${prefix}_${randomBytes(32).toString('base64url')}`;

/** Wraps the real PostgreSQL lookup and counts the prefixes that reach it (each one a query). */
function counting(lookups: string[]): (store: ApiKeyLookup) => ApiKeyLookup {
  return (store) => ({
    byPrefix: (prefix) => {
      lookups.push(prefix);
      return store.byPrefix(prefix);
    },
    touch: (id) => store.touch(id),
  });
}

async function get(edge: TestEdge, path: string, headers: Record<string, string>) {
  const res = await fetch(`${edge.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, contentType: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
}

describe('unauthenticated requests cost the database at most once per unknown API key prefix', () => {
  const lookups: string[] = [];
  const edge = new TestEdge();

  beforeAll(() => edge.start({ apiKeys: counting(lookups), failedAuth: new FailedAuthLimiter({ maxFailures: 1_000 }) }));
  afterAll(() => edge.close());

  it('looks an unknown prefix up once, and answers its repetitions 401 from memory', async () => {
    const prefix = randomBytes(6).toString('hex');
    for (let i = 0; i < 5; i += 1) {
      const res = await get(edge, '/v1/jobs', { authorization: unknownKey(prefix) });
      expect(res.status).toBe(401);
      expect(res.body['code']).toBe('UNAUTHENTICATED');
    }
    expect(lookups.filter((p) => p === prefix)).toHaveLength(1);
  });
});

describe('a client that keeps failing authentication is throttled before any lookup (AUTHENTICATION_THROTTLED)', () => {
  const lookups: string[] = [];
  const edge = new TestEdge();
  // Long tenant cache: the "verified moments ago" credential below must stay decided from the caches.
  // Loopback is the proxy here: a request with X-Forwarded-For is that client's, one without it the test's own.
  beforeAll(() =>
    edge.start({
      apiKeys: counting(lookups),
      failedAuth: new FailedAuthLimiter({ maxFailures: 3, blockMs: 60_000 }),
      tenantCacheTtlMs: 60_000,
      trustProxy: 'loopback',
    }),
  );
  afterAll(() => edge.close());

  it('counts neither a refusal of a valid credential (403) nor a success, refuses the 4th request after 3 failures with 429 and Retry-After, and still serves a credential verified moments ago', async () => {
    const known = await edge.tenant();
    expect((await get(edge, '/v1/jobs', { authorization: known.authorization })).status).toBe(200);
    // A valid credential refused for its tenant header is not a failed authentication.
    for (let i = 0; i < 5; i += 1) {
      expect((await get(edge, '/v1/jobs', { authorization: known.authorization, 'x-tenant-id': 'someone-else' })).status).toBe(403);
    }

    for (let i = 0; i < 3; i += 1) expect((await get(edge, '/v1/jobs', { authorization: unknownKey() })).status).toBe(401);
    expect(lookups).toHaveLength(3);

    const throttled = await get(edge, '/v1/jobs', { authorization: unknownKey() });
    expect(throttled.status).toBe(429);
    expect(throttled.contentType).toMatch(/^application\/problem\+json/);
    expect(throttled.body).toMatchObject({ status: 429, code: 'AUTHENTICATION_THROTTLED' });
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Refused before the lookup: the store saw no 4th prefix.
    expect(lookups).toHaveLength(3);
    // No credential at all is refused the same way.
    expect((await get(edge, '/v1/jobs', {})).body['code']).toBe('AUTHENTICATION_THROTTLED');

    // The credential the edge verified moments ago is decided from its caches, at no cost: served.
    expect((await get(edge, '/v1/jobs', { authorization: known.authorization })).status).toBe(200);
    // A credential never seen would need a lookup: refused until Retry-After.
    const fresh = await edge.tenant();
    expect((await get(edge, '/v1/jobs', { authorization: fresh.authorization })).body['code']).toBe('AUTHENTICATION_THROTTLED');
  });

  it('behind a trusted proxy, throttles the client X-Forwarded-For names, not every client of the proxy', async () => {
    for (let i = 0; i < 3; i += 1) expect((await get(edge, '/v1/jobs', { authorization: unknownKey(), 'x-forwarded-for': '203.0.113.7' })).status).toBe(401);
    expect((await get(edge, '/v1/jobs', { authorization: unknownKey(), 'x-forwarded-for': '203.0.113.7' })).body['code']).toBe('AUTHENTICATION_THROTTLED');
    const before = lookups.length;
    expect((await get(edge, '/v1/jobs', { authorization: unknownKey(), 'x-forwarded-for': '198.51.100.1' })).body['code']).toBe('UNAUTHENTICATED');
    expect(lookups).toHaveLength(before + 1);
  });
});
