import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');

interface FaultResult {
  fault: string;
  acknowledged: number;
  lost: number;
  lostJobs: Array<{ jobId: string; state: string | null; attempts: number | null; lastError: string | null }>;
  duplicatedEffects: number;
  non503ServerErrors: number;
  answers: Record<string, number>;
}

/**
 * The fault suite in small (`npm run -s chaos`, bench/chaos.bench.ts): a stack of its own (its own
 * broker, PostgreSQL cluster and Redis, so killing them touches nothing shared), light steady load
 * through two edges, the broker killed and restarted, then a worker killed and restarted. Every 202
 * must end succeeded with one effect, no 5xx but 503, and the edge must accept again after each
 * fault (the suite itself waits for a 202 after each undo). No timing is asserted here: the full
 * suite reports the unavailability against its targets (docs/benchmarks.md).
 */
describe('fault suite (small): broker and worker killed under load', () => {
  jest.setTimeout(420_000);

  it('loses and duplicates nothing, answers 503 rather than other 5xx, and accepts again after each fault', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        path.join(root, 'scripts', 'run-ts.cjs'),
        'bench/chaos.bench.ts',
        '--json',
        '--faults',
        'broker-kill,worker-kill',
        '--rate',
        '15',
        '--tenants',
        '3',
        '--settle',
        '1',
        '--broker-outage',
        '3',
      ],
      // dist/ as `npm test` built it: the suite must not rebuild it under the running e2e stack.
      { cwd: root, env: { ...process.env, FAIRWAY_DIST: path.join(root, 'dist') }, maxBuffer: 16 * 1024 * 1024, timeout: 400_000 },
    );
    const report = JSON.parse(stdout) as { results: FaultResult[]; lostTotal: number; duplicatedEffectsTotal: number };
    const byFault = new Map(report.results.map((r) => [r.fault, r]));
    expect([...byFault.keys()]).toEqual(['none', 'broker-kill', 'worker-kill']);
    // The lost jobs with their states, so that a failure says where a job stopped.
    expect({ lostTotal: report.lostTotal, lostJobs: report.results.flatMap((r) => r.lostJobs.map((job) => ({ fault: r.fault, ...job }))) }).toEqual({
      lostTotal: 0,
      lostJobs: [],
    });
    expect(report.duplicatedEffectsTotal).toBe(0);
    for (const result of report.results) {
      expect({ fault: result.fault, lost: result.lost, duplicated: result.duplicatedEffects, non503: result.non503ServerErrors }).toEqual({
        fault: result.fault,
        lost: 0,
        duplicated: 0,
        non503: 0,
      });
      expect(result.acknowledged).toBeGreaterThan(0);
    }
    // The broker was really gone: the edge refused commands with 503 while it was.
    expect(byFault.get('broker-kill')?.answers['503'] ?? 0).toBeGreaterThan(0);
  });
});
