/**
 * Tenant migrations benchmark: N tenant schemas (default 1,000) through a three-step migration.
 *
 *   npm run -s bench:migrations -- --json [--tenants 1000] [--concurrency 8]
 *
 * fairway-parallel: migrateTenants() with `--concurrency` lanes (and so at most that many
 * connections). sequential (baseline, same run): the same runner with one lane, after the
 * schemas were dropped, so both start from nothing. Each run creates every schema and applies three
 * migrations (a table, an index, a column) with node-pg-migrate, recording versions in
 * tenant_migrations. Everything happens in a throw-away database
 * `fairway_bench_migrations_<random>`, dropped at the end; the three migrations are written to a
 * temporary folder, removed at the end. Target: < 60 s in parallel for 1,000 schemas.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { migrateTenants, prepareDatabase, schemaNameFor } from '@fairway/db';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const STEPS: Record<string, string> = {
  '1_bench-items.sql':
    '-- Up Migration\nCREATE TABLE items (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n-- Down Migration\nDROP TABLE items;\n',
  '2_bench-items-name.sql': '-- Up Migration\nCREATE INDEX items_name ON items (name);\n-- Down Migration\nDROP INDEX items_name;\n',
  '3_bench-items-price.sql':
    '-- Up Migration\nALTER TABLE items ADD COLUMN price numeric(12, 2) NOT NULL DEFAULT 0;\n-- Down Migration\nALTER TABLE items DROP COLUMN price;\n',
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, tenants: { type: 'string' }, concurrency: { type: 'string' } } });
  const tenants = Number(values.tenants ?? 1000);
  const concurrency = Number(values.concurrency ?? 8);
  const benchDb = `fairway_bench_migrations_${randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fairway-bench-migrations-'));
  for (const [file, sql] of Object.entries(STEPS)) fs.writeFileSync(path.join(dir, file), sql);
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[migrations] preparing ${benchDb} with ${tenants} schema tenants\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const results: Array<Record<string, unknown>> = [];
  try {
    await admin.query(
      `INSERT INTO tenants (id, slug, display_name, isolation_model, schema_name)
       SELECT 'mb-' || i, 'mb-' || i, 'bench ' || i, 'schema', 'tenant_mb_' || i FROM generate_series(1, $1) AS i`,
      [tenants],
    );
    if (schemaNameFor('mb-1') !== 'tenant_mb_1') throw new Error('schema naming changed; update the bench');
    const reset = async () => {
      for (let i = 1; i <= tenants; i += 1) await admin.query(`DROP SCHEMA IF EXISTS tenant_mb_${i} CASCADE`);
      await admin.query('DELETE FROM tenant_migrations');
    };
    for (const [impl, lanes] of [
      ['sequential', 1],
      ['fairway-parallel', concurrency],
    ] as const) {
      let last = 0;
      const t0 = performance.now();
      const result = await migrateTenants({ ownerUrl: prepared.urls.owner, dir, concurrency: lanes }, (event) => {
        if (event.completed - last >= 100 || event.completed === event.total) {
          last = event.completed;
          process.stderr.write(`[migrations] ${impl}: ${event.completed}/${event.total} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
        }
      });
      const ms = performance.now() - t0;
      if (result.failed.length > 0) throw new Error(`${result.failed.length} tenants failed, e.g. ${result.failed[0]?.tenantId}: ${result.failed[0]?.error}`);
      results.push({
        impl,
        tenants,
        steps: 3,
        concurrency: lanes,
        ms: Math.round(ms),
        tenantsPerSec: +((tenants / ms) * 1000).toFixed(1),
        migrated: result.migrated,
      });
      process.stderr.write(`[migrations] ${impl}: ${(ms / 1000).toFixed(1)} s; resetting\n`);
      await reset();
    }
  } finally {
    await admin.end();
    const server = new URL(ADMIN);
    server.pathname = '/postgres';
    const cleanup = new Client({ connectionString: server.toString() });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${benchDb}" WITH (FORCE)`);
    await cleanup.end();
    fs.rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`[migrations] dropped ${benchDb}\n`);
  }
  const parallel = results.find((r) => r['impl'] === 'fairway-parallel');
  const out = { benchmark: 'migrations', targetMs: 60_000, withinTarget: Number(parallel?.['ms']) < 60_000, results };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:migrations failed: ${(err as Error).stack}`);
  process.exit(1);
});
