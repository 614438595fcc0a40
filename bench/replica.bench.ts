/**
 * Read replica benchmark: one tenant floods report jobs' reads while other tenants keep writing;
 * what happens to the writers' latency with the reports on the hot standby, on the primary, and
 * without the flood, all in the same run on the project-owned pair (scripts/lib/pg-pair.cjs).
 *
 *   npm run -s bench:replica -- --json [--records 300000] [--seconds 10] [--writers 4] [--reporters 4] [--pin]
 *
 * fairway (reports on the replica): the flooding tenant's reports run through the TenantDataRouter
 * with `{ replica: true }` (the worker's report path: reportRecords, RLS and the tenant's limits set
 * on the standby). primary-only (baseline, same run): the same flood with no replica configured,
 * so it reads on the primary. no-flood (reference): the writers alone. Writers: `--writers` loops,
 * each inserting one record per transaction for its own tenant through the same router on the
 * primary; the figure is their per-transaction latency (p50, p99) and throughput. Everything runs
 * in a throw-away database `fairway_bench_replica_<random>` on the pair, dropped at the end; a pair
 * this benchmark started is stopped again.
 *
 * On one machine the two clusters share its cores, so a CPU-bound flood slows the writers wherever
 * it runs. `--pin` (Linux, taskset) puts every process of the primary on CPU 0 and of the standby on
 * CPU 1, as a standby on a host of its own would be: the figure then shows what moving the reads
 * buys, not what two clusters on two shared cores cost.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, type Pool } from 'pg';
import { ReadReplica, TenantDataRouter, createPool, prepareDatabase, type ReplicaFallbackReason } from '@fairway/db';
import { reportRecords } from '@fairway/records';
import type { TenantId } from '@fairway/tenant-context';

interface PgPair {
  ensurePair(options?: { log?: (msg: string) => void }): {
    stateDir: string;
    started: boolean;
    primaryAdminUrl: string;
    standbyAdminUrl: string;
    standbyPort: number;
  };
  stopPair(): boolean;
  onPort(url: string, port: number): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the repository's set-up script
const pgPair = require(path.resolve(__dirname, '..', 'scripts', 'lib', 'pg-pair.cjs')) as PgPair;

const progress = (msg: string) => process.stderr.write(`[replica] ${msg}\n`);

function latency(samples: number[]) {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: +at(0.5).toFixed(2), p99Ms: +at(0.99).toFixed(2), maxMs: +(sorted[sorted.length - 1] ?? 0).toFixed(2) };
}

interface Phase {
  impl: string;
  reportsOn: 'replica' | 'primary' | 'none';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      pin: { type: 'boolean' },
      records: { type: 'string' },
      seconds: { type: 'string' },
      writers: { type: 'string' },
      reporters: { type: 'string' },
    },
  });
  const records = Number(values.records ?? 300_000);
  const seconds = Number(values.seconds ?? 10);
  const writers = Number(values.writers ?? 4);
  const reporters = Number(values.reporters ?? 4);

  const pair = pgPair.ensurePair({ log: progress });
  if (values.pin) {
    // The postmaster first (backends forked later inherit its CPU), then every process it has now.
    for (const [member, cpu] of [
      ['primary', '0'],
      ['standby', '1'],
    ] as const) {
      const postmaster = fs.readFileSync(path.join(pair.stateDir, member, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '';
      const children = execFileSync('pgrep', ['-P', postmaster], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const pid of [postmaster, ...children]) execFileSync('taskset', ['-a', '-p', '-c', cpu, pid], { stdio: 'ignore' });
      progress(`pinned the ${member} (${children.length + 1} processes) to CPU ${cpu}`);
    }
  }
  const database = `fairway_bench_replica_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(pair.primaryAdminUrl);
  adminUrl.pathname = `/${database}`;
  progress(`preparing ${database} on the pair's primary: ${records} records for the reporting tenant`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const pools: Pool[] = [];
  const routers: TenantDataRouter[] = [];
  try {
    const reporter = 'bench-reporter' as TenantId;
    const writerIds = Array.from({ length: writers }, (_, i) => `bench-writer-${i}` as TenantId);
    for (const id of [reporter, ...writerIds]) await admin.query('INSERT INTO tenants (id, slug, display_name) VALUES ($1, $1, $1)', [id]);
    await admin.query(
      `INSERT INTO records (tenant_id, id, title, amount, tags)
       SELECT $2, gen_random_uuid(), 'record ' || i, (i % 1000) / 10.0, ARRAY['t' || (i % 7)] FROM generate_series(1, $1) AS i`,
      [records, reporter],
    );
    await admin.query('ANALYZE records');
    const standbyUrl = pgPair.onPort(prepared.urls.app, pair.standbyPort);
    const standby = new Client({ connectionString: standbyUrl });
    for (let connected = false; !connected;) {
      connected = await standby.connect().then(
        () => true,
        async () => {
          await new Promise((r) => setTimeout(r, 200));
          return false;
        },
      );
    }
    const primaryLsn = (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn;
    for (;;) {
      const { rows } = await standby.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [primaryLsn]);
      if (rows[0]?.done) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await standby.end();
    progress('the standby has replayed the load');

    const fallbacks: ReplicaFallbackReason[] = [];
    const routerFor = (withReplica: boolean) => {
      const primary = createPool({ connectionString: prepared.urls.app, applicationName: 'bench-replica', max: writers + reporters + 2 });
      pools.push(primary);
      let replica: ReadReplica | undefined;
      if (withReplica) {
        const replicaPool = createPool({ connectionString: standbyUrl, applicationName: 'bench-replica-standby', max: reporters + 2 });
        pools.push(replicaPool);
        replica = new ReadReplica({ primaryPool: primary, replicaPool, replicaUrl: standbyUrl, maxLagMs: 5_000, onFallback: (r) => fallbacks.push(r) });
      }
      const router = new TenantDataRouter({ catalogPool: primary, catalogUrl: prepared.urls.app, listen: false, ...(replica ? { replica } : {}) });
      routers.push(router);
      return router;
    };

    const phases: Phase[] = [
      { impl: 'no-flood', reportsOn: 'none' },
      { impl: 'primary-only', reportsOn: 'primary' },
      { impl: 'fairway', reportsOn: 'replica' },
    ];
    const results: Array<Record<string, unknown>> = [];
    for (const phase of phases) {
      const router = routerFor(phase.reportsOn === 'replica');
      progress(
        `${phase.impl}: ${writers} writers${phase.reportsOn === 'none' ? '' : `, ${reporters} report loops on the ${phase.reportsOn}`} for ${seconds} s`,
      );
      const until = performance.now() + seconds * 1000;
      const writes: number[] = [];
      let reports = 0;
      let reportsOnStandby = 0;
      const fallbacksBefore = fallbacks.length;
      const writer = async (tenant: TenantId) => {
        while (performance.now() < until) {
          const t0 = performance.now();
          await router.withTenant(tenant, (tx) => tx.query(`INSERT INTO records (id, title, amount, tags) VALUES (gen_random_uuid(), 'w', 1, ARRAY['w'])`));
          writes.push(performance.now() - t0);
        }
      };
      const reportLoop = async () => {
        while (performance.now() < until) {
          const standbyRead = await router.withTenant(
            reporter,
            async (tx) => {
              await reportRecords(tx);
              return (await tx.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r === true;
            },
            { replica: phase.reportsOn === 'replica', workload: 'heavy' },
          );
          reports += 1;
          if (standbyRead) reportsOnStandby += 1;
        }
      };
      await Promise.all([...writerIds.map((id) => writer(id)), ...(phase.reportsOn === 'none' ? [] : Array.from({ length: reporters }, () => reportLoop()))]);
      results.push({
        impl: phase.impl,
        reportsOn: phase.reportsOn,
        writesPerSec: +(writes.length / seconds).toFixed(1),
        writeLatency: latency(writes),
        reportsPerSec: +(reports / seconds).toFixed(2),
        reportsOnStandby,
        replicaFallbacks: fallbacks.length - fallbacksBefore,
      });
      progress(`${phase.impl}: ${JSON.stringify(results[results.length - 1])}`);
    }
    const out = {
      bench: 'replica',
      config: {
        records,
        seconds,
        writers,
        reporters,
        host: values.pin ? 'one machine: primary pinned to CPU 0, standby to CPU 1' : 'primary and standby on one machine (2 cores shared)',
      },
      results,
    };
    if (values.json) console.log(JSON.stringify(out, null, 2));
    else console.table(results.map((r) => ({ ...r, writeLatency: JSON.stringify(r['writeLatency']) })));
  } finally {
    for (const router of routers) await router.close();
    await Promise.all(pools.map((p) => p.end()));
    await admin.end();
    const server = new URL(pair.primaryAdminUrl);
    const drop = new Client({ connectionString: server.toString() });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await drop.end();
    if (pair.started) pgPair.stopPair();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
