/**
 * Tenant backup and restore benchmark (issue #20 part 1): throughput, and memory that does not
 * grow with the tenant.
 *
 *   npm run -s bench:backup -- --json [--records 100000]
 *
 * A schema tenant is filled with `--records` records (a ~200-byte body each, sealed on its own as
 * the records repository writes them), and another with a tenth of that, in a throw-away database
 * `fairway_bench_backup_<random>` dropped at the end.
 * fairway: writeTenantBackup into a file (cursors, JSON sections, AES-256-GCM frames), then
 * restoreTenantBackup of that file under a new id into the schema model (every frame, checksum and
 * the audit chain checked; every sealed body opened and sealed again under the copy's fresh key).
 * pg_dump (baseline, same run): `pg_dump -Fc --schema=<the tenant's schema>` of the same rows and
 * `pg_restore` into an empty database: no encryption, no checks, no re-sealing, the schema only.
 * The peak resident memory of this process is sampled every 20 ms during each fairway step; for
 * pg_dump and pg_restore it is the child's VmHWM, read from /proc while it runs. To show that memory
 * does not grow with the tenant, run it with a capped heap: NODE_OPTIONS=--max-old-space-size=64.
 * Progress on stderr, JSON on stdout.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { dropBenchDatabases } from './lib/bench-databases';
import { LocalKeyProvider, tenantCipher } from '@fairway/crypto';
import { createPool, prepareDatabase, provisionTenant, schemaNameFor } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import { BackupKeyring, restoreTenantBackup, writeTenantBackup } from '@fairway/tenant-backup';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

/** Runs `fn` while sampling this process's RSS; returns its result, the seconds and the peak RSS in MiB. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, seconds: (performance.now() - t0) / 1000, peakRssMb: +(Math.max(peak, process.memoryUsage().rss) / 2 ** 20).toFixed(1) };
  } finally {
    clearInterval(timer);
  }
}

/** Runs a PostgreSQL client binary; resolves with its seconds and peak RSS (VmHWM) in MiB. */
function runBinary(command: string, args: string[]): Promise<{ seconds: number; peakRssMb: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(path.join(PG_BIN, command), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let peakKb = 0;
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // exited between samples
      }
    }, 20);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`${command} exited ${code}: ${stderr}`));
      else resolve({ seconds: (performance.now() - t0) / 1000, peakRssMb: +(peakKb / 1024).toFixed(1) });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, records: { type: 'string' } } });
  const large = Number(values.records ?? 100_000);
  const sizes = [Math.max(1, Math.round(large / 10)), large];
  const benchDb = `fairway_bench_backup_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[backup] preparing ${benchDb}\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-backup-owner', max: 4 });
  const app = createPool({ connectionString: prepared.urls.app, applicationName: 'bench-backup-app', max: 2 });
  const provider = new LocalKeyProvider({ bench: randomBytes(32) }, 'bench');
  const deps = { ownerPool: owner, ownerUrl: prepared.urls.owner, provider, keyring: new BackupKeyring({ bench: randomBytes(32) }, 'bench') };
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-bench-backup-'));
  const results: Array<Record<string, unknown>> = [];
  const restoreDbs: string[] = [];
  try {
    for (const records of sizes) {
      const id = `bench-${records}` as TenantId;
      await provisionTenant({ ownerPool: owner, ownerUrl: prepared.urls.owner }, { id, isolationModel: 'schema' });
      const schema = schemaNameFor(id);
      const cipher = await tenantCipher(app, provider, id);
      process.stderr.write(`[backup] filling ${id} with ${records} records\n`);
      // Each body sealed on its own, as the repository writes them: ciphertext does not compress.
      for (let done = 0; done < records; done += 5000) {
        const n = Math.min(5000, records - done);
        const bodies = Array.from({ length: n }, (_, i) => cipher.encrypt(`body of record ${done + i} `.padEnd(200, '.')));
        await owner.query(
          `INSERT INTO "${schema}".records (id, title, body, amount, tags)
           SELECT gen_random_uuid(), 'record ' || (g.n + $2::int), g.body, (g.n + $2::int) % 1000, ARRAY['t' || (g.n % 7)]
             FROM unnest($1::text[]) WITH ORDINALITY AS g(body, n)`,
          [bodies, done],
        );
      }

      const file = path.join(dir, `${id}.fwbak`);
      process.stderr.write(`[backup] fairway backup of ${records} records\n`);
      const backup = await measured(() => writeTenantBackup(deps, id, createWriteStream(file), { actor: 'bench' }));
      const archiveMb = statSync(file).size / 2 ** 20;
      results.push({
        impl: 'fairway',
        step: 'backup',
        records,
        seconds: +backup.seconds.toFixed(2),
        recordsPerSec: Math.round(records / backup.seconds),
        archiveMb: +archiveMb.toFixed(1),
        mbPerSec: +(archiveMb / backup.seconds).toFixed(1),
        peakRssMb: backup.peakRssMb,
      });
      process.stderr.write(`[backup] fairway restore of ${records} records (re-sealed under a new id)\n`);
      const restore = await measured(() =>
        restoreTenantBackup(deps, createReadStream(file), { actor: 'bench', as: `${id}-copy` as TenantId, model: 'schema' }),
      );
      results.push({
        impl: 'fairway',
        step: 'restore',
        records,
        seconds: +restore.seconds.toFixed(2),
        recordsPerSec: Math.round(records / restore.seconds),
        peakRssMb: restore.peakRssMb,
      });

      const dump = path.join(dir, `${id}.dump`);
      process.stderr.write(`[backup] pg_dump / pg_restore of ${records} records\n`);
      const pgDump = await runBinary('pg_dump', ['-Fc', `--schema=${schema}`, '-f', dump, '-d', adminUrl.toString()]);
      const dumpMb = statSync(dump).size / 2 ** 20;
      results.push({
        impl: 'pg_dump',
        step: 'backup',
        records,
        seconds: +pgDump.seconds.toFixed(2),
        recordsPerSec: Math.round(records / pgDump.seconds),
        archiveMb: +dumpMb.toFixed(1),
        mbPerSec: +(dumpMb / pgDump.seconds).toFixed(1),
        peakRssMb: pgDump.peakRssMb,
      });
      const target = `${benchDb}_r${records}`;
      const admin = new Client({ connectionString: ADMIN });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${target}"`);
      await admin.end();
      restoreDbs.push(target);
      const targetUrl = new URL(ADMIN);
      targetUrl.pathname = `/${target}`;
      const pgRestore = await runBinary('pg_restore', ['--no-owner', '--no-privileges', '-d', targetUrl.toString(), dump]);
      results.push({
        impl: 'pg_dump',
        step: 'restore',
        records,
        seconds: +pgRestore.seconds.toFixed(2),
        recordsPerSec: Math.round(records / pgRestore.seconds),
        peakRssMb: pgRestore.peakRssMb,
      });
    }
  } finally {
    await Promise.all([owner.end(), app.end()]);
    rmSync(dir, { recursive: true, force: true });
    await dropBenchDatabases(ADMIN, { names: [...restoreDbs, benchDb] });
    process.stderr.write(`[backup] dropped ${benchDb} and ${restoreDbs.length} restore databases\n`);
  }
  const out = {
    benchmark: 'backup',
    unit: 'one schema tenant: seconds, records/s, archive MiB, peak RSS MiB (fairway: this process, pg_dump: the child)',
    results,
  };
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:backup failed: ${(err as Error).stack}`);
  process.exit(1);
});
