import { eventually } from './testing';

describe('eventually(): the polling wait of the test suites', () => {
  it('returns the first value other than undefined, probing until there is one', async () => {
    let probes = 0;
    const value = await eventually('the third probe', () => (++probes >= 3 ? `probe ${probes}` : undefined), { intervalMs: 1 });
    expect(value).toBe('probe 3');
    expect(probes).toBe(3);
  });

  it('with until, returns the first value that satisfies it, even a falsy one', async () => {
    const values = [3, 2, 1, 0, -1];
    expect(await eventually('a count of zero', () => values.shift()!, { until: (n) => n === 0, intervalMs: 1 })).toBe(0);
    expect(values).toEqual([-1]);
  });

  it('fails after the timeout naming what it waited for and, with until, the last value read', async () => {
    await expect(eventually('a tenant that never appears', () => undefined, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      /^timed out after 30 ms waiting for a tenant that never appears$/,
    );
    await expect(
      eventually('the job to succeed', () => ({ state: 'running' }), { until: (j) => j.state === 'succeeded', timeoutMs: 30, intervalMs: 5 }),
    ).rejects.toThrow('timed out after 30 ms waiting for the job to succeed; last value: {"state":"running"}');
  });

  it('probes at least once, even with no time to wait', async () => {
    expect(await eventually('an immediate answer', () => 'now', { timeoutMs: 0 })).toBe('now');
  });

  it('does not retry a probe that throws', async () => {
    let probes = 0;
    const failing = () => {
      probes += 1;
      throw new Error('connection refused');
    };
    await expect(eventually('a probe that throws', failing, { timeoutMs: 1_000, intervalMs: 1 })).rejects.toThrow('connection refused');
    expect(probes).toBe(1);
  });
});
