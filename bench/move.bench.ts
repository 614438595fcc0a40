/**
 * Live move benchmark (issue #20 part 2): a tenant moved between isolation models while it writes.
 *
 *   npm run -s bench:move -- --json [--records 1000000] [--from pooled] [--to database] [--rate 50]
 *
 * In a throw-away database `fairway_bench_move_<random>` (dropped at the end): the moving tenant
 * (`--from`, default pooled) is filled with `--records` records (~200-byte bodies), another pooled
 * tenant with 10,000. Both write `--rate` records a second (default 50) through a TenantDataRouter
 * (the application role, NOTIFY invalidation, as the edge and workers reach tenant data), open loop:
 * a write is due every 1/rate s whether the last one finished or not, and its latency runs from
 * when it was due to its commit, including the retries a refusal (the fence's retriable 503) asks
 * for (every 20 ms). Each write is an INSERT under an id chosen once, so a retry that found its own
 * row would fail on the primary key and be counted as a duplicate.
 * The other tenant writes `--baseline` s (default 30) before the move, throughout, and as long again
 * after it (two references for its noise). The move (grace 0, so the old copy's removal is measured
 * too) runs by default in a process of its own (`--runner process`, bench/lib/move-runner-process.ts),
 * as the control plane runs it apart from the edge whose requests these writers stand in for;
 * `--runner inline` runs it in this process, sharing the writers' event loop.
 * Afterwards: every acknowledged write is read back by id with its checksum (lost: missing or
 * different), the rows that existed before the move give the same ordered digest as before, and the
 * tenant holds exactly seed + acknowledged rows (duplicated: any more).
 * There is no baseline implementation: no other framework moves a live tenant (a pg_dump/restore
 * with downtime is the manual alternative; its duration for a schema is in bench:backup).
 * `--bulk-commit sync` runs the move with RunMoveOptions.asyncBulkCommit false: every commit waits
 * for its WAL flush, as before 2026-12-07 13:50 UTC (the default `async` commits the bulk work
 * without). `--max-duty` is RunMoveOptions.maxDuty, the share of the wall clock the paced bulk
 * work takes at most (default DEFAULT_MOVE_MAX_DUTY). The report's `other.noise.duringHigherThanQuiet` is a permutation test of the other
 * tenant's during-move 10-s window p99s against those with no move.
 * `--paired` pauses the move's bulk work (RunMoveOptions.hold) in alternate `--window` s windows
 * (default 10) through the whole move, in ABBA order, so that each window with the move working
 * has a neighbour with it paused under the same load of the machine; `other.paired` compares the
 * other tenant's p99 in each such pair (bench/lib/paired-windows.ts): the median ratio with its
 * interval, a sign test and a sign-flip test, per phase too, and the ratios of neighbouring windows
 * of the same kind as the noise of a pair. The move takes about twice as long; the outputs above
 * are computed as without it (their "during" then holds the paused windows too).
 * Progress on stderr, JSON on stdout.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client, type Pool } from 'pg';
import { dropBenchDatabases } from './lib/bench-databases';
import { createPool, prepareDatabase, provisionTenant, TenantDataRouter, type IsolationModel } from '@fairway/db';
import type { TenantId } from '@fairway/tenant-context';
import {
  DEFAULT_MOVE_MAX_DUTY,
  DEFAULT_MOVE_ROWS_PER_SECOND,
  neighbourWaitProbe,
  runTenantMove,
  startTenantMove,
  type BulkPaceReport,
  type TenantMoveStatus,
} from '@fairway/tenant-move';
import { ServerWaitSampler, type PhaseDiagnosis } from './lib/move-diagnostics';
import { MoveHold } from './lib/move-hold';
import { comparePairs, mulberry32, pairWindows, phasesOf, windowCounts, windowKind, type WindowKind } from './lib/paired-windows';
import { RECORD_DIGEST, RateWriter } from './lib/rate-writer';

const ADMIN = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DIGEST = RECORD_DIGEST;
const MODELS: readonly IsolationModel[] = ['pooled', 'schema', 'database'];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** p99 of each full `windowMs` window of `samples` ([due, latency]) from `from` to `to`, ms. */
function windowP99s(samples: ReadonlyArray<readonly [number, number, ...number[]]>, from: number, to: number, windowMs: number): number[] {
  const out: number[] = [];
  for (let start = from; start + windowMs <= to; start += windowMs) {
    const sorted = samples
      .filter(([due]) => due >= start && due < start + windowMs)
      .map(([, ms]) => ms)
      .sort((a, b) => a - b);
    if (sorted.length > 0) out.push(+percentile(sorted, 99).toFixed(1));
  }
  return out;
}

/**
 * Whether the windows `during` are higher than the windows `quiet`, as a one-sided permutation
 * test: the share of (quiet, during) pairs where the during window is higher (ties count half: the
 * Mann-Whitney U over the pairs), and the chance of a share at least that high if the move changed
 * nothing (the windows' labels shuffled `shuffles` times, from a fixed seed so a report repeats).
 */
function shiftTest(quiet: readonly number[], during: readonly number[], shuffles = 20_000): { shareHigher: number; p: number; shuffles: number } | null {
  if (quiet.length === 0 || during.length === 0) return null;
  const share = (q: readonly number[], d: readonly number[]): number => {
    let higher = 0;
    for (const a of q) for (const b of d) higher += b > a ? 1 : b === a ? 0.5 : 0;
    return higher / (q.length * d.length);
  };
  const observed = share(quiet, during);
  const all = [...quiet, ...during];
  const random = mulberry32(20_261_207);
  let atLeast = 0;
  for (let i = 0; i < shuffles; i += 1) {
    for (let j = all.length - 1; j > 0; j -= 1) {
      const k = Math.floor(random() * (j + 1));
      [all[j], all[k]] = [all[k] as number, all[j] as number];
    }
    if (share(all.slice(0, quiet.length), all.slice(quiet.length)) >= observed - 1e-12) atLeast += 1;
  }
  // Two significant digits, not fixed decimals: the smallest p, 1 / (shuffles + 1), is 5e-5.
  return { shareHigher: +observed.toFixed(3), p: +((atLeast + 1) / (shuffles + 1)).toPrecision(2), shuffles };
}

function median(values: readonly number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}

function stats(latencies: readonly number[]): { writes: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    writes: sorted.length,
    p50Ms: +percentile(sorted, 50).toFixed(1),
    p99Ms: +percentile(sorted, 99).toFixed(1),
    maxMs: +(sorted[sorted.length - 1] ?? 0).toFixed(1),
  };
}

/** The tenant's rows not in `exclude`, as one ordered digest, and its row count. */
async function digestOf(data: TenantDataRouter, tenant: TenantId, exclude: readonly string[]): Promise<{ rows: number; digest: string }> {
  const { rows } = await data.withTenant(
    tenant,
    (tx) =>
      tx.query<{ n: string; digest: string }>(
        `SELECT count(*) AS n, md5(string_agg(d, '' ORDER BY id)) AS digest
           FROM (SELECT id, ${DIGEST} AS d FROM records WHERE NOT (id = ANY($1::uuid[]))) r`,
        [exclude],
      ),
    { workload: 'heavy' },
  );
  return { rows: Number(rows[0]?.n ?? 0), digest: rows[0]?.digest ?? '' };
}

async function fill(owner: Pool, tenant: TenantId, model: IsolationModel, table: string, records: number): Promise<void> {
  for (let done = 0; done < records; done += 100_000) {
    const n = Math.min(100_000, records - done);
    const client = await owner.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
      await client.query(
        `INSERT INTO ${table} (id, title, body, amount, tags)
         SELECT gen_random_uuid(), 'record ' || (g + $2::int), rpad('body of record ' || (g + $2::int), 200, '.'), (g + $2::int) % 1000, ARRAY['t' || (g % 7)]
           FROM generate_series(1, $1::int) g`,
        [n, done],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    process.stderr.write(`[move] ${tenant} (${model}): ${done + n}/${records} records\n`);
  }
}

/**
 * Pauses and resumes the move's bulk work (--paired), in the runner's process (lines on its stdin)
 * or inline: `pause()` resolves once the runner waits at a hold point.
 */
class PauseChannel {
  private send: (command: 'hold' | 'release') => void = () => undefined;
  private waiting: (() => void) | undefined;

  connect(send: (command: 'hold' | 'release') => void): void {
    this.send = send;
  }

  pause(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.send('hold');
    });
  }

  resume(): void {
    this.send('release');
  }

  /** The runner says it waits at a hold point. */
  held(): void {
    this.waiting?.();
    this.waiting = undefined;
  }
}

/** A window of --paired: what the move did in it, from and to (performance.now()). */
interface PairedWindow {
  kind: WindowKind;
  from: number;
  to: number;
}

/**
 * Alternates the move's bulk work on and off in `windowMs` windows (ABBA) until `ended` resolves.
 * An on window lasts until the runner actually waits at its next hold point, so that it holds all
 * the work the move did, the catch-up and the fence included (never held there); an off window
 * begins there. The last window ends with the move.
 */
async function alternate(
  pauses: PauseChannel,
  ended: Promise<void>,
  windowMs: number,
  onWindow: (kind: WindowKind) => void,
  onWindowEnd: (windows: readonly PairedWindow[]) => void,
): Promise<PairedWindow[]> {
  let over = false;
  void ended.then(() => (over = true));
  const windows: PairedWindow[] = [];
  let from = performance.now();
  for (let i = 0; !over; i += 1) {
    const kind = windowKind(i);
    onWindow(kind);
    await Promise.race([new Promise((resolve) => setTimeout(resolve, windowMs)), ended]);
    if (!over) {
      const next = windowKind(i + 1);
      if (kind === 'on' && next === 'off') await Promise.race([pauses.pause(), ended]);
      if (kind === 'off' && next === 'on') pauses.resume();
    }
    const to = performance.now();
    windows.push({ kind, from, to });
    onWindowEnd(windows);
    from = to;
  }
  return windows;
}

/** Runs the move in bench/lib/move-runner-process.ts, relaying its phases and paces; its final status. */
async function runInProcess(
  ownerUrl: string,
  moveId: string,
  runId: string,
  rowsPerSecond: number,
  batchRows: number | undefined,
  neighbourWaits: boolean,
  asyncBulkCommit: boolean,
  maxDuty: number,
  onPhase: (phase: string) => void,
  onPace: (phase: string, report: BulkPaceReport) => void,
  pauses: PauseChannel | undefined,
  onSpawn: (pid: number) => void,
  nice: { runner?: string; backends: boolean },
): Promise<TenantMoveStatus> {
  const root = path.resolve(__dirname, '..');
  const args = [path.join(root, 'scripts/run-ts.cjs'), path.join(__dirname, 'lib/move-runner-process.ts'), ownerUrl, moveId, runId, String(rowsPerSecond)];
  const child = spawn(process.execPath, batchRows === undefined ? args : [...args, String(batchRows)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ...(neighbourWaits ? { BENCH_MOVE_NEIGHBOUR_WAITS: ADMIN } : {}),
      BENCH_MOVE_BULK_COMMIT: asyncBulkCommit ? 'async' : 'sync',
      BENCH_MOVE_MAX_DUTY: String(maxDuty),
      ...(nice.runner === undefined ? {} : { BENCH_MOVE_NICE: nice.runner }),
      ...(nice.backends ? { BENCH_MOVE_NICE_BACKENDS: '1' } : {}),
    },
  });
  if (child.pid !== undefined) onSpawn(child.pid);
  let done: TenantMoveStatus | undefined;
  // A command after the runner ended (the move done between a window's end and its command) goes nowhere.
  child.stdin.on('error', () => undefined);
  pauses?.connect((command) => {
    if (!child.stdin.writableEnded && !child.stdin.destroyed) child.stdin.write(`${command}\n`);
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const event = JSON.parse(line) as { phase?: string; pace?: { phase: string; report: BulkPaceReport }; held?: string; done?: TenantMoveStatus };
    if (event.phase) onPhase(event.phase);
    if (event.pace) onPace(event.pace.phase, event.pace.report);
    if (event.held) pauses?.held();
    if (event.done) {
      done = event.done;
      child.stdin.end();
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0 || !done) throw new Error(`the move's runner process exited with ${code}`);
  return done;
}

/**
 * --paired: the other tenant's p99 in each window, and the pairs (windows 2k and 2k+1: one with the
 * move working, one with it paused) compared over the whole move and by the phase the working
 * window spent most time in. Neighbouring windows of the same kind (2k+1 and 2k+2) give the ratio
 * of a pair that differs in nothing but time: the noise. A window counts if it lasted at least 90 %
 * of `windowMs` and holds 100 writes.
 */
function pairedReport(
  writer: RateWriter,
  windows: readonly PairedWindow[],
  phaseStarts: ReadonlyArray<readonly [string, number]>,
  moveStart: number,
  moveEnd: number,
  windowMs: number,
) {
  const measured = windows.map((w) => {
    const latencies = writer.latencies(w.from, w.to).sort((a, b) => a - b);
    const late = writer.lateness(w.from, w.to).sort((a, b) => a - b);
    const { phase, phases } = phasesOf(phaseStarts, moveEnd, w.from, w.to);
    return {
      kind: w.kind,
      fromS: +((w.from - moveStart) / 1000).toFixed(1),
      toS: +((w.to - moveStart) / 1000).toFixed(1),
      writes: latencies.length,
      p99Ms: +percentile(latencies, 99).toFixed(1),
      // Lower quantiles: a move that delays more than 1 % of the writes moves them too.
      p90Ms: +percentile(latencies, 90).toFixed(1),
      p95Ms: +percentile(latencies, 95).toFixed(1),
      // How late the writes began (the writers' event loop): p99, a part of the latency above.
      lateP99Ms: +percentile(late, 99).toFixed(1),
      // Where the window's slowest 2 % of writes spent their time (means, ms).
      tail: writer.tailParts(w.from, w.to),
      phase,
      phases,
      counts: windowCounts(w.to - w.from, latencies.length, windowMs),
    };
  });
  type Measured = (typeof measured)[number];
  const pairs = pairWindows(measured);
  const neighbours = (kind: WindowKind) => {
    const out: Array<{ on: number; off: number }> = [];
    for (let i = 1; i + 1 < measured.length; i += 2) {
      const a = measured[i] as Measured;
      const b = measured[i + 1] as Measured;
      if (a.kind === kind && b.kind === kind && a.counts && b.counts) out.push({ on: b.p99Ms, off: a.p99Ms });
    }
    return comparePairs(out);
  };
  const byPhase: Record<string, ReturnType<typeof comparePairs>> = {};
  for (const phase of new Set(pairs.map((p) => p.on.phase ?? '-'))) {
    byPhase[phase] = comparePairs(pairs.filter((p) => (p.on.phase ?? '-') === phase).map((p) => ({ on: p.on.p99Ms, off: p.off.p99Ms })));
  }
  return {
    windowSeconds: windowMs / 1000,
    order: 'ABBA',
    all: comparePairs(pairs.map((p) => ({ on: p.on.p99Ms, off: p.off.p99Ms }))),
    // The same pairs by their p90 and p95: whether the move delays a few writes or many.
    p90: comparePairs(pairs.map((p) => ({ on: p.on.p90Ms, off: p.off.p90Ms }))),
    p95: comparePairs(pairs.map((p) => ({ on: p.on.p95Ms, off: p.off.p95Ms }))),
    // Where the slowest writes' time went, the mean over the windows of each kind (ms).
    tailByKind: Object.fromEntries(
      (['on', 'off'] as const).map((kind) => {
        const ws = measured.filter((w) => w.kind === kind && w.counts);
        const avg = (f: (w: Measured) => number) => (ws.length === 0 ? 0 : +(ws.reduce((a, w) => a + f(w), 0) / ws.length).toFixed(2));
        return [
          kind === 'on' ? 'working' : 'paused',
          {
            windows: ws.length,
            lateMs: avg((w) => w.tail.lateMs),
            beforeMs: avg((w) => w.tail.beforeMs),
            insertMs: avg((w) => w.tail.insertMs),
            commitMs: avg((w) => w.tail.commitMs),
          },
        ];
      }),
    ),
    // The writers' event loop: how late their writes began, working against paused.
    lateness: comparePairs(pairs.map((p) => ({ on: Math.max(0.1, p.on.lateP99Ms), off: Math.max(0.1, p.off.lateP99Ms) }))),
    byPhase,
    // The unpaced work (never held): the pairs whose working window holds the catch-up or the fence.
    catchUpAndFence: pairs
      .filter((p) => p.on.phases.includes('catch-up') || p.on.phases.includes('fence'))
      .map((p) => ({ onP99Ms: p.on.p99Ms, offP99Ms: p.off.p99Ms, ratio: +(p.on.p99Ms / p.off.p99Ms).toFixed(3), phases: p.on.phases })),
    // The noise of one pair: neighbours that differ in time only (both paused, both working).
    sameKindNeighbours: { bothPaused: neighbours('off'), bothWorking: neighbours('on') },
    // A paused window should touch one phase: more means the move worked in it.
    pausedWindowsTouchingTwoPhases: measured.filter((w) => w.kind === 'off' && w.phases.length > 1).length,
    pairs: pairs.map((p) => ({
      onP99Ms: p.on.p99Ms,
      offP99Ms: p.off.p99Ms,
      ratio: +(p.on.p99Ms / p.off.p99Ms).toFixed(3),
      onFirst: p.onFirst,
      phase: p.on.phase,
    })),
    windows: measured,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      records: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      rate: { type: 'string' },
      baseline: { type: 'string' },
      'rows-per-second': { type: 'string' },
      diagnose: { type: 'boolean' },
      'batch-rows': { type: 'string' },
      runner: { type: 'string' },
      'neighbour-waits': { type: 'boolean' },
      'bulk-commit': { type: 'string' },
      'max-duty': { type: 'string' },
      nice: { type: 'string' },
      'nice-backends': { type: 'boolean' },
      paired: { type: 'boolean' },
      window: { type: 'string' },
    },
  });
  const records = Number(values.records ?? 1_000_000);
  const from = (values.from ?? 'pooled') as IsolationModel;
  const to = (values.to ?? 'database') as IsolationModel;
  const rate = Number(values.rate ?? 50);
  const baselineMs = Number(values.baseline ?? 30) * 1000;
  // The control plane's default pace (TENANT_MOVE_ROWS_PER_SECOND); 0 runs the move unpaced.
  const rowsPerSecond = Number(values['rows-per-second'] ?? DEFAULT_MOVE_ROWS_PER_SECOND);
  // Where the move runs. The writers stand in for the edge (a TenantDataRouter as the application
  // role); in production the move runs in the control plane, never in the edge process, so the
  // faithful default is a process of its own. `inline` (the default before 2026-12-07 06:00 UTC)
  // shares the writers' event loop, a cost no deployment pays.
  const runner = values.runner ?? 'process';
  if (runner !== 'inline' && runner !== 'process') throw new Error(`--runner must be inline or process (got ${runner})`);
  // How the move's bulk work commits: `async` is RunMoveOptions.asyncBulkCommit (its default since
  // 2026-12-07 13:50 UTC), `sync` the runs before.
  const bulkCommit = values['bulk-commit'] ?? 'async';
  if (bulkCommit !== 'sync' && bulkCommit !== 'async') throw new Error(`--bulk-commit must be sync or async (got ${bulkCommit})`);
  const asyncBulkCommit = bulkCommit === 'async';
  // The share of the wall clock the paced bulk work takes at most (RunMoveOptions.maxDuty).
  const maxDuty = Number(values['max-duty'] ?? DEFAULT_MOVE_MAX_DUTY);
  if (!(maxDuty > 0 && maxDuty <= 1)) throw new Error(`--max-duty must be in (0, 1] (got ${values['max-duty']})`);
  // --paired: the window of each half of a pair, ms.
  const windowMs = Number(values.window ?? 10) * 1000;
  if (!(windowMs >= 1000)) throw new Error(`--window must be a number of seconds >= 1 (got ${values.window})`);
  const pauses = values.paired ? new PauseChannel() : undefined;
  if (!MODELS.includes(from) || !MODELS.includes(to) || from === to) throw new Error(`--from and --to must be two different models of ${MODELS.join(', ')}`);

  const benchDb = `fairway_bench_move_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(ADMIN);
  adminUrl.pathname = `/${benchDb}`;
  process.stderr.write(`[move] preparing ${benchDb}\n`);
  const prepared = await prepareDatabase(adminUrl.toString());
  const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'bench-move-owner', max: 8 });
  const app = createPool({ connectionString: prepared.urls.app, applicationName: 'bench-move-app', max: 10 });
  const data = new TenantDataRouter({ catalogPool: app, catalogUrl: prepared.urls.app, applicationName: 'bench-move-data' });
  await data.start();
  // The other tenant writes through a pool of its own, so that PostgreSQL's view of its sessions
  // (--diagnose) is its own: another service of the same application, as the edge and a worker are.
  const otherApp = createPool({ connectionString: prepared.urls.app, applicationName: 'bench-move-other', max: 10 });
  const otherData = new TenantDataRouter({ catalogPool: otherApp, catalogUrl: prepared.urls.app, applicationName: 'bench-move-other-data' });
  await otherData.start();
  let sampler: ServerWaitSampler | undefined;
  let neighbourWaits: Pool | undefined;
  let diagnosis: Record<string, PhaseDiagnosis> | undefined;
  const provisioning = { ownerPool: owner, ownerUrl: prepared.urls.owner };
  const moving = 'bench-moving' as TenantId;
  const other = 'bench-other' as TenantId;
  let out: Record<string, unknown> | undefined;
  try {
    const movingEntry = await provisionTenant(provisioning, { id: moving, isolationModel: from });
    await provisionTenant(provisioning, { id: other, isolationModel: 'pooled' });
    const table = from === 'schema' ? `"${movingEntry.schemaName}".records` : 'records';
    if (from === 'database') {
      // The tenant database is filled through its own connection as the owner.
      const url = new URL(prepared.urls.owner);
      url.pathname = `/${movingEntry.dbName}`;
      const tenantDb = createPool({ connectionString: url.toString(), applicationName: 'bench-move-fill', max: 1 });
      await fill(tenantDb, moving, from, table, records);
      await tenantDb.end();
    } else {
      await fill(owner, moving, from, table, records);
    }
    await fill(owner, other, 'pooled', 'records', 10_000);
    await owner.query('ANALYZE records');
    {
      // The fill's dirty pages written out now, so that no window of the run pays for them (the
      // first "before" window did: its p99 was the run's worst in four runs of four, 04:16-04:45 UTC).
      const server = new URL(ADMIN);
      const admin = new Client({ connectionString: server.toString() });
      await admin.connect();
      await admin.query('CHECKPOINT').finally(() => admin.end());
    }
    const before = await digestOf(data, moving, []);
    process.stderr.write(`[move] ${moving} holds ${before.rows} records; digest ${before.digest}\n`);

    const movingWriter = new RateWriter(data, moving, rate);
    const otherWriter = new RateWriter(otherData, other, rate);
    if (values.diagnose) {
      const server = new URL(ADMIN);
      server.pathname = '/postgres';
      const client = new Client({ connectionString: server.toString(), application_name: 'bench-move-sampler' });
      await client.connect();
      sampler = new ServerWaitSampler(client, benchDb);
    }
    // Both tenants write throughout (the "writing 50 records/s throughout"): before, during
    // and after the move, so that the windows with no move carry the same writes as those with one.
    // The first 10 s are a warm-up, in no window: the pools open their connections and the routers
    // load their routes (the first 10-s window's p99 was 202.6 and 320.3 ms in two runs, 05:01 UTC).
    otherWriter.start();
    movingWriter.start();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const t0 = performance.now();
    sampler?.start('before');
    process.stderr.write(`[move] baseline: both tenants write ${rate}/s for ${baselineMs / 1000} s\n`);
    await new Promise((resolve) => setTimeout(resolve, baselineMs));
    const moveStart = performance.now();
    sampler?.mark('prepare');
    /** When each phase of the move began (performance.now()). */
    const phaseStarts: Array<[string, number]> = [['prepare', moveStart]];
    const pace: Record<string, BulkPaceReport> = {};
    const { move, runId } = await startTenantMove(provisioning, moving, { to, graceMs: 0, actor: 'bench' });
    let lastLine = 0;
    // --diagnose --paired: the sampler's label is the phase and whether the move works or is paused.
    let currentPhase = 'prepare';
    let currentKind: WindowKind | undefined;
    const relabel = () => sampler?.mark(currentKind === undefined ? currentPhase : `${currentKind === 'on' ? 'working' : 'paused'} ${currentPhase}`);
    const onPhase = (phase: string) => {
      phaseStarts.push([phase, performance.now()]);
      currentPhase = phase;
      relabel();
      process.stderr.write(`[move] phase ${phase} at ${((performance.now() - moveStart) / 1000).toFixed(1)} s\n`);
    };
    // --paired: each window's figures on stderr as the run goes, one window late (its last writes
    // have completed by then), so that a run stopped part way still gives its pairs:
    // `node scripts/run-ts.cjs bench/move-paired-pool.ts --log <stderr>` compares them.
    // The writer's sample count at each window's start: the window's writes are recorded after it.
    const recordedAtStart: number[] = [];
    const logWindow = (windows: readonly PairedWindow[], index: number) => {
      const w = windows[index];
      if (w === undefined) return;
      const latencies = otherWriter.latencies(w.from, w.to, recordedAtStart[index] ?? 0).sort((a, b) => a - b);
      const { phase } = phasesOf(phaseStarts, performance.now(), w.from, w.to);
      process.stderr.write(
        `[move] window ${index} ${w.kind} ${phase ?? '-'} ${((w.to - w.from) / 1000).toFixed(2)} s, ${latencies.length} writes, p99 ${percentile(latencies, 99).toFixed(1)} ms\n`,
      );
    };
    const batchRows = values['batch-rows'] === undefined ? undefined : Number(values['batch-rows']);
    // --neighbour-waits: the pace also backs off on the other tenants' WAL and client waits, polled
    // as the server's superuser (the move's own role cannot see other roles' wait events).
    const ownerRole = decodeURIComponent(new URL(prepared.urls.owner).username);
    if (values['neighbour-waits'] && runner === 'inline') {
      neighbourWaits = createPool({ connectionString: ADMIN, applicationName: 'bench-move-waits', max: 1 });
    }
    let inlineHold: MoveHold | undefined;
    if (pauses && runner === 'inline') {
      const hold = new MoveHold(() => pauses.held());
      pauses.connect((command) => (command === 'hold' ? hold.pause() : hold.resume()));
      inlineHold = hold;
    }
    const moving$: Promise<TenantMoveStatus> =
      runner === 'process'
        ? runInProcess(
            prepared.urls.owner,
            move.id,
            runId,
            rowsPerSecond,
            batchRows,
            values['neighbour-waits'] === true,
            asyncBulkCommit,
            maxDuty,
            onPhase,
            (phase, report) => (pace[phase] = report),
            pauses,
            (pid) => sampler?.addProcess(pid, 'move runner process'),
            { ...(values.nice === undefined ? {} : { runner: values.nice }), backends: values['nice-backends'] === true },
          )
        : runTenantMove(provisioning, move.id, runId, {
            rowsPerSecond,
            asyncBulkCommit,
            maxDuty,
            ...(neighbourWaits === undefined ? {} : { neighbourWaits: { probe: neighbourWaitProbe(neighbourWaits, ownerRole) } }),
            ...(batchRows === undefined ? {} : { batchRows }),
            ...(inlineHold ? { hold: inlineHold.hold } : {}),
            onPace: (phase, report) => {
              pace[phase] = report;
            },
            onPhase,
            onProgress: (p) => {
              if (performance.now() - lastLine < 2000) return;
              lastLine = performance.now();
              process.stderr.write(`[move]   ${p.phase}: ${p.copied}/${p.sourceRows ?? '?'} copied, ${p.caughtUp} changes caught up\n`);
            },
          });
    const alternating = pauses
      ? alternate(
          pauses,
          moving$.then(
            () => undefined,
            () => undefined,
          ),
          windowMs,
          (kind) => {
            currentKind = kind;
            relabel();
            recordedAtStart.push(otherWriter.recorded);
          },
          (windows) => logWindow(windows, windows.length - 2),
        )
      : Promise.resolve([]);
    const done = await moving$;
    const moveEnd = performance.now();
    const pairedWindows = await alternating;
    currentKind = undefined;
    sampler?.mark('after');
    // Both go on as long again as before: a second reference for the noise.
    process.stderr.write(`[move] after: both tenants write ${rate}/s for ${baselineMs / 1000} s\n`);
    await new Promise((resolve) => setTimeout(resolve, baselineMs));
    const afterEnd = performance.now();
    await Promise.all([otherWriter.stop(), movingWriter.stop()]);
    diagnosis = sampler?.stop();
    process.stderr.write(`[move] ${done.state} in ${((moveEnd - moveStart) / 1000).toFixed(1)} s; checking every write\n`);

    // Every acknowledged write, by id and checksum, in the tenant's new place.
    const ackedIds = [...movingWriter.acked.keys()];
    const found = new Map<string, string>();
    for (let i = 0; i < ackedIds.length; i += 5000) {
      const { rows } = await data.withTenant(moving, (tx) =>
        tx.query<{ id: string; d: string }>(`SELECT id::text, ${DIGEST} AS d FROM records WHERE id = ANY($1::uuid[])`, [ackedIds.slice(i, i + 5000)]),
      );
      for (const row of rows) found.set(row.id, row.d);
    }
    const lost = ackedIds.filter((id) => found.get(id) !== movingWriter.acked.get(id)).length;
    const seeded = await digestOf(data, moving, ackedIds);
    const total = seeded.rows + found.size;
    const duplicated = Math.max(0, total - (before.rows + movingWriter.acked.size)) + movingWriter.duplicates;
    const phaseMs = done.phaseMs;
    const copySeconds = (phaseMs['copy'] ?? 0) / 1000;
    const during = { from: moveStart, to: moveEnd };
    // The other tenant's noise with no move: the p99 of each 10-s window before and after the move.
    const quiet = [...windowP99s(otherWriter.samples, t0, moveStart, 10_000), ...windowP99s(otherWriter.samples, moveEnd, afterEnd, 10_000)];
    const duringWindows = windowP99s(otherWriter.samples, moveStart, moveEnd, 10_000);
    const duringStats = stats(otherWriter.latencies(during.from, during.to));
    const quietMax = quiet.length > 0 ? Math.max(...quiet) : null;
    // Each bulk phase of the move on its own: where the other tenant's tail comes from.
    const byPhase: Record<string, ReturnType<typeof stats>> = {};
    phaseStarts.forEach(([phase, start], i) => {
      const end = phaseStarts[i + 1]?.[1] ?? moveEnd;
      const latencies = otherWriter.latencies(start, end);
      if (latencies.length > 0) byPhase[phase] = stats(latencies);
    });
    const paired = pauses ? pairedReport(otherWriter, pairedWindows, phaseStarts, moveStart, moveEnd, windowMs) : undefined;
    out = {
      benchmark: 'move',
      unit: 'one tenant moved while it and another tenant write: records/s, ms',
      date: new Date().toISOString(),
      results: [
        {
          impl: 'fairway',
          from,
          to,
          records,
          ratePerSec: rate,
          rowsPerSecond,
          runner,
          neighbourWaits: values['neighbour-waits'] === true,
          bulkCommit,
          maxDuty,
          nice: values.nice ?? null,
          niceBackends: values['nice-backends'] === true,
          paired: pauses !== undefined,
          state: done.state,
          error: done.error,
          moveSeconds: +((moveEnd - moveStart) / 1000).toFixed(1),
          copiedRecords: done.copied,
          copyRecordsPerSec: copySeconds > 0 ? Math.round(done.copied / copySeconds) : null,
          catchUpChanges: done.caughtUp,
          catchUpPasses: done.catchUpPasses,
          phaseMs,
          writeFenceMs: done.fenceMs,
          pace,
          verifiedRows: done.verified?.rows ?? null,
          moving: {
            tenant: moving,
            ...stats(movingWriter.latencies(during.from, during.to)),
            before: stats(movingWriter.latencies(t0, moveStart)),
            after: stats(movingWriter.latencies(moveEnd, afterEnd)),
            refusals: movingWriter.refusals,
            failures: movingWriter.failures.length,
            failureSample: movingWriter.failures.slice(0, 3),
          },
          other: {
            tenant: other,
            before: stats(otherWriter.latencies(t0, moveStart)),
            during: duringStats,
            after: stats(otherWriter.latencies(moveEnd, afterEnd)),
            duringByPhase: byPhase,
            // "Within noise": the during-move p99 is no higher than the highest 10-s window p99 with no move.
            noise: {
              quietWindowP99sMs: quiet,
              quietP99MinMs: quiet.length > 0 ? Math.min(...quiet) : null,
              quietP99MaxMs: quietMax,
              quietWindowP99MedianMs: median(quiet),
              duringWindowP99sMs: duringWindows,
              duringWindowP99MedianMs: median(duringWindows),
              duringWindowsAboveQuietMax: quietMax === null ? null : duringWindows.filter((p) => p > quietMax).length,
              duringP99WithinNoise: quietMax === null ? null : duringStats.p99Ms <= quietMax,
              // Are the during-move windows higher than the quiet ones? A small p says the move shifted them.
              duringHigherThanQuiet: shiftTest(quiet, duringWindows),
            },
            ...(paired ? { paired } : {}),
            refusals: otherWriter.refusals,
            failures: otherWriter.failures.length,
          },
          check: {
            ackedWrites: movingWriter.acked.size,
            lostWrites: lost,
            duplicatedWrites: duplicated,
            seedRowsUnchanged: seeded.rows === before.rows && seeded.digest === before.digest,
          },
          ...(diagnosis ? { diagnosis } : {}),
        },
      ],
    };
  } finally {
    await sampler?.close();
    await neighbourWaits?.end();
    await Promise.all([data.close(), otherData.close()]);
    await Promise.all([owner.end(), app.end(), otherApp.end()]);
    const dropped = await dropBenchDatabases(ADMIN, { like: `${benchDb}%` });
    process.stderr.write(`[move] dropped ${dropped.join(', ')}\n`);
  }
  console.log(values.json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(`bench:move failed: ${(err as Error).stack}`);
  process.exit(1);
});
