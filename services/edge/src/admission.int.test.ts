import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AdmissionController, type Admission } from './admission';
import type { RequestLimits } from './tenant-limits';

describe('AdmissionController against the real Redis: requests of one turn decided together, as if one by one', () => {
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  const prefix = `fairway:admission-int:${randomUUID().slice(0, 8)}:`;
  const admission = new AdmissionController({ redis, keyPrefix: prefix, leaseMs: 15_000 });
  const inflight = (tenant: string) => redis.zcard(`${prefix}inflight:{${tenant}}`);

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** `n` admissions asked in the same turn of the event loop. */
  const burstOf = (tenant: string, limits: RequestLimits, n: number): Promise<Admission[]> =>
    Promise.all(Array.from({ length: n }, () => admission.admit(tenant, limits)));

  it('admits the first `burst` of a same-turn burst and refuses the rest for rate, with remaining counting down', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const decided = await burstOf(tenant, { rate: 0.01, burst: 4, maxInFlight: 100 }, 10);
    expect(decided.map((a) => a.admitted)).toEqual([true, true, true, true, false, false, false, false, false, false]);
    expect(decided.slice(0, 4).map((a) => a.remaining)).toEqual([3, 2, 1, 0]);
    expect(new Set(decided.slice(4).map((a) => a.refusedFor))).toEqual(new Set(['rate']));
    expect(decided[4]?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await inflight(tenant)).toBe(4);
  });

  it('refuses for concurrency, spending no token, when the slots run out before the tokens; releases free the slots', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const limits = { rate: 0.01, burst: 10, maxInFlight: 3 };
    const decided = await burstOf(tenant, limits, 5);
    expect(decided.filter((a) => a.admitted)).toHaveLength(3);
    expect(decided.filter((a) => !a.admitted).map((a) => a.refusedFor)).toEqual(['concurrency', 'concurrency']);
    expect(await inflight(tenant)).toBe(3);

    for (const a of decided) a.release();
    // Releases leave together at the end of the turn; wait for them to land.
    const deadline = Date.now() + 5_000;
    while ((await inflight(tenant)) > 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(await inflight(tenant)).toBe(0);

    // The two concurrency refusals spent no token: 10 - 3 = 7 are left for the next burst.
    const next = await burstOf(tenant, { ...limits, maxInFlight: 100 }, 9);
    expect(next.filter((a) => a.admitted)).toHaveLength(7);
  });

  it('keeps tenants apart within one turn', async () => {
    const [a, b] = [`t-${randomUUID().slice(0, 8)}`, `t-${randomUUID().slice(0, 8)}`];
    const limits = { rate: 0.01, burst: 2, maxInFlight: 100 };
    const [forA, forB] = await Promise.all([burstOf(a, limits, 3), burstOf(b, limits, 3)]);
    expect(forA.map((x) => x.admitted)).toEqual([true, true, false]);
    expect(forB.map((x) => x.admitted)).toEqual([true, true, false]);
  });

  it('falls back to per-replica limits, still deciding every request, when Redis is unreachable', async () => {
    const offline = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    let fallbacks = 0;
    const local = new AdmissionController({ redis: offline, keyPrefix: prefix, leaseMs: 15_000, onFallback: () => (fallbacks += 1) });
    const decided = await Promise.all(Array.from({ length: 3 }, () => local.admit('offline-tenant', { rate: 1, burst: 2, maxInFlight: 100 })));
    expect(decided.map((a) => [a.admitted, a.store])).toEqual([
      [true, 'local'],
      [true, 'local'],
      [false, 'local'],
    ]);
    expect(fallbacks).toBe(1);
    offline.disconnect();
  });
});
