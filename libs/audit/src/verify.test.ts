import { formatVerifyResult } from './verify';

describe('formatVerifyResult', () => {
  it('says what was verified when every link holds', () => {
    expect(formatVerifyResult({ ok: true, chains: 1, entries: 3 })).toBe('audit trail verified: 1 chain, 3 entries, every link intact');
  });

  it('names the chain, sequence, entry and reason of the first break', () => {
    const line = formatVerifyResult({
      ok: false,
      chains: 2,
      entries: 5,
      firstBroken: { chain: 'acme', seq: '4', id: '812', reason: 'content does not match its hash (the entry was altered)' },
    });
    expect(line).toBe(
      "audit trail does NOT verify: chain 'acme' breaks at seq 4 (entry id 812): content does not match its hash (the entry was altered) [2 chains, 5 entries examined]",
    );
  });
});
