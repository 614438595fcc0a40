/**
 * Onboarding benchmark: time to a USABLE tenant, per isolation model.
 *
 *   npm run -s bench:onboarding -- --json [--pooled 30] [--schema 10] [--database 4]
 *
 * fairway: provisionTenant() through the control plane's code path (catalog entry, schema or
 * database created and migrated with node-pg-migrate, status active) followed by the first write
 * and read of a record through a TenantDataRouter, as the application role: the tenant is usable.
 * raw-ddl (baseline, same run): the bare minimum PostgreSQL work for the same model, with no
 * catalog, no migration bookkeeping and no router (pooled: one INSERT into tenants; schema: CREATE
 * SCHEMA + CREATE TABLE; database: CREATE DATABASE + CREATE TABLE). Everything runs in a throw-away
 * database `fairway_bench_onboarding_<random>` that is dropped at the end, with its tenant databases.
 * Targets: pooled < 100 ms, schema < 2 s, database < 10 s. Progress to stderr, JSON to stdout.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { dropBenchDatabases } from './lib/bench-databases';
import { createPool, prepareDatabase, provisionTenant, TenantDataRouter, type IsolationModel } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function stats(samples: number[]) {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    n: samples.length,
    p50Ms: +at(0.5).toFixed(1),
    maxMs: +(sorted[sorted.length - 1] ?? 0).toFixed(1),
    meanMs: +(samples.reduce((s, x) => s + x, 0) / samples.length).toFixed(1),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean' }, pooled: { type: 'string' }, schema: { type: 'string' }, database: { type: 'string' } },
  });
  const counts: Record<IsolationModel, number> = {
    pooled: Number(values.pooled ?? 30),
    schema: Number(values.schema ?? 10),
    database: Number(values.database ?? 4),
  };
  const benchDb = `fairway_bench_onboarding_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[onboarding] preparing ${benchDb}\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-onboarding-owner', max: 4 });
  const app = createPool({ connectionString: prepared.urls.app, applicationName: 'bench-onboarding-app', max: 4 });
  const router = new TenantDataRouter({ catalogPool: app, catalogUrl: prepared.urls.app, listen: false });
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const results: Array<Record<string, unknown>> = [];
  const targets: Record<IsolationModel, number> = { pooled: 100, schema: 2_000, database: 10_000 };
  try {
    for (const model of ['pooled', 'schema', 'database'] as const) {
      const fairway: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < counts[model]; i += 1) {
        const id = `bench-${model.slice(0, 2)}-${i}` as TenantId;
        const t0 = performance.now();
        await provisionTenant({ ownerPool: owner, ownerUrl: prepared.urls.owner }, { id, isolationModel: model });
        await router.withTenant(id, async (tx) => {
          await tx.query(`INSERT INTO records (id, title) VALUES (gen_random_uuid(), 'first')`);
          await tx.query('SELECT count(*) FROM records');
        });
        fairway.push(performance.now() - t0);

        const rawId = `raw_${model.slice(0, 2)}_${i}`;
        const t1 = performance.now();
        if (model === 'pooled') {
          await admin.query(`INSERT INTO tenants (id, slug, display_name) VALUES ($1, $1, $1)`, [rawId.replace(/_/g, '-')]);
        } else if (model === 'schema') {
          await admin.query(`CREATE SCHEMA ${rawId}`);
          await admin.query(
            `CREATE TABLE ${rawId}.records (id uuid PRIMARY KEY, title text NOT NULL, body text NOT NULL DEFAULT '', amount numeric(18,2) NOT NULL DEFAULT 0, tags text[] NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
          );
        } else {
          await admin.query(`CREATE DATABASE ${benchDb}_${rawId}`);
          const url = new URL(ADMIN);
          url.pathname = `/${benchDb}_${rawId}`;
          const c = new Client({ connectionString: url.toString() });
          await c.connect();
          await c.query(
            `CREATE TABLE records (id uuid PRIMARY KEY, title text NOT NULL, body text NOT NULL DEFAULT '', amount numeric(18,2) NOT NULL DEFAULT 0, tags text[] NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
          );
          await c.end();
        }
        raw.push(performance.now() - t1);
        process.stderr.write(
          `[onboarding] ${model} ${i + 1}/${counts[model]}: fairway ${fairway[fairway.length - 1]?.toFixed(0)} ms, raw ${raw[raw.length - 1]?.toFixed(0)} ms\n`,
        );
      }
      const f = stats(fairway);
      results.push({ impl: 'fairway', model, ...f, targetMs: targets[model], withinTarget: f.maxMs < targets[model] });
      results.push({ impl: 'raw-ddl', model, ...stats(raw) });
    }
  } finally {
    await router.close();
    await Promise.all([owner.end(), app.end()]);
    const dbs = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${benchDb}_%`]);
    await admin.end();
    await dropBenchDatabases(ADMIN, { names: [...dbs.rows.map((r) => r.datname), benchDb] });
    process.stderr.write(`[onboarding] dropped ${benchDb} and ${dbs.rowCount} tenant databases\n`);
  }
  const out = { benchmark: 'onboarding', unit: 'ms to a usable tenant (provisioned + first write and read)', results };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:onboarding failed: ${(err as Error).stack}`);
  process.exit(1);
});
