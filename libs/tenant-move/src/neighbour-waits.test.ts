import { NeighbourWaits } from './neighbour-waits';

describe('NeighbourWaits', () => {
  it('is never busy before it is calibrated', () => {
    const waits = new NeighbourWaits({ window: 3 });
    for (let i = 0; i < 5; i += 1) waits.observe(9);
    expect(waits.quietMean).toBeUndefined();
    expect(waits.busy()).toBe(false);
  });

  it('takes the mean of the quiet polls as its baseline', () => {
    const waits = new NeighbourWaits();
    waits.calibrate([0, 1, 0, 1]);
    expect(waits.quietMean).toBe(0.5);
  });

  it('waits for a full window of polls before judging', () => {
    const waits = new NeighbourWaits({ window: 4, factor: 2, margin: 0 });
    waits.calibrate([0, 0, 1, 1]);
    for (let i = 0; i < 3; i += 1) waits.observe(5);
    expect(waits.busy()).toBe(false);
    waits.observe(5);
    expect(waits.busy()).toBe(true);
  });

  it('is busy only above factor x the baseline plus the margin', () => {
    const waits = new NeighbourWaits({ window: 4, factor: 2, margin: 0.25 });
    waits.calibrate([1, 1, 1, 1]);
    // Threshold 2.25 waiting sessions a poll: a mean of 2.25 is not above it, 2.5 is.
    [2, 2, 2, 3].forEach((n) => waits.observe(n));
    expect(waits.busy()).toBe(false);
    waits.observe(4);
    expect(waits.busy()).toBe(true);
  });

  it('does not take one waiting session in a window of a quiet baseline of 0 as busy (the margin)', () => {
    const waits = new NeighbourWaits({ window: 10 });
    waits.calibrate([0, 0, 0]);
    for (let i = 0; i < 9; i += 1) waits.observe(0);
    waits.observe(1);
    expect(waits.busy()).toBe(false);
    waits.observe(1);
    expect(waits.busy()).toBe(true);
  });

  it('judges only the last window of polls: an old burst slides out', () => {
    const waits = new NeighbourWaits({ window: 3, factor: 2, margin: 0 });
    waits.calibrate([1]);
    [6, 6, 6].forEach((n) => waits.observe(n));
    expect(waits.busy()).toBe(true);
    [1, 1, 1].forEach((n) => waits.observe(n));
    expect(waits.busy()).toBe(false);
  });

  it('starts the window afresh after reset, so one burst backs the pace off once', () => {
    const waits = new NeighbourWaits({ window: 3, factor: 2, margin: 0 });
    waits.calibrate([1]);
    [6, 6, 6].forEach((n) => waits.observe(n));
    expect(waits.busy()).toBe(true);
    waits.reset();
    waits.observe(6);
    expect(waits.busy()).toBe(false);
  });

  it('refuses bad options and counts with a message naming the value', () => {
    expect(() => new NeighbourWaits({ window: 0 })).toThrow('window must be an integer >= 1 (got 0)');
    expect(() => new NeighbourWaits({ factor: 0.5 })).toThrow('factor must be a number >= 1 (got 0.5)');
    expect(() => new NeighbourWaits({ margin: -1 })).toThrow('margin must be a number >= 0 (got -1)');
    const waits = new NeighbourWaits();
    expect(() => waits.calibrate([])).toThrow('calibrate needs at least one poll');
    expect(() => waits.observe(-1)).toThrow('integer >= 0 (got -1)');
    expect(() => waits.observe(1.5)).toThrow('integer >= 0 (got 1.5)');
  });
});
