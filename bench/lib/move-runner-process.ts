/**
 * bench:move --runner process: runs one move in a process of its own, as a control plane does
 * (the tenants' writes come from another process, the edge), so that the benchmark's writers do
 * not share an event loop with the copy. Started by bench/move.bench.ts:
 *
 *   node scripts/run-ts.cjs bench/lib/move-runner-process.ts <owner url> <move id> <run id> <rows/s> [batch rows]
 *
 * Prints one JSON line per event on stdout: {"phase": ..., "at": <ms since start>}, {"pace": ...},
 * {"held": <phase>} (bench:move --paired) and last {"done": <TenantMoveStatus>}. Reads lines on
 * stdin: `hold` pauses the move's bulk work at its next hold point (RunMoveOptions.hold), answered
 * by {"held"} once it waits there; `release` lets it go on.
 */
import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { createPool } from '@fairway/db';
import { neighbourWaitProbe, runTenantMove } from '@fairway/tenant-move';
import { MoveHold } from './move-hold';

async function main(): Promise<void> {
  const [ownerUrl, moveId, runId, rowsPerSecond, batchRows] = process.argv.slice(2);
  if (!ownerUrl || !moveId || !runId || rowsPerSecond === undefined)
    throw new Error('usage: move-runner-process <owner url> <move id> <run id> <rows/s> [batch rows]');
  const ownerPool = createPool({ connectionString: ownerUrl, applicationName: 'bench-move-runner', max: 8 });
  // bench:move --nice <n> | --nice idle: the runner's own OS priority (a control plane can run its
  // moves in a child at a lower priority): a nice value, or `idle`, the SCHED_IDLE policy (chrt),
  // under which any ordinary task that wakes preempts it at once, where a niced task keeps a core for
  // the rest of its slice.
  const nice = process.env['BENCH_MOVE_NICE'];
  const lower = (pid: number): void => {
    if (nice === 'idle') execFileSync('chrt', ['--idle', '-p', '0', String(pid)]);
    else setPriority(pid, Number(nice));
  };
  if (nice) lower(process.pid);
  // bench:move --nice-backends (an experiment, not a deployment's lever: it needs the server's host
  // and root): the PostgreSQL backends serving this runner at the same priority, so that the test
  // tells whether the other tenants wait for the CPU the move's statements take.
  const reniced = new Set<number>();
  const renice =
    nice && process.env['BENCH_MOVE_NICE_BACKENDS'] === '1'
      ? setInterval(() => {
          void ownerPool
            .query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name IN ('bench-move-runner', 'fairway-tenant-move')`)
            .then(({ rows }) => {
              for (const { pid } of rows) {
                if (reniced.has(pid)) continue;
                reniced.add(pid);
                try {
                  lower(pid);
                } catch {
                  // A backend gone since the query.
                }
              }
            })
            .catch(() => undefined);
        }, 200)
      : undefined;
  // bench:move --neighbour-waits: the server's superuser URL, to see the other roles' wait events.
  const waitsUrl = process.env['BENCH_MOVE_NEIGHBOUR_WAITS'];
  const waitsPool = waitsUrl ? createPool({ connectionString: waitsUrl, applicationName: 'bench-move-waits', max: 1 }) : undefined;
  const ownerRole = decodeURIComponent(new URL(ownerUrl).username);
  const say = (event: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  };
  const pause = new MoveHold((phase) => say({ held: phase }));
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    if (line === 'hold') pause.pause();
    else if (line === 'release') pause.resume();
  });
  try {
    const done = await runTenantMove({ ownerPool, ownerUrl }, moveId, runId, {
      rowsPerSecond: Number(rowsPerSecond),
      // bench:move --bulk-commit async.
      asyncBulkCommit: process.env['BENCH_MOVE_BULK_COMMIT'] === 'async',
      // bench:move --max-duty.
      ...(process.env['BENCH_MOVE_MAX_DUTY'] ? { maxDuty: Number(process.env['BENCH_MOVE_MAX_DUTY']) } : {}),
      ...(batchRows === undefined ? {} : { batchRows: Number(batchRows) }),
      ...(waitsPool ? { neighbourWaits: { probe: neighbourWaitProbe(waitsPool, ownerRole) } } : {}),
      hold: pause.hold,
      onPhase: (phase) => say({ phase }),
      onPace: (phase, report) => say({ pace: { phase, report } }),
    });
    say({ done });
  } finally {
    clearInterval(renice);
    commands.close();
    process.stdin.destroy();
    await ownerPool.end();
    await waitsPool?.end();
  }
}

main().catch((err: unknown) => {
  console.error(`move runner failed: ${(err as Error).stack}`);
  process.exit(1);
});
