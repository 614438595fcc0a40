import { BulkPace } from './bulk-pace';

/** Runs `batches` batches of the pace's own size, each costing `msPerRow(i)` per row; returns the waits and the last batch. */
function drive(pace: BulkPace, batches: number, msPerRow: (i: number) => number): { waits: number[]; rows: number[]; clock: number } {
  let clock = 0;
  const waits: number[] = [];
  const rows: number[] = [];
  for (let i = 0; i < batches; i += 1) {
    const n = pace.batchRows();
    const work = n * msPerRow(i);
    clock += work;
    const wait = pace.done(n, work, clock);
    clock += wait;
    waits.push(wait);
    rows.push(n);
  }
  return { waits, rows, clock };
}

describe('BulkPace', () => {
  it('is off with a ceiling of 0: the largest batches and no waits', () => {
    const pace = new BulkPace({ ceiling: 0, maxBatch: 5000 });
    expect(pace.paced).toBe(false);
    expect(pace.batchRows()).toBe(5000);
    expect(pace.done(5000, 80, 80)).toBe(0);
  });

  it('takes batches of batchMs of work at the pace, within minBatch and maxBatch', () => {
    expect(new BulkPace({ ceiling: 20_000 }).batchRows()).toBe(1000);
    expect(new BulkPace({ ceiling: 20_000, batchMs: 10 }).batchRows()).toBe(500);
    expect(new BulkPace({ ceiling: 1000, minBatch: 300 }).batchRows()).toBe(300);
    expect(new BulkPace({ ceiling: 1_000_000, maxBatch: 4000 }).batchRows()).toBe(4000);
  });

  it('never goes above the ceiling on average when the work is fast', () => {
    const pace = new BulkPace({ ceiling: 20_000 });
    const run = drive(pace, 200, () => 0.005);
    const rows = run.rows.reduce((a, b) => a + b, 0);
    expect((rows * 1000) / run.clock).toBeLessThanOrEqual(20_000 * 1.0001);
    expect((rows * 1000) / run.clock).toBeGreaterThan(19_000);
    expect(pace.report().backoffs).toBe(0);
  });

  it('keeps the work to maxDuty of the wall clock when the work is slower than the ceiling allows', () => {
    // 0.2 ms a row: 1,000 rows take 200 ms, so the ceiling (20,000/s) is out of reach; the duty rules.
    const pace = new BulkPace({ ceiling: 20_000, maxDuty: 0.25 });
    const run = drive(pace, 50, () => 0.2);
    const work = run.rows.reduce((a, b) => a + b * 0.2, 0);
    expect(work / run.clock).toBeCloseTo(0.25, 5);
  });

  it('halves the pace when a batch costs more than slowdown x the recent median per row, not below the floor', () => {
    const pace = new BulkPace({ ceiling: 20_000, floor: 2000, slowdown: 2 });
    drive(pace, 5, () => 0.01);
    expect(pace.report().rowsPerSecond).toBe(20_000);
    drive(pace, 1, () => 0.03);
    expect(pace.report()).toMatchObject({ rowsPerSecond: 10_000, backoffs: 1 });
    // Each batch slower than the last by 2.5x: each one a new onset of contention.
    drive(pace, 10, (i) => 0.03 * 2.5 ** (i + 1));
    expect(pace.report().rowsPerSecond).toBe(2000);
    expect(pace.report().lowestRowsPerSecond).toBe(2000);
  });

  it('takes one fast outlier batch in its stride: the median, not the best, is the yardstick', () => {
    const pace = new BulkPace({ ceiling: 20_000, slowdown: 2 });
    drive(pace, 3, () => 0.01);
    drive(pace, 1, () => 0.002);
    drive(pace, 10, () => 0.015);
    expect(pace.report().backoffs).toBe(0);
  });

  it('waits longer after a back-off: the next batches run at the lower pace', () => {
    const pace = new BulkPace({ ceiling: 20_000, slowdown: 2 });
    drive(pace, 5, () => 0.01);
    const before = pace.batchRows();
    const wait = pace.done(before, before * 0.03, 10_000);
    // 1,000 rows at 10,000 rows/s: 100 ms in all, 30 of them working.
    expect(wait).toBeCloseTo(70, 5);
    expect(pace.batchRows()).toBe(500);
  });

  it('climbs back to the ceiling within rampMs once batches are fast again', () => {
    const pace = new BulkPace({ ceiling: 20_000, floor: 1000, rampMs: 10_000 });
    drive(pace, 3, () => 0.01);
    drive(pace, 6, (i) => 0.01 * 2.5 ** (i + 1));
    expect(pace.report().rowsPerSecond).toBeLessThan(2000);
    const run = drive(pace, 400, () => 0.01);
    expect(run.clock).toBeLessThan(30_000);
    expect(pace.report().rowsPerSecond).toBe(20_000);
  });

  it('does not judge a batch of the fewest rows as slow (its round trips dominate)', () => {
    const pace = new BulkPace({ ceiling: 20_000, minBatch: 200 });
    drive(pace, 5, () => 0.01);
    pace.done(50, 50 * 0.1, 5_000);
    expect(pace.report().backoffs).toBe(0);
  });

  it("halves the pace when the other tenants' sessions wait more, even if the batch itself is not slow", () => {
    const pace = new BulkPace({ ceiling: 20_000, floor: 2000 });
    drive(pace, 5, () => 0.01);
    const rows = pace.batchRows();
    pace.done(rows, rows * 0.01, 10_000, true);
    expect(pace.report()).toMatchObject({ rowsPerSecond: 10_000, backoffs: 1, neighbourBackoffs: 1 });
    // A slow batch while the neighbours also wait is one back-off, counted as the batch's own.
    pace.done(500, 500 * 0.05, 10_100, true);
    expect(pace.report()).toMatchObject({ rowsPerSecond: 5000, backoffs: 2, neighbourBackoffs: 1 });
  });

  it('waits out its duty after a batch that found no rows, without judging or changing the pace', () => {
    const pace = new BulkPace({ ceiling: 20_000, maxDuty: 0.25 });
    drive(pace, 5, () => 0.01);
    const before = pace.report();
    // 40 ms reading a stretch of the table that held none of the tenant's rows: 120 ms at a duty of 0.25.
    expect(pace.done(0, 40, 1_000)).toBeCloseTo(120, 5);
    expect(pace.report()).toMatchObject({
      rowsPerSecond: before.rowsPerSecond,
      backoffs: 0,
      batches: before.batches + 1,
      emptyBatches: 1,
      waitedMs: before.waitedMs + 120,
    });
    // A fast batch of rows after it is not judged against the empty one.
    pace.done(pace.batchRows(), pace.batchRows() * 0.01, 2_000);
    expect(pace.report().backoffs).toBe(0);
  });

  it("keeps a run of empty batches (a sweep past the tenant's rows) to maxDuty of the wall clock", () => {
    const pace = new BulkPace({ ceiling: 20_000, maxDuty: 0.5 });
    let clock = 0;
    let work = 0;
    for (let i = 0; i < 50; i += 1) {
      const rows = i % 5 === 0 ? pace.batchRows() : 0;
      const ms = rows > 0 ? rows * 0.02 : 30;
      clock += ms;
      work += ms;
      clock += pace.done(rows, ms, clock);
    }
    expect(work / clock).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(pace.report().emptyBatches).toBe(40);
  });

  it.each([
    ['a negative ceiling', { ceiling: -1 }, /ceiling must be a number of rows a second >= 0 \(got -1\)/],
    ['a ceiling that is not a number', { ceiling: Number.NaN }, /ceiling/],
    ['a duty of 0', { ceiling: 1000, maxDuty: 0 }, /maxDuty must be in \(0, 1\] \(got 0\)/],
    ['a duty above 1', { ceiling: 1000, maxDuty: 1.5 }, /maxDuty/],
  ])('refuses %s', (_name, options, message) => {
    expect(() => new BulkPace(options)).toThrow(message);
  });
});
