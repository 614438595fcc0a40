import type { AuditEntryInput } from './audit-entry';
import { AuthFailureAuditor, type AuthFailureAuditorOptions } from './auth-failure-auditor';

function auditor(options: Partial<AuthFailureAuditorOptions> = {}) {
  const written: AuditEntryInput[] = [];
  let clock = Date.UTC(2026, 0, 1);
  const a = new AuthFailureAuditor({
    append: async (entry) => void written.push(entry),
    intervalMs: 10_000,
    now: () => new Date(clock),
    ...options,
  });
  return { a, written, tick: (ms: number) => void (clock += ms) };
}

describe('AuthFailureAuditor', () => {
  it('writes one entry per (chain, reason) per flush, however many failures there were', async () => {
    const { a, written, tick } = auditor();
    for (let i = 0; i < 10_000; i += 1) {
      a.record({ reason: 'unknown-key', credential: `fw_${i % 3}`, remote: '203.0.113.7' });
      tick(1);
    }
    a.record({ tenant: 'acme', reason: 'revoked', credential: 'abc123' });
    expect(a.pending).toBe(10_001);
    expect(await a.flush()).toBe(2);
    expect(written).toEqual([
      {
        chain: 'global',
        actor: 'edge',
        action: 'auth.failure',
        target: 'unknown-key',
        after: {
          reason: 'unknown-key',
          count: 10_000,
          firstAt: '2026-01-01T00:00:00.000Z',
          lastAt: '2026-01-01T00:00:09.999Z',
          credentialIds: ['fw_0', 'fw_1', 'fw_2'],
          remotes: ['203.0.113.7'],
        },
      },
      expect.objectContaining({ chain: 'acme', target: 'revoked', after: expect.objectContaining({ count: 1, credentialIds: ['abc123'] }) }),
    ]);
    expect(a.pending).toBe(0);
    expect(await a.flush()).toBe(0);
  });

  it('keeps a claimed tenant id that is not a valid chain name out of the chains', async () => {
    const { a, written } = auditor();
    a.record({ tenant: '../Evil Tenant', reason: 'bad-signature' });
    await a.flush();
    expect(written.map((e) => e.chain)).toEqual(['global']);
  });

  it('bounds the groups of one interval, counting the rest as global overflow', async () => {
    const { a, written } = auditor({ maxGroups: 3 });
    for (let i = 0; i < 50; i += 1) a.record({ reason: `reason-${i}` });
    await a.flush();
    expect(written).toHaveLength(3);
    expect(written.at(-1)).toMatchObject({ chain: 'global', target: 'overflow', after: { count: 48 } });
  });

  it('bounds the samples and strips control characters from client-supplied text', async () => {
    const { a, written } = auditor({ maxSamples: 2 });
    for (const credential of ['k1', 'k2', 'k3', 'k4']) a.record({ reason: 'bad\u0000reason\n', credential });
    await a.flush();
    expect(written[0]!.after).toMatchObject({ reason: 'bad?reason?', credentialIds: ['k1', 'k2'], samplesDropped: 2 });
  });

  it('keeps the counts of a failed flush for the next one, merged with newer failures', async () => {
    let fail = true;
    const written: AuditEntryInput[] = [];
    const a = new AuthFailureAuditor({
      intervalMs: 10_000,
      append: async (entry) => {
        if (fail) throw new Error('database unavailable');
        written.push(entry);
      },
    });
    a.record({ reason: 'expired' });
    a.record({ reason: 'expired' });
    await expect(a.flush()).rejects.toThrow('database unavailable');
    expect(a.pending).toBe(2);
    a.record({ reason: 'expired' });
    fail = false;
    await a.stop();
    expect(written).toHaveLength(1);
    expect(written[0]!.after).toMatchObject({ count: 3 });
  });

  it('refuses an interval below one second', () => {
    expect(() => new AuthFailureAuditor({ intervalMs: 10, append: async () => undefined })).toThrow(/at least 1000 ms \(got 10\)/);
  });
});
