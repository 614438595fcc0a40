/**
 * What a move's copy costs the other tenants of the server, setting by setting, in alternating
 * windows of one run (issue #20 part 2: "other tenants' p99 unchanged within noise"):
 *
 *   npm run -s bench:move-interference -- --json [--records 200000] [--window 10] [--rounds 3]
 *
 * In a throw-away database: a pooled tenant of `--records` records (the source), an empty tenant
 * database (the target), and another pooled tenant writing 50 records/s open loop through a
 * TenantDataRouter (bench/lib/rate-writer.ts, as bench:move). A copier does what the move's copy
 * does - a keyset batch read from the pooled table as JSON, an upsert into the tenant database, an
 * UPDATE of a progress row in the catalog (the move's cursor) - in one of these settings per
 * `--window` s window, rotating through all of them `--rounds` times:
 *
 * - `idle`: no copy (the other tenant's noise);
 * - `batch5000`: 20,000 rows/s in batches of 5,000 (the pace before BulkPace);
 * - `batch1000`: 20,000 rows/s in batches of 1,000;
 * - `batch1000-async`: the same with synchronous_commit off for the batch and the cursor;
 * - `batch1000-10k`: 10,000 rows/s in batches of 1,000;
 * - `batch1000-10k-async`: the same, asynchronous commit.
 *
 * Reports per setting the other tenant's p99 of each window (and their median), and the rows the
 * copier moved. Progress on stderr, JSON on stdout.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, type Pool } from 'pg';
import { dropBenchDatabases } from './lib/bench-databases';
import { createPool, prepareDatabase, provisionTenant, TenantDataRouter } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import { RateWriter } from './lib/rate-writer';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const COLUMNS = 'id, title, body, amount, tags, created_at, updated_at';

interface Setting {
  name: string;
  rowsPerSecond: number;
  batch: number;
  asyncCommit: boolean;
}

const SETTINGS: readonly Setting[] = [
  { name: 'idle', rowsPerSecond: 0, batch: 0, asyncCommit: false },
  { name: 'batch5000', rowsPerSecond: 20_000, batch: 5000, asyncCommit: false },
  { name: 'batch1000', rowsPerSecond: 20_000, batch: 1000, asyncCommit: false },
  { name: 'batch1000-async', rowsPerSecond: 20_000, batch: 1000, asyncCommit: true },
  { name: 'batch1000-10k', rowsPerSecond: 10_000, batch: 1000, asyncCommit: false },
  { name: 'batch1000-10k-async', rowsPerSecond: 10_000, batch: 1000, asyncCommit: true },
];

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return +(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number).toFixed(1);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/** Copies the source tenant's rows into the target at a setting's pace until `until`; returns rows copied. */
async function copyFor(
  source: Pool,
  target: Pool,
  tenant: string,
  targetTenant: string,
  setting: Setting,
  until: number,
  cursor: { after: string | null },
): Promise<number> {
  let rows = 0;
  const started = performance.now();
  while (performance.now() < until) {
    const sync = setting.asyncCommit ? `, set_config('synchronous_commit', 'off', true)` : '';
    const read = await source.connect();
    let json = '[]';
    let n = 0;
    try {
      await read.query('BEGIN');
      await read.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
      const { rows: found } = await read.query<{ json: string | null; n: string; last: string | null }>(
        `SELECT json_agg(r ORDER BY r.id)::text AS json, count(*) AS n, max(r.id::text) AS last
           FROM (SELECT ${COLUMNS} FROM public.records WHERE ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $1) r`,
        [setting.batch, cursor.after],
      );
      await read.query('COMMIT');
      json = found[0]?.json ?? '[]';
      n = Number(found[0]?.n ?? 0);
      cursor.after = n < setting.batch ? null : (found[0]?.last ?? null);
    } finally {
      read.release();
    }
    if (n > 0) {
      const write = await target.connect();
      try {
        await write.query('BEGIN');
        await write.query(`SELECT set_config('app.tenant_id', $1, true)${sync}`, [targetTenant]);
        await write.query(
          `INSERT INTO public.records (${COLUMNS}) SELECT ${COLUMNS} FROM json_populate_recordset(NULL::public.records, $1::json)
           ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, amount = EXCLUDED.amount, tags = EXCLUDED.tags`,
          [json],
        );
        await write.query('COMMIT');
      } finally {
        write.release();
      }
      const save = await source.connect();
      try {
        await save.query('BEGIN');
        if (setting.asyncCommit) await save.query(`SELECT set_config('synchronous_commit', 'off', true)`);
        await save.query(`UPDATE bench_copy_cursor SET after = $1, rows = rows + $2, at = now()`, [cursor.after, n]);
        await save.query('COMMIT');
      } finally {
        save.release();
      }
    }
    rows += n;
    const ahead = started + (rows * 1000) / setting.rowsPerSecond - performance.now();
    if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(ahead, Math.max(0, until - performance.now()))));
  }
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean' }, records: { type: 'string' }, window: { type: 'string' }, rounds: { type: 'string' }, rate: { type: 'string' } },
  });
  const records = Number(values.records ?? 200_000);
  const windowMs = Number(values.window ?? 10) * 1000;
  const rounds = Number(values.rounds ?? 3);
  const rate = Number(values.rate ?? 50);
  const benchDb = `fairway_bench_interf_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[interference] preparing ${benchDb}\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-interf-owner', max: 4 });
  const app = createPool({ connectionString: prepared.urls.app, applicationName: 'bench-interf-other', max: 10 });
  const data = new TenantDataRouter({ catalogPool: app, catalogUrl: prepared.urls.app, applicationName: 'bench-interf-data' });
  await data.start();
  const provisioning = { ownerPool: owner, ownerUrl: prepared.urls.owner };
  const source = 'bench-source' as TenantId;
  const other = 'bench-other' as TenantId;
  const targetTenant = 'bench-target' as TenantId;
  let target: Pool | undefined;
  let out: Record<string, unknown> | undefined;
  try {
    await provisionTenant(provisioning, { id: source, isolationModel: 'pooled' });
    await provisionTenant(provisioning, { id: other, isolationModel: 'pooled' });
    const targetEntry = await provisionTenant(provisioning, { id: targetTenant, isolationModel: 'database' });
    const targetUrl = new URL(prepared.urls.owner);
    targetUrl.pathname = `/${targetEntry.dbName}`;
    target = createPool({ connectionString: targetUrl.toString(), applicationName: 'bench-interf-copy', max: 1 });
    for (const [tenant, n] of [
      [source, records],
      [other, 10_000],
    ] as const) {
      const client = await owner.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
        await client.query(
          `INSERT INTO records (id, title, body, amount, tags)
           SELECT gen_random_uuid(), 'record ' || g, rpad('body of record ' || g, 200, '.'), g % 1000, ARRAY['t' || (g % 7)] FROM generate_series(1, $1::int) g`,
          [n],
        );
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }
    await owner.query('CREATE TABLE bench_copy_cursor (after uuid, rows bigint NOT NULL DEFAULT 0, at timestamptz)');
    await owner.query('INSERT INTO bench_copy_cursor (rows) VALUES (0)');
    await owner.query('ANALYZE records');
    // The fill's dirty pages written out before any window, so that no window pays for them.
    const admin = new Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    await admin.query('CHECKPOINT');
    await admin.end();

    const writer = new RateWriter(data, other, rate);
    writer.start();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const windows: Array<{ setting: string; from: number; to: number; rows: number }> = [];
    const cursor = { after: null as string | null };
    for (let round = 0; round < rounds; round += 1) {
      for (const setting of SETTINGS) {
        const from = performance.now();
        const until = from + windowMs;
        const rows = setting.rowsPerSecond > 0 ? await copyFor(owner, target, source, targetTenant, setting, until, cursor) : 0;
        if (setting.rowsPerSecond === 0) await new Promise((resolve) => setTimeout(resolve, windowMs));
        const to = performance.now();
        windows.push({ setting: setting.name, from, to, rows });
        process.stderr.write(`[interference] round ${round + 1} ${setting.name}: other p99 ${p99(writer.latencies(from, to))} ms, ${rows} rows\n`);
      }
    }
    await writer.stop();
    out = {
      benchmark: 'move-interference',
      unit: "the other tenant's write p99 per window, ms; rows copied per second",
      date: new Date().toISOString(),
      records,
      windowSeconds: windowMs / 1000,
      rounds,
      ratePerSec: rate,
      results: SETTINGS.map((setting) => {
        const mine = windows.filter((w) => w.setting === setting.name);
        const p99s = mine.map((w) => p99(writer.latencies(w.from, w.to)));
        const seconds = mine.reduce((a, w) => a + (w.to - w.from) / 1000, 0);
        return {
          impl: `fairway-copy-${setting.name}`,
          setting,
          otherP99sMs: p99s,
          otherP99MedianMs: median(p99s),
          otherP99AllMs: p99(mine.flatMap((w) => writer.latencies(w.from, w.to))),
          copiedRowsPerSec: seconds > 0 ? Math.round(mine.reduce((a, w) => a + w.rows, 0) / seconds) : 0,
        };
      }),
      failures: writer.failures.length,
    };
  } finally {
    await data.close();
    await target?.end();
    await Promise.all([owner.end(), app.end()]);
    const dropped = await dropBenchDatabases(ADMIN, { like: `${benchDb}%` });
    process.stderr.write(`[interference] dropped ${dropped.join(', ')}\n`);
  }
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:move-interference failed: ${(err as Error).stack}`);
  process.exit(1);
});
