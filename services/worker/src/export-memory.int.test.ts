import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { LocalKeyProvider } from '@fairway/crypto';
import { TenantDataRouter, withQueryWorkload, withTenantId } from '@fairway/db';
import { createTestTenant, dropTestTenants, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { openJobResult, tenantKeyCipher, type FieldCipher } from '@fairway/records';
import type { TenantId } from '@fairway/tenant-context';

/**
 * The export's size in MB of CSV. npm test exports 100 MB to keep the suite fast; the 200 MB run of
 * issue #16 is `FAIRWAY_EXPORT_TEST_MB=200` (docs/benchmarks.md has both figures and the command).
 */
const MEGABYTES = Number(process.env['FAIRWAY_EXPORT_TEST_MB'] ?? 100);
/** ~1.1 KB of CSV a record: a 1,024-character body (32 md5 hex digests) and the other columns. */
const ROWS = Math.ceil(MEGABYTES * 1_000);
/**
 * The worker process runs with its V8 old space capped at this size: an export that held its result
 * (or any growing part of it) cannot finish, it dies of "JavaScript heap out of memory".
 */
const OLD_SPACE_MIB = 64;
/**
 * The bound on how far the worker process's peak resident set (VmHWM: the kernel's own peak, not a
 * sample) may rise above the process at rest (VmRSS after a warm-up export): the young generation,
 * the old space's garbage up to its cap, and what pg and the cipher hold outside the heap (one
 * cursor batch of 500 rows, a 256 KiB chunk, at most eight sealed chunks awaiting their commit).
 * The export is 100 MB or more; measured, the rise is about 25 MiB whatever the size
 * (docs/benchmarks.md).
 */
const RSS_RISE_BOUND_MIB = 64;

const root = path.resolve(__dirname, '..', '..', '..');
const source = (lib: string) => path.join(root, 'libs', lib, 'src', 'index.ts');

/**
 * The worker side of the test, as a process of its own (so its RSS is the worker's alone): runs
 * one export job with the real executor and reports the job's outcome and the process's memory.
 */
const WORKER_PROCESS = `
process.env.SWC_NODE_PROJECT = ${JSON.stringify(path.join(root, 'tsconfig.json'))};
require(require.resolve('@swc-node/register', { paths: [${JSON.stringify(root)}] }));
const { readFileSync } = require('node:fs');
const { Pool } = require(require.resolve('pg', { paths: [${JSON.stringify(root)}] }));
const { TenantDataRouter } = require(${JSON.stringify(source('db'))});
const { LocalKeyProvider } = require(${JSON.stringify(source('crypto'))});
const { tenantKeyCipher } = require(${JSON.stringify(source('records'))});
const { tenantContext } = require(${JSON.stringify(source('tenant-context'))});
const { executeJob } = require(${JSON.stringify(path.join(__dirname, 'executor.ts'))});
const kib = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+) kB').exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
(async () => {
  const job = JSON.parse(process.env.FAIRWAY_PROBE_JOB);
  const pool = new Pool({ connectionString: job.url, max: 4 });
  const data = new TenantDataRouter({ catalogPool: pool, catalogUrl: job.url });
  const cipher = tenantKeyCipher(pool, new LocalKeyProvider({ [job.kekId]: Buffer.from(job.kek, 'base64') }, job.kekId));
  const deps = { pool, data, workerId: 'memory-probe', cipher };
  const exportJob = (tenant, jobId) => executeJob(deps, { jobId, type: 'export', paramsJson: '{}', attempt: 1 }, { context: tenantContext(tenant, 'grpc') });
  // Warm up (modules, the data key, connections) so that the baseline is the worker at rest.
  await exportJob(job.warmupTenant, job.warmupJob);
  const baseline = kib('VmRSS');
  const outcome = await exportJob(job.tenant, job.jobId);
  const peak = kib('VmHWM');
  await data.close();
  await pool.end();
  process.stdout.write(JSON.stringify({ outcome, baseline, peak }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

interface WorkerReport {
  outcome: { applied: boolean; result: Record<string, unknown> };
  /** VmRSS after the warm-up, before the measured export. */
  baseline: number;
  /** VmHWM: the process's peak RSS over its life. */
  peak: number;
}

/** Runs WORKER_PROCESS with the capped heap; rejects with its stderr if it fails (out of memory). */
function runWorkerProcess(job: Record<string, string>): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${OLD_SPACE_MIB}`, '-e', WORKER_PROCESS], {
      env: { ...process.env, FAIRWAY_PROBE_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(JSON.parse(stdout) as WorkerReport);
      else reject(new Error(`the worker process ended with ${code ?? signal}: ${stderr.slice(-2_000)}`));
    });
  });
}

describe(`a ${MEGABYTES} MB export (real PostgreSQL): chunk rows in bounded transactions, in bounded memory`, () => {
  let pools: ReturnType<typeof testPools>;
  let data: TenantDataRouter;
  let cipher: FieldCipher;
  const kekId = `m${randomBytes(4).toString('hex')}`;
  const kek = randomBytes(32);
  let tenant: TenantId;
  let warmup: TenantId;

  beforeAll(async () => {
    pools = testPools();
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app });
    cipher = tenantKeyCipher(pools.app, new LocalKeyProvider({ [kekId]: kek }, kekId));
    [tenant, warmup] = await Promise.all([createTestTenant(pools.owner, 'wkmem'), createTestTenant(pools.owner, 'wkwarm')]);
    // A bulk load is heavy work: under the interactive statement limit (5 s) a busy machine cancels it.
    const insert = (id: TenantId, rows: number) =>
      withQueryWorkload('heavy', () =>
        data.withTenant(id, (tx) =>
          tx.query(
            `INSERT INTO records (id, title, amount, body) SELECT gen_random_uuid(), 'r' || i, i, repeat(md5(i::text), 32) FROM generate_series(1, $1::int) i`,
            [rows],
          ),
        ),
      );
    await Promise.all([insert(tenant, ROWS), insert(warmup, 2_000)]);
  });

  afterAll(async () => {
    await data.close();
    await dropTestTenants(pools.owner, [tenant, warmup]);
    await pools.end();
  });

  it(`exports ${ROWS} records (~${MEGABYTES} MB of CSV) in a worker whose heap is capped at ${OLD_SPACE_MIB} MiB and whose peak RSS rises less than ${RSS_RISE_BOUND_MIB} MiB`, async () => {
    const jobId = randomUUID();
    const report = await runWorkerProcess({
      url: testDatabaseUrls().app,
      kekId,
      kek: kek.toString('base64'),
      tenant,
      jobId,
      warmupTenant: warmup,
      warmupJob: randomUUID(),
    });
    const { outcome } = report;
    expect(outcome.applied).toBe(true);
    expect(outcome.result).toMatchObject({ rows: ROWS });
    const chars = Number(outcome.result['chars']);
    expect(chars).toBeGreaterThan(MEGABYTES * 1_000_000);
    process.stdout.write(
      `export of ${(chars / 1e6).toFixed(0)} MB: worker peak RSS ${(report.peak / 2 ** 20).toFixed(1)} MiB, ` +
        `${((report.peak - report.baseline) / 2 ** 20).toFixed(1)} MiB above its ${(report.baseline / 2 ** 20).toFixed(1)} MiB at rest (bound ${RSS_RISE_BOUND_MIB} MiB above rest)\n`,
    );
    expect(report.peak - report.baseline).toBeLessThan(RSS_RISE_BOUND_MIB * 2 ** 20);

    // Stored as one sealed row per chunk the export wrote, under the job's artifact.
    const stored = await withTenantId(pools.app, tenant, async (tx) => {
      const rows = await tx.query<{ n: number; sealed: number; largest: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE body LIKE 'fw1:%')::int AS sealed, max(length(body))::int AS largest FROM job_result_chunks WHERE job_id = $1`,
        [jobId],
      );
      const artifact = await tx.query<{ attempt: number; chunks: number; body: string }>('SELECT attempt, chunks, body FROM job_artifacts WHERE job_id = $1', [
        jobId,
      ]);
      return { chunks: rows.rows[0]!, artifact: artifact.rows[0] };
    });
    expect(stored.chunks.n).toBe(outcome.result['chunks']);
    expect(stored.chunks.sealed).toBe(stored.chunks.n);
    expect(stored.artifact).toEqual({ attempt: 1, chunks: stored.chunks.n, body: '' });
    // A sealed 256 KiB chunk is base64 with a prefix: no row holds more than one chunk.
    expect(stored.chunks.largest).toBeLessThan(400 * 1024);

    // Read back chunk by chunk: every row of the CSV, nothing lost or repeated.
    const result = await openJobResult(pools.app, tenant, jobId, { cipher });
    let read = 0;
    let lines = 0;
    for await (const chunk of result!.chunks) {
      read += chunk.length;
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines += 1;
    }
    expect(read).toBe(chars);
    expect(lines).toBe(ROWS + 1);
  });
});
