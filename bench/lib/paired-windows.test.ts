import { binomialUpperTail, comparePairs, medianInterval, pairWindows, phasesOf, signFlipP, windowCounts, windowKind } from './paired-windows';

describe('paired windows', () => {
  it('orders the windows ABBA: one of each kind in every pair, the first kind alternating', () => {
    expect(Array.from({ length: 8 }, (_, i) => windowKind(i))).toEqual(['on', 'off', 'off', 'on', 'on', 'off', 'off', 'on']);
  });

  it('names the phase a window spent most time in, and every phase it touched, a fence of no length included', () => {
    const starts: Array<[string, number]> = [
      ['copy', 0],
      ['catch-up', 9_000],
      ['fence', 9_500],
      ['verify', 9_500],
    ];
    expect(phasesOf(starts, 30_000, 0, 10_000)).toEqual({ phase: 'copy', phases: ['copy', 'catch-up', 'fence', 'verify'] });
    expect(phasesOf(starts, 30_000, 10_000, 20_000)).toEqual({ phase: 'verify', phases: ['verify'] });
    expect(phasesOf(starts, 30_000, 40_000, 50_000)).toEqual({ phase: null, phases: [] });
  });

  it.each([
    [10, 8, 56 / 1024],
    [10, 0, 1],
    [10, 11, 0],
    [4, 4, 1 / 16],
  ])('gives the binomial upper tail P(X >= k) of n = %i, k = %i', (n, k, p) => {
    expect(binomialUpperTail(n, k)).toBeCloseTo(p, 12);
  });

  it('gives the order-statistic interval of a median, none below 6 values at 95 %', () => {
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull();
    expect(medianInterval([1, 2, 3, 4, 5, 6])).toEqual({ low: 1, high: 6, coverage: 1 - 2 / 64 });
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(medianInterval(ten)).toEqual({ low: 2, high: 9, coverage: 1 - 22 / 1024 });
  });

  it('gives the exact sign-flip p up to 16 values and a seeded estimate above', () => {
    expect(signFlipP([1, 1, 1, 1, 1])).toBeCloseTo(1 / 32, 12);
    expect(signFlipP([1, -1, 1, -1])).toBeGreaterThan(0.5);
    expect(signFlipP([])).toBeNull();
    const twenty = Array.from({ length: 20 }, () => 0.5);
    const p = signFlipP(twenty) as number;
    expect(p).toBeLessThan(0.001);
    expect(signFlipP(twenty)).toBe(p);
  });

  it('finds a move that doubles every pair higher, with the median ratio and both tests', () => {
    const pairs = Array.from({ length: 8 }, (_, i) => ({ on: 20 + 2 * i, off: 10 + i }));
    expect(comparePairs(pairs)).toMatchObject({
      pairs: 8,
      medianRatio: 2,
      higher: 8,
      lower: 0,
      ties: 0,
      signTestP: { higher: +(1 / 256).toPrecision(2), twoSided: +(2 / 256).toPrecision(2) },
      signFlipP: +(1 / 256).toPrecision(2),
      higherAt5Percent: true,
      ratioInterval95: { low: 2, high: 2 },
    });
  });

  it('finds no shift when the pairs go both ways, and leaves out windows with no writes', () => {
    const pairs = [
      { on: 12, off: 10 },
      { on: 10, off: 12 },
      { on: 11, off: 11 },
      { on: 9, off: 10 },
      { on: 10, off: 9 },
      { on: 0, off: 10 },
    ];
    const result = comparePairs(pairs);
    expect(result).toMatchObject({ pairs: 5, medianRatio: 1, higher: 2, lower: 2, ties: 1, higherAt5Percent: false });
    expect(result.signTestP?.twoSided).toBe(1);
  });
});

describe('pairWindows and windowCounts', () => {
  it('pairs windows 2k and 2k+1 in either order and skips a pair with a window that does not count', () => {
    const w = (kind: 'on' | 'off', p99: number, counts = true) => ({ kind, p99, counts });
    const pairs = pairWindows([w('on', 4), w('off', 3), w('off', 2), w('on', 5), w('on', 9, false), w('off', 1), w('off', 7)]);
    expect(pairs.map(({ on, off, onFirst }) => [on.p99, off.p99, onFirst])).toEqual([
      [4, 3, true],
      [5, 2, false],
    ]);
  });

  it('counts a window of at least 90 % of its length with 100 writes', () => {
    expect(windowCounts(9_000, 100, 10_000)).toBe(true);
    expect(windowCounts(8_999, 500, 10_000)).toBe(false);
    expect(windowCounts(10_000, 99, 10_000)).toBe(false);
  });
});
