import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it.each([
    { name: 'refills at rate per second', start: 0, elapsedMs: 500, rate: 10, burst: 100, expected: 5 },
    { name: 'never exceeds the burst', start: 0, elapsedMs: 60_000, rate: 10, burst: 20, expected: 20 },
    { name: 'pays back debt before filling', start: -5, elapsedMs: 1000, rate: 2, burst: 10, expected: -3 },
    { name: 'ignores time going backwards', start: 3, elapsedMs: -100, rate: 10, burst: 10, expected: 3 },
    { name: 'applies a burst cut at once', start: 8, elapsedMs: 0, rate: 1, burst: 2, expected: 2 },
  ])('$name', ({ start, elapsedMs, rate, burst, expected }) => {
    const bucket = new TokenBucket(start, 1000);
    bucket.refill(1000 + elapsedMs, rate, burst);
    expect(bucket.tokens).toBeCloseTo(expected, 9);
  });

  it.each([
    { name: 'is ready now when it has the tokens', tokens: 3, needed: 2, rate: 1, expected: 1000 },
    { name: 'waits for the deficit at the refill rate', tokens: 0.5, needed: 1, rate: 2, expected: 1250 },
    { name: 'waits out a debt', tokens: -4, needed: 1, rate: 5, expected: 2000 },
  ])('readyAt $name', ({ tokens, needed, rate, expected }) => {
    expect(new TokenBucket(tokens, 1000).readyAt(needed, rate)).toBeCloseTo(expected, 9);
  });

  it('has the tokens exactly at readyAt despite floating-point refill', () => {
    const bucket = new TokenBucket(0.1, 1e12 + 0.3);
    const at = bucket.readyAt(1, 3);
    bucket.refill(at, 3, 10);
    expect(bucket.has(1)).toBe(true);
  });
});
