/**
 * Paired windows (bench:move --paired): the move's bulk work paused and resumed in alternate
 * windows, so that each window with the move working has a neighbour without it under the same load
 * of the machine, and the comparison is of the pairs, not of a "before" against a "during" an hour
 * of drift apart. Pure: the benchmark passes the windows' p99s and the phases' start times.
 *
 * The statistic of a pair is the ratio of its two p99s (move working / move paused). Over the
 * pairs: the median ratio with a distribution-free confidence interval (order statistics of the
 * sorted ratios, from the binomial), an exact sign test, and a sign-flip permutation test of the
 * mean log ratio (if the move changed nothing, each pair's ratio is as likely r as 1/r).
 */

/** What a window had the move do. */
export type WindowKind = 'on' | 'off';

/**
 * The kind of window `index` in ABBA order (on off, off on, on off, ...): each pair holds one of
 * each, and the order alternates, so that a load rising or falling steadily through the run favours
 * neither kind.
 */
export function windowKind(index: number): WindowKind {
  const pair = Math.floor(index / 2);
  const first: WindowKind = pair % 2 === 0 ? 'on' : 'off';
  if (index % 2 === 0) return first;
  return first === 'on' ? 'off' : 'on';
}

/**
 * Whether a window counts in the comparison: it lasted at least 90 % of `windowMs` (the last one
 * ends with the move) and holds 100 writes (a p99 of fewer is its largest value).
 */
export function windowCounts(durationMs: number, writes: number, windowMs: number): boolean {
  return durationMs >= 0.9 * windowMs && writes >= 100;
}

/** The pairs of a run's windows in order (windows 2k and 2k+1), both of which count. */
export function pairWindows<W extends { kind: WindowKind; counts: boolean }>(windows: readonly W[]): Array<{ on: W; off: W; onFirst: boolean }> {
  const pairs: Array<{ on: W; off: W; onFirst: boolean }> = [];
  for (let i = 0; i + 1 < windows.length; i += 2) {
    const a = windows[i] as W;
    const b = windows[i + 1] as W;
    if (!a.counts || !b.counts) continue;
    pairs.push(a.kind === 'on' ? { on: a, off: b, onFirst: true } : { on: b, off: a, onFirst: false });
  }
  return pairs;
}

/**
 * The phase `[from, to)` spent most time in, and every phase it touched, from the phases' start
 * times in order (`[phase, start]`; the last lasts until `end`).
 */
export function phasesOf(starts: ReadonlyArray<readonly [string, number]>, end: number, from: number, to: number): { phase: string | null; phases: string[] } {
  const time = new Map<string, number>();
  starts.forEach(([phase, start], i) => {
    const stop = starts[i + 1]?.[1] ?? end;
    const overlap = Math.min(stop, to) - Math.max(start, from);
    // A phase of no length that begins inside the window (a fence of milliseconds) still counts as touched.
    if (overlap > 0 || (overlap === 0 && start >= from && start < to)) time.set(phase, (time.get(phase) ?? 0) + Math.max(0, overlap));
  });
  let phase: string | null = null;
  for (const [name, ms] of time) if (phase === null || ms > (time.get(phase) as number)) phase = name;
  return { phase, phases: [...time.keys()] };
}

/** P(X >= k) for X ~ Binomial(n, 1/2). */
export function binomialUpperTail(n: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let sum = 0;
  let term = 0.5 ** n; // C(n, 0) / 2^n
  for (let i = 0; i <= n; i += 1) {
    if (i >= k) sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return Math.min(1, sum);
}

/**
 * The distribution-free confidence interval of a median from `sorted` values: the k-th smallest and
 * the k-th largest, k the largest with P(Binomial(n, 1/2) < k) <= (1 - level) / 2. Null below 6
 * values at 95 % (no such k). Its coverage is the exact level it reaches, at least `level`.
 */
export function medianInterval(sorted: readonly number[], level = 0.95): { low: number; high: number; coverage: number } | null {
  const n = sorted.length;
  const alpha = (1 - level) / 2;
  let k = 0;
  // P(X < j) = 1 - P(X >= j).
  for (let j = 1; j <= Math.floor(n / 2); j += 1) if (1 - binomialUpperTail(n, j) <= alpha) k = j;
  if (k === 0) return null;
  const outside = 2 * (1 - binomialUpperTail(n, k));
  return { low: sorted[k - 1] as number, high: sorted[n - k] as number, coverage: 1 - outside };
}

/**
 * One-sided sign-flip test of the mean of `values` (log ratios): the share of the 2^n sign
 * assignments (all of them up to 2^16, else `shuffles` drawn from a fixed seed, so a report repeats)
 * whose mean is at least the observed one.
 */
export function signFlipP(values: readonly number[], shuffles = 20_000): number | null {
  const n = values.length;
  if (n === 0) return null;
  const observed = values.reduce((a, b) => a + b, 0);
  const abs = values.map(Math.abs);
  const eps = 1e-9 * (1 + abs.reduce((a, b) => a + b, 0));
  if (n <= 16) {
    let atLeast = 0;
    for (let mask = 0; mask < 1 << n; mask += 1) {
      let sum = 0;
      for (let i = 0; i < n; i += 1) sum += mask & (1 << i) ? -(abs[i] as number) : (abs[i] as number);
      if (sum >= observed - eps) atLeast += 1;
    }
    return atLeast / 2 ** n;
  }
  const random = mulberry32(20_261_207);
  let atLeast = 0;
  for (let s = 0; s < shuffles; s += 1) {
    let sum = 0;
    for (const a of abs) sum += random() < 0.5 ? -a : a;
    if (sum >= observed - eps) atLeast += 1;
  }
  return (atLeast + 1) / (shuffles + 1);
}

/** Pairs of one window with the move working (`on`) and its neighbour with the move paused (`off`), p99s in ms. */
export interface WindowPair {
  on: number;
  off: number;
}

/** What the pairs say: is the other tenants' p99 higher while the move works than while it is paused? */
export interface PairedComparison {
  pairs: number;
  /** Median of the pairs' ratios on / off (1: no change). */
  medianRatio: number | null;
  /** Its distribution-free 95 % interval (null below 6 pairs), and the coverage that interval reaches. */
  ratioInterval95: { low: number; high: number; coverage: number } | null;
  /** Quartiles of the ratios: the spread of one pair. */
  ratioQuartiles: { q1: number; q3: number } | null;
  /** Pairs whose on window was higher, lower, equal. */
  higher: number;
  lower: number;
  ties: number;
  /** Exact sign test, one-sided (on higher) and two-sided, ties left out. */
  signTestP: { higher: number; twoSided: number } | null;
  /** Sign-flip permutation test of the mean log ratio, one-sided (on higher). */
  signFlipP: number | null;
  /** The move's work raised the p99 at the 5 % level (signFlipP < 0.05). */
  higherAt5Percent: boolean | null;
}

function quantile(sorted: readonly number[], q: number): number {
  // Linear interpolation between order statistics (type 7, R's default).
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

function round(x: number, digits = 3): number {
  return +x.toFixed(digits);
}

/** The paired comparison of `pairs` (pairs with a p99 of 0 on either side are left out: no writes). */
export function comparePairs(pairs: readonly WindowPair[]): PairedComparison {
  const usable = pairs.filter((p) => p.on > 0 && p.off > 0);
  const logs = usable.map((p) => Math.log(p.on / p.off));
  const sorted = [...logs].sort((a, b) => a - b);
  const higher = usable.filter((p) => p.on > p.off).length;
  const lower = usable.filter((p) => p.on < p.off).length;
  const decided = higher + lower;
  const interval = medianInterval(sorted);
  const flip = signFlipP(logs);
  return {
    pairs: usable.length,
    medianRatio: sorted.length === 0 ? null : round(Math.exp(quantile(sorted, 0.5))),
    ratioInterval95: interval && { low: round(Math.exp(interval.low)), high: round(Math.exp(interval.high)), coverage: round(interval.coverage) },
    ratioQuartiles: sorted.length === 0 ? null : { q1: round(Math.exp(quantile(sorted, 0.25))), q3: round(Math.exp(quantile(sorted, 0.75))) },
    higher,
    lower,
    ties: usable.length - decided,
    signTestP:
      decided === 0
        ? null
        : {
            higher: +binomialUpperTail(decided, higher).toPrecision(2),
            twoSided: +Math.min(1, 2 * Math.min(binomialUpperTail(decided, higher), binomialUpperTail(decided, lower))).toPrecision(2),
          },
    signFlipP: flip === null ? null : +flip.toPrecision(2),
    higherAt5Percent: flip === null ? null : flip < 0.05,
  };
}

/** mulberry32: a small deterministic generator in [0, 1), enough to shuffle labels or flip signs. */
export function mulberry32(start: number): () => number {
  let seed = start;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
