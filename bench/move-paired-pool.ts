/**
 * Pools the paired windows of several bench:move --paired reports (JSON files, one per run, each
 * the bench's stdout) into one paired comparison (bench/lib/paired-windows.ts): over all their
 * pairs, by phase, and the same-kind neighbours' noise. A 400,000-record move gives about 10 pairs,
 * too few for an interval that says much; runs of the same settings pooled give more.
 *
 *   node scripts/run-ts.cjs bench/move-paired-pool.ts run1.json run2.json ...
 */
import { readFileSync } from 'node:fs';
import { comparePairs, type WindowPair } from './lib/paired-windows';

interface Report {
  results: Array<{
    other: {
      paired?: {
        pairs: Array<{ onP99Ms: number; offP99Ms: number; phase: string | null }>;
        windows: Array<{ kind: 'on' | 'off'; p99Ms: number; counts: boolean }>;
      };
    };
  }>;
}

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: move-paired-pool <report.json> ...');
  const all: WindowPair[] = [];
  const byPhase = new Map<string, WindowPair[]>();
  const paused: WindowPair[] = [];
  const working: WindowPair[] = [];
  for (const file of files) {
    const paired = (JSON.parse(readFileSync(file, 'utf8')) as Report).results[0]?.other.paired;
    if (!paired) throw new Error(`${file} is not a report of bench:move --paired`);
    for (const p of paired.pairs) {
      const pair = { on: p.onP99Ms, off: p.offP99Ms };
      all.push(pair);
      const phase = p.phase ?? '-';
      byPhase.set(phase, [...(byPhase.get(phase) ?? []), pair]);
    }
    // Neighbours of the same kind, as bench:move counts them: windows 2k+1 and 2k+2.
    const w = paired.windows;
    for (let i = 1; i + 1 < w.length; i += 2) {
      const a = w[i];
      const b = w[i + 1];
      if (!a || !b || !a.counts || !b.counts || a.kind !== b.kind) continue;
      (a.kind === 'off' ? paused : working).push({ on: b.p99Ms, off: a.p99Ms });
    }
  }
  console.log(
    JSON.stringify({
      runs: files.length,
      all: comparePairs(all),
      byPhase: Object.fromEntries([...byPhase].map(([phase, pairs]) => [phase, comparePairs(pairs)])),
      sameKindNeighbours: { bothPaused: comparePairs(paused), bothWorking: comparePairs(working) },
    }),
  );
}

main();
