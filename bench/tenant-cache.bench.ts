/**
 * Tenant cache benchmark: record lookups through RecordsRepository.get with the tenant cache in
 * Redis, and without it (baseline, same run, same operation sequence): PostgreSQL under RLS every time.
 *
 *   npm run -s bench:tenant-cache -- --json [--tenants 50] [--records 200] [--ops 20000] [--concurrency 8] [--write-ratio 0.05]
 *
 * Workload: `ops` operations from `concurrency` concurrent callers; each picks a tenant uniformly
 * and a record of it with a skewed choice (index = records * u^3, so a hot head, as lookups of
 * recent records are); a `write-ratio` share are updates (which invalidate), the rest gets. Sides:
 * `fairway-tenant-cache` (Redis at REDIS_URL, default budget), `postgres` (no cache), and
 * `fairway-tenant-cache-redis-down` (a Redis that does not answer: the fail-open path). Each side
 * runs the same sequence after a warm-up of its own; the cache side starts from an empty cache.
 * Everything runs in a throw-away database `fairway_bench_cache_<random>`, dropped at the end,
 * and a key prefix of its own, deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { dropBenchDatabases } from './lib/bench-databases';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { prepareDatabase, TenantDataRouter, createPool } from '@fairway/db';
import { RecordsRepository } from '@fairway/records';
import { TenantCache } from '@fairway/tenant-cache';
import { runWithTenant, tenantContext, type TenantId } from '@fairway/tenant-context';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface Operation {
  tenant: TenantId;
  record: number;
  write: boolean;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { meanMs: +(samples.reduce((s, x) => s + x, 0) / samples.length).toFixed(4), p50Ms: +at(0.5).toFixed(4), p99Ms: +at(0.99).toFixed(4) };
}

/** A deterministic PRNG (mulberry32), so every side runs the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      tenants: { type: 'string' },
      records: { type: 'string' },
      ops: { type: 'string' },
      concurrency: { type: 'string' },
      'write-ratio': { type: 'string' },
    },
  });
  const tenants = Number(values.tenants ?? 50);
  const recordsPerTenant = Number(values.records ?? 200);
  const ops = Number(values.ops ?? 20_000);
  const concurrency = Number(values.concurrency ?? 8);
  const writeRatio = Number(values['write-ratio'] ?? 0.05);
  const benchDb = `fairway_bench_cache_${randomBytes(3).toString('hex')}`;
  const prefix = `fairway-bench:cache:${randomBytes(3).toString('hex')}:`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[tenant-cache] preparing ${benchDb}: ${tenants} tenants x ${recordsPerTenant} records\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const pool = createPool({ connectionString: prepared.urls.app, max: concurrency, applicationName: 'bench-tenant-cache' });
  const data = new TenantDataRouter({ catalogPool: pool, catalogUrl: prepared.urls.app });
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, lazyConnect: true });
  const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  // The refused connection is the point of that side: its errors are expected, not news.
  down.on('error', () => undefined);
  const results: Array<Record<string, unknown>> = [];
  try {
    await redis.connect();
    await admin.query(`INSERT INTO tenants (id, slug, display_name) SELECT 'bc-' || i, 'bc-' || i, 'bench ' || i FROM generate_series(0, $1 - 1) AS i`, [
      tenants,
    ]);
    await admin.query(
      `INSERT INTO records (tenant_id, id, title, body, amount, tags)
       SELECT 'bc-' || (i % $2), gen_random_uuid(), 'record ' || i, repeat('b', 200), (i % 1000) / 10.0, ARRAY['t' || (i % 7)]
         FROM generate_series(0, $1 - 1) AS i`,
      [tenants * recordsPerTenant, tenants],
    );
    await admin.query('ANALYZE records');
    const { rows } = await admin.query<{ tenant_id: string; ids: string[] }>(
      'SELECT tenant_id, array_agg(id ORDER BY id) AS ids FROM records GROUP BY tenant_id',
    );
    const ids = new Map(rows.map((r) => [r.tenant_id, r.ids]));
    await data.start();

    const random = prng(19);
    const sequence: Operation[] = Array.from({ length: ops }, () => ({
      tenant: `bc-${Math.floor(random() * tenants)}` as TenantId,
      record: Math.floor(recordsPerTenant * random() ** 3),
      write: random() < writeRatio,
    }));

    const sides: Array<{ impl: string; client?: Redis }> = [
      { impl: 'postgres' },
      { impl: 'fairway-tenant-cache', client: redis },
      { impl: 'fairway-tenant-cache-redis-down', client: down },
    ];
    for (const side of sides) {
      const registry = new Registry();
      const cache = side.client
        ? new TenantCache(side.client, { prefix, ttlMs: 60_000, maxKeysPerTenant: 2_000, maxBytesPerTenant: 4 * 1024 * 1024, registry })
        : undefined;
      const repository = new RecordsRepository(data, undefined, cache);
      const run = async (operations: readonly Operation[], samples: number[]) => {
        let next = 0;
        const worker = async () => {
          for (let i = next++; i < operations.length; i = next++) {
            const op = operations[i]!;
            const id = ids.get(op.tenant)![op.record]!;
            // The edge runs each request in its tenant's scope; so does this caller.
            await runWithTenant(tenantContext(op.tenant, 'jwt'), async () => {
              if (op.write) {
                await repository.update(op.tenant, id, { title: `updated ${i}` });
                return;
              }
              const t0 = performance.now();
              await repository.get(op.tenant, id);
              samples.push(performance.now() - t0);
            });
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
      };
      await run(
        sequence.slice(0, Math.min(2_000, ops)).map((op) => ({ ...op, write: false })),
        [],
      );
      if (cache)
        await Promise.all(
          Array.from({ length: tenants }, (_, i) => runWithTenant(tenantContext(`bc-${i}` as TenantId, 'system'), () => cache.purgeTenant().catch(() => 0))),
        );
      // The counters of the measured run only: the warm-up's reads are subtracted.
      // prom-client's get() hands out its live sample objects: copy the sums at once.
      const counts = async (): Promise<(outcome: string) => number> => {
        const reads = cache ? await registry.getSingleMetric('fairway_tenant_cache_reads_total')!.get() : undefined;
        const sums = new Map<string, number>();
        for (const v of reads?.values ?? []) sums.set(String(v.labels['outcome']), (sums.get(String(v.labels['outcome'])) ?? 0) + v.value);
        return (outcome) => sums.get(outcome) ?? 0;
      };
      const before = await counts();
      const samples: number[] = [];
      const t0 = performance.now();
      await run(sequence, samples);
      const seconds = (performance.now() - t0) / 1000;
      const after = await counts();
      const count = (outcome: string) => after(outcome) - before(outcome);
      const hits = count('hit');
      const lookups = hits + count('miss');
      const result = {
        impl: side.impl,
        tenants,
        recordsPerTenant,
        ops,
        concurrency,
        writeRatio,
        opsPerSec: Math.round(ops / seconds),
        gets: samples.length,
        ...summary(samples),
        ...(cache ? { hitRate: lookups === 0 ? 0 : +(hits / lookups).toFixed(4), bypassed: count('bypass') + count('error') } : {}),
      };
      results.push(result);
      process.stderr.write(
        `[tenant-cache] ${side.impl}: ${result.opsPerSec} ops/s, get p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms${cache ? `, hit rate ${result.hitRate}` : ''}\n`,
      );
      cache?.close();
    }
  } finally {
    await data.close();
    await pool.end();
    await admin.end();
    let cursor = '0';
    if (redis.status === 'ready') {
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    redis.disconnect();
    down.disconnect();
    await dropBenchDatabases(ADMIN, { names: [benchDb] });
    process.stderr.write(`[tenant-cache] dropped ${benchDb}\n`);
  }
  const out = { benchmark: 'tenant-cache', results };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:tenant-cache failed: ${(err as Error).stack}`);
  process.exit(1);
});
