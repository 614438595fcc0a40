/**
 * Pools the paired windows of several bench:move --paired reports (JSON files, one per run, each
 * the bench's stdout) into one paired comparison (bench/lib/paired-windows.ts): over all their
 * pairs, by phase, and the same-kind neighbours' noise. A 400,000-record move gives about 10 pairs,
 * too few for an interval that says much; runs of the same settings pooled give more.
 *
 *   node scripts/run-ts.cjs bench/move-paired-pool.ts run1.json run2.json ...
 *   node scripts/run-ts.cjs bench/move-paired-pool.ts --log run1.err [--window 10]
 *
 * `--log`: the files are bench:move --paired's stderr, whose `[move] window ...` lines give each
 * window's figures as the run goes (a window counts as in the report: at least 90 % of `--window` s
 * and 100 writes), so that a run stopped before its report still gives its pairs.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { comparePairs, pairWindows, windowCounts, type WindowPair } from './lib/paired-windows';

interface Report {
  results: Array<{
    other: {
      paired?: {
        pairs: Array<{ onP99Ms: number; offP99Ms: number; phase: string | null }>;
        windows: Window[];
      };
    };
  }>;
}

type Window = { kind: 'on' | 'off'; p99Ms: number; counts: boolean; phase: string | null };

/** The windows of one run from bench:move --paired's stderr (see the file comment), in order. */
function windowsOfLog(text: string, windowS: number): Window[] {
  const windows: Window[] = [];
  for (const line of text.split('\n')) {
    const m = /^\[move\] window (\d+) (on|off) (\S+) ([\d.]+) s, (\d+) writes, p99 ([\d.]+) ms$/.exec(line);
    if (!m) continue;
    const index = Number(m[1]);
    if (index !== windows.length) throw new Error(`window ${index} follows window ${windows.length - 1}: not one run's log`);
    windows.push({
      kind: m[2] as 'on' | 'off',
      p99Ms: Number(m[6]),
      counts: windowCounts(Number(m[4]) * 1000, Number(m[5]), windowS * 1000),
      phase: m[3] === '-' ? null : (m[3] as string),
    });
  }
  return windows;
}

function main(): void {
  const { values, positionals: files } = parseArgs({
    options: { log: { type: 'boolean' }, window: { type: 'string', default: '10' } },
    allowPositionals: true,
  });
  if (files.length === 0) throw new Error('usage: move-paired-pool <report.json> ... | --log <stderr> ... [--window s]');
  const windowS = Number(values.window);
  const all: WindowPair[] = [];
  const byPhase = new Map<string, WindowPair[]>();
  const paused: WindowPair[] = [];
  const working: WindowPair[] = [];
  for (const file of files) {
    let paired: { pairs: Array<{ onP99Ms: number; offP99Ms: number; phase: string | null }>; windows: Window[] } | undefined;
    if (values.log) {
      const windows = windowsOfLog(readFileSync(file, 'utf8'), windowS);
      if (windows.length === 0) throw new Error(`${file} holds no '[move] window' line of bench:move --paired`);
      paired = { pairs: pairWindows(windows).map(({ on, off }) => ({ onP99Ms: on.p99Ms, offP99Ms: off.p99Ms, phase: on.phase })), windows };
    } else {
      paired = (JSON.parse(readFileSync(file, 'utf8')) as Report).results[0]?.other.paired;
    }
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
