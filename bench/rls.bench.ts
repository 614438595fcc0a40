/**
 * Row-level security benchmark: the same query under RLS and with an explicit tenant filter, on the
 * pooled `records` table holding a million rows across 1,000 tenants.
 *
 *   npm run -s bench:rls -- --json [--rows 1000000] [--tenants 1000] [--iterations 2000]
 *
 * fairway-rls: as the application role, in a transaction with app.tenant_id set locally (what the
 * TenantDataRouter does), the query names no tenant; the policy `tenant_id = (SELECT
 * current_setting('app.tenant_id', true))` filters. explicit-filter (baseline, same run): the same
 * query with `WHERE tenant_id = $1`, as a role that RLS does not apply to (the superuser), so the
 * baseline pays nothing for RLS. Two queries: a page (50 newest ids, the cursor index) and an
 * aggregate (count and sum of amount). Timed: the query statement alone, iterations interleaved
 * over random tenants after a warm-up. Everything runs in a throw-away database
 * `fairway_bench_rls_<random>`, dropped at the end. Target: RLS within 1.2x of the explicit filter.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { dropBenchDatabases } from './lib/bench-databases';
import { prepareDatabase } from '@fairway/db';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const QUERIES = {
  page: {
    rls: 'SELECT id, title, amount FROM records ORDER BY id DESC LIMIT 50',
    explicit: 'SELECT id, title, amount FROM records WHERE tenant_id = $1 ORDER BY id DESC LIMIT 50',
  },
  aggregate: { rls: 'SELECT count(*), sum(amount) FROM records', explicit: 'SELECT count(*), sum(amount) FROM records WHERE tenant_id = $1' },
} as const;

function summary(samples: number[]) {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { meanMs: +(samples.reduce((s, x) => s + x, 0) / samples.length).toFixed(4), p50Ms: +at(0.5).toFixed(4), p99Ms: +at(0.99).toFixed(4) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean' }, rows: { type: 'string' }, tenants: { type: 'string' }, iterations: { type: 'string' } },
  });
  const rows = Number(values.rows ?? 1_000_000);
  const tenants = Number(values.tenants ?? 1000);
  const iterations = Number(values.iterations ?? 2000);
  const benchDb = `fairway_bench_rls_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[rls] preparing ${benchDb}: ${rows} records across ${tenants} tenants\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const admin = new Client({ connectionString: adminUrl.toString() });
  const app = new Client({ connectionString: prepared.urls.app });
  await admin.connect();
  await app.connect();
  const results: Array<Record<string, unknown>> = [];
  try {
    await admin.query(`INSERT INTO tenants (id, slug, display_name) SELECT 'rls-' || i, 'rls-' || i, 'bench ' || i FROM generate_series(0, $1 - 1) AS i`, [
      tenants,
    ]);
    const t0 = performance.now();
    // UUIDv7-like ids (time-ordered) are what the repository writes; gen_random_uuid() is close
    // enough for the index shapes measured here.
    await admin.query(
      `INSERT INTO records (tenant_id, id, title, amount, tags)
       SELECT 'rls-' || (i % $2), gen_random_uuid(), 'record ' || i, (i % 1000) / 10.0, ARRAY['t' || (i % 7)]
         FROM generate_series(1, $1) AS i`,
      [rows, tenants],
    );
    await admin.query('ANALYZE records');
    process.stderr.write(`[rls] loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const plan = await app.query("BEGIN; SELECT set_config('app.tenant_id', 'rls-1', true)").then(async () => {
      const p = await app.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${QUERIES.page.rls}`);
      await app.query('COMMIT');
      return p.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    process.stderr.write(`[rls] plan of the page query under RLS:\n${plan}\n`);

    for (const [name, query] of Object.entries(QUERIES)) {
      const rls: number[] = [];
      const explicit: number[] = [];
      for (let i = -200; i < iterations; i += 1) {
        const tenant = `rls-${Math.floor(Math.random() * tenants)}`;
        await app.query('BEGIN');
        await app.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
        const a0 = performance.now();
        const r1 = await app.query(query.rls);
        const a1 = performance.now();
        await app.query('COMMIT');
        const b0 = performance.now();
        const r2 = await admin.query(query.explicit, [tenant]);
        const b1 = performance.now();
        if (JSON.stringify(r1.rows) !== JSON.stringify(r2.rows)) throw new Error(`RLS and the explicit filter disagree for ${tenant} on ${name}`);
        if (i >= 0) {
          rls.push(a1 - a0);
          explicit.push(b1 - b0);
        }
      }
      const r = summary(rls);
      const e = summary(explicit);
      results.push({ impl: 'fairway-rls', query: name, rows, tenants, iterations, ...r, ratioToExplicitMean: +(r.meanMs / e.meanMs).toFixed(3) });
      results.push({ impl: 'explicit-filter', query: name, rows, tenants, iterations, ...e });
      process.stderr.write(`[rls] ${name}: rls ${r.meanMs} ms, explicit ${e.meanMs} ms (x${(r.meanMs / e.meanMs).toFixed(2)})\n`);
    }
  } finally {
    await app.end();
    await admin.end();
    await dropBenchDatabases(ADMIN, { names: [benchDb] });
    process.stderr.write(`[rls] dropped ${benchDb}\n`);
  }
  const out = { benchmark: 'rls', target: 'fairway-rls mean within 1.2x of explicit-filter', results };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:rls failed: ${(err as Error).stack}`);
  process.exit(1);
});
