import { GENESIS_HASH, auditJson, canonicalEntry, checkLink, entryHash, type AuditRecord } from './audit-entry';

function chainOf(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i += 1) {
    const fields = {
      chain: 'acme',
      seq: String(i),
      at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)),
      actor: 'operator:ada',
      action: 'quota.set',
      target: 'acme',
      before: { weight: i },
      after: { weight: i + 1 },
      prevHash: prev,
    };
    const hash = entryHash(fields);
    out.push({ id: String(100 + i), ...fields, hash });
    prev = hash;
  }
  return out;
}

describe('audit entry hashing', () => {
  it('hashes the RFC 8785 canonical form, whatever the key order of before/after', () => {
    const base = { chain: 'acme', seq: '1', at: new Date(0), actor: 'a', action: 'x', prevHash: GENESIS_HASH };
    const one = entryHash({ ...base, after: { b: 1, a: [1, 'two', { d: null, c: true }] } });
    const two = entryHash({ ...base, after: { a: [1, 'two', { c: true, d: null }], b: 1 } });
    expect(one).toBe(two);
    expect(canonicalEntry({ ...base, after: { b: 1, a: 2 } })).toContain('"after":{"a":2,"b":1}');
  });

  it('treats an omitted optional field and an explicit null alike', () => {
    const base = { chain: 'acme', seq: '1', at: new Date(0), actor: 'a', action: 'x', prevHash: GENESIS_HASH };
    expect(entryHash(base)).toBe(entryHash({ ...base, target: undefined, before: null, reason: undefined }));
  });

  it('redacts secret-named fields at any depth before they are stored or hashed', () => {
    expect(auditJson({ id: 'k1', apiKey: 'fw_live_x', nested: [{ Password: 'p', ok: 1 }] })).toEqual({
      id: 'k1',
      apiKey: '[REDACTED]',
      nested: [{ Password: '[REDACTED]', ok: 1 }],
    });
    expect(auditJson(undefined)).toBeNull();
    expect(auditJson({ when: new Date(0), gone: undefined })).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });
});

describe('checkLink', () => {
  it('accepts an intact chain', () => {
    const chain = chainOf(4);
    chain.forEach((entry, i) => expect(checkLink(entry, chain[i - 1])).toBeUndefined());
  });

  it.each<[string, (chain: AuditRecord[]) => AuditRecord[], number, RegExp]>([
    ['an altered field', (c) => c.map((e, i) => (i === 2 ? { ...e, actor: 'mallory' } : e)), 2, /content does not match/],
    [
      'an altered field with a recomputed hash',
      (c) => c.map((e, i) => (i === 1 ? { ...e, after: { weight: 99 }, hash: entryHash({ ...e, after: { weight: 99 } }) } : e)),
      2,
      /prev_hash/,
    ],
    ['a removed entry', (c) => c.filter((_, i) => i !== 1), 1, /sequence gap/],
    ['a first entry that does not start at the genesis hash', (c) => c.map((e, i) => (i === 0 ? { ...e, prevHash: 'f'.repeat(64) } : e)), 0, /prev_hash/],
  ])('reports %s at the first entry that no longer links', (_name, tamper, brokenIndex, reason) => {
    const chain = tamper(chainOf(4));
    const breaks = chain.map((entry, i) => checkLink(entry, chain[i - 1]));
    const first = breaks.findIndex((b) => b !== undefined);
    expect(first).toBe(brokenIndex);
    expect(breaks[first]?.reason).toMatch(reason);
    expect(breaks[first]?.id).toBe(chain[brokenIndex]!.id);
  });
});
