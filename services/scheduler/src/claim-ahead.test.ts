import { ClaimAhead, Ewma } from './claim-ahead';

describe('Ewma', () => {
  it('starts at its first sample and moves toward later ones by its weight', () => {
    const avg = new Ewma(0.5);
    expect(avg.value).toBeUndefined();
    avg.add(10);
    expect(avg.value).toBe(10);
    avg.add(20);
    expect(avg.value).toBe(15);
  });
});

describe('ClaimAhead', () => {
  /** A tier of `slots` whose claims took `claimMs` and whose jobs held their slot `runMs`. */
  function measured(slots: number, claimMs: number, runMs: number, maxPerSlot = 1) {
    const ahead = new ClaimAhead({ maxPerSlot, weight: 1 });
    ahead.setSlots('standard', slots);
    ahead.observeClaim(claimMs);
    ahead.observeRun('standard', runMs);
    return ahead;
  }

  it('claims nothing ahead before it has measured both a claim and a run', () => {
    const ahead = new ClaimAhead({ maxPerSlot: 1 });
    ahead.setSlots('standard', 24);
    expect(ahead.resize('standard', 0, true)).toBe(24);
    ahead.observeClaim(10);
    expect(ahead.resize('standard', 1_000)).toBeUndefined();
    expect(ahead.aheadOf('standard')).toBe(0);
  });

  it('claims what the slots free within four claim latencies (slots x 4 x claim / run), capped at maxPerSlot per slot', () => {
    // No-op jobs: the claim takes about as long as the run, so a whole wave more is claimed.
    expect(measured(24, 10, 10).resize('standard', 0)).toBe(48);
    expect(measured(24, 10, 40).resize('standard', 0)).toBe(48);
    expect(measured(24, 10, 80).resize('standard', 0)).toBe(36);
    // Long jobs need little ahead, and a change of less than an eighth of the slots is not made.
    expect(measured(24, 10, 300).resize('standard', 0)).toBe(27);
    // Rounded down: 4 slots of 200 ms jobs would free 0.8 slots within 40 ms, so none is claimed ahead.
    expect(measured(4, 10, 200).resize('standard', 0)).toBeUndefined();
    expect(measured(24, 10, 4_000).resize('standard', 0)).toBeUndefined();
    // The cap: a slow claim never claims more than maxPerSlot per slot.
    expect(measured(24, 50, 10, 0.5).resize('standard', 0)).toBe(36);
    expect(measured(24, 50, 10, 0).resize('standard', 0)).toBeUndefined();
  });

  it('changes a tier at most once per interval, and not for less than an eighth of its slots', () => {
    const ahead = new ClaimAhead({ maxPerSlot: 1, weight: 1, minIntervalMs: 250 });
    ahead.setSlots('standard', 24);
    ahead.observeClaim(10);
    ahead.observeRun('standard', 80);
    expect(ahead.resize('standard', 1_000)).toBe(36);
    // Twice the run time halves the jobs ahead, but not within the interval.
    ahead.observeRun('standard', 160);
    expect(ahead.resize('standard', 1_100)).toBeUndefined();
    expect(ahead.resize('standard', 1_250)).toBe(30);
    // 6 -> 5 ahead is less than 24 / 8 = 3 jobs: kept.
    ahead.observeRun('standard', 192);
    expect(ahead.resize('standard', 2_000)).toBeUndefined();
    expect(ahead.aheadOf('standard')).toBe(6);
  });

  it('applies a change of slots at once, with the jobs ahead recomputed for the new slots', () => {
    const ahead = measured(24, 10, 80);
    expect(ahead.resize('standard', 1_000)).toBe(36);
    ahead.setSlots('standard', 8);
    expect(ahead.resize('standard', 1_001, true)).toBe(12);
    expect(ahead.slotsOf('standard')).toBe(8);
    expect(ahead.aheadOf('standard')).toBe(4);
  });

  it('keeps each tier its own run time, and ignores tiers it was not told of', () => {
    const ahead = new ClaimAhead({ maxPerSlot: 1, weight: 1 });
    ahead.setSlots('standard', 10);
    ahead.setSlots('heavy', 10);
    ahead.observeClaim(10);
    ahead.observeRun('standard', 10);
    ahead.observeRun('heavy', 200);
    ahead.observeRun('gpu', 1);
    expect(ahead.resize('standard', 0)).toBe(20);
    expect(ahead.resize('heavy', 0)).toBe(12);
    expect(ahead.resize('gpu', 0)).toBeUndefined();
  });

  it('refuses a negative maxPerSlot', () => {
    expect(() => new ClaimAhead({ maxPerSlot: -1 })).toThrow(/maxPerSlot must be >= 0/);
  });
});
