import { FailedAuthLimiter } from './failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('blocks a client at its maxFailures-th failure within the window, for blockMs, and says how long', () => {
    const t = clock();
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 10_000, blockMs: 30_000, now: t.now });
    limiter.recordFailure('10.0.0.1');
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(30);
    t.advance(29_500);
    // Rounded up, never 0: a client told to wait 0 s would be refused again at once.
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    t.advance(500);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
  });

  it('blocks only the client that failed', () => {
    const limiter = new FailedAuthLimiter({ maxFailures: 1, now: clock().now });
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeDefined();
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBeUndefined();
  });

  it('starts counting again in a new window: failures spread wider than the window never block', () => {
    const t = clock();
    const limiter = new FailedAuthLimiter({ maxFailures: 3, windowMs: 10_000, blockMs: 30_000, now: t.now });
    for (let i = 0; i < 10; i += 1) {
      limiter.recordFailure('10.0.0.1');
      limiter.recordFailure('10.0.0.1');
      t.advance(10_000);
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeUndefined();
  });

  it('keeps a block when a new window starts while the client is blocked', () => {
    const t = clock();
    const limiter = new FailedAuthLimiter({ maxFailures: 2, windowMs: 1_000, blockMs: 60_000, now: t.now });
    limiter.recordFailure('10.0.0.1');
    limiter.recordFailure('10.0.0.1');
    t.advance(5_000);
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(55);
  });

  it('remembers at most maxClients clients, forgetting the oldest window first', () => {
    const t = clock();
    const limiter = new FailedAuthLimiter({ maxFailures: 2, windowMs: 60_000, maxClients: 3, now: t.now });
    limiter.recordFailure('oldest');
    for (const client of ['b', 'c', 'd', 'e']) {
      t.advance(1);
      limiter.recordFailure(client);
    }
    expect(limiter.size).toBe(3);
    // 'oldest' was forgotten: one more failure is its first again, not its second.
    limiter.recordFailure('oldest');
    expect(limiter.retryAfterSeconds('oldest')).toBeUndefined();
    limiter.recordFailure('e');
    expect(limiter.retryAfterSeconds('e')).toBeDefined();
  });

  it.each([0, -1, 1.5])('refuses maxFailures %p', (maxFailures) => {
    expect(() => new FailedAuthLimiter({ maxFailures })).toThrow(`maxFailures must be an integer >= 1 (got ${maxFailures})`);
  });
});
