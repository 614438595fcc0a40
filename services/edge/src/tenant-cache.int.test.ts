import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { TestEdge } from './testing';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * The edge with its tenant cache (real PostgreSQL and Redis): final job status and the catalog
 * entry come from Redis under the request's tenant, a job still moving never does.
 */
describe('the edge reading through the tenant cache', () => {
  const edge = new TestEdge();
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });

  beforeAll(async () => {
    await edge.start({ cache: true });
  });

  afterAll(async () => {
    await edge.close();
    redis.disconnect();
  });

  async function getJob(authorization: string, id: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${edge.url}/v1/jobs/${id}`, { headers: { authorization } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** How many keys of `tenant` the edge's cache holds (SCAN). */
  async function cachedKeys(tenant: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*:cache:{${tenant}}:e:*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }

  it("serves a final job from the cache to its tenant only, and a running job's transitions at once", async () => {
    const a = await edge.tenant();
    const b = await edge.tenant();
    const done = randomUUID();
    const moving = randomUUID();
    await edge.pools.scheduler.query(
      `INSERT INTO jobs (id, tenant_id, type, job_class, state, accepted_at, finished_at, result)
       VALUES ($1, $3, 'report', 'standard', 'succeeded', now(), now(), '{"count": 3}'), ($2, $3, 'report', 'standard', 'running', now(), NULL, NULL)`,
      [done, moving, a.id],
    );
    const first = await getJob(a.authorization, done);
    expect(first.status).toBe(200);
    expect(first.body['result']).toEqual({ count: 3 });
    expect(await cachedKeys(a.id)).toEqual(expect.arrayContaining([expect.stringContaining(`:e:job:${done}`), expect.stringContaining(':e:tenant:entry')]));
    // The cached answer is the same answer (dates and all).
    expect((await getJob(a.authorization, done)).body).toEqual(first.body);
    // B asks for A's job id: its own key, its own query under RLS: not found, and nothing cached for B.
    expect((await getJob(b.authorization, done)).status).toBe(404);
    expect((await cachedKeys(b.id)).filter((key) => key.includes(':e:job:'))).toEqual([]);
    // A running job is never cached: its completion is visible on the next read.
    expect((await getJob(a.authorization, moving)).body['state']).toBe('running');
    expect((await cachedKeys(a.id)).some((key) => key.includes(moving))).toBe(false);
    await edge.pools.scheduler.query(`UPDATE jobs SET state = 'succeeded', finished_at = now() WHERE id = $1`, [moving]);
    expect((await getJob(a.authorization, moving)).body['state']).toBe('succeeded');
  });
});
