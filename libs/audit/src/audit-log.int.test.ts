import { Client } from 'pg';
import { testAdminUrl, testPools, uniqueTenantId } from '@fairway/db/testing';
import { GENESIS_HASH, appendAudit, entryHash, listAudit, verifyAuditChains } from './index';

describe('audit trail (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Client;
  const chains: string[] = [];

  function newChain(): string {
    const chain = uniqueTenantId('audit');
    chains.push(chain);
    return chain;
  }

  async function appendMany(chain: string, n: number): Promise<void> {
    for (let i = 0; i < n; i += 1) {
      await appendAudit(pools.app, { chain, actor: 'operator:ada', action: 'quota.set', target: chain, before: { weight: i }, after: { weight: i + 1 } });
    }
  }

  beforeAll(async () => {
    pools = testPools();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
  });

  afterAll(async () => {
    // The trail is append-only for the application; the superuser (a member of the owner role)
    // removes this suite's chains so a fleet-wide verify of the shared test database stays clean.
    await admin.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [chains]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [chains]);
    await admin.end();
    await pools.end();
  });

  it('links every entry to the one before and verifies as the application role', async () => {
    const chain = newChain();
    await appendMany(chain, 5);
    const entries = await listAudit(pools.app, { tenant: chain });
    expect(entries.map((e) => e.seq)).toEqual(['1', '2', '3', '4', '5']);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(entries[4]!.after).toEqual({ weight: 5 });
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toEqual({ ok: true, chains: 1, entries: 5 });
  });

  it("fails verification at exactly the entry edited behind the application's back", async () => {
    const chain = newChain();
    await appendMany(chain, 6);
    const entries = await listAudit(pools.app, { tenant: chain });
    const victim = entries[3]!;
    await admin.query(`UPDATE audit_log SET after = '{"weight": 1000}' WHERE id = $1`, [victim.id]);
    const result = await verifyAuditChains(pools.app, { tenant: chain });
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toEqual({ chain, seq: victim.seq, id: victim.id, reason: expect.stringMatching(/altered/) });
    expect(result.entries).toBe(4);
  });

  it('detects entries cut from the tail of a chain, which leaves the remaining links intact', async () => {
    const chain = newChain();
    await appendMany(chain, 4);
    await admin.query('DELETE FROM audit_log WHERE chain = $1 AND seq > 2', [chain]);
    const result = await verifyAuditChains(pools.app, { tenant: chain });
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ chain, seq: '2', reason: expect.stringMatching(/after seq 2 were removed/) });
  });

  it('refuses UPDATE, DELETE and TRUNCATE to the application role', async () => {
    const chain = newChain();
    const entry = await appendAudit(pools.app, { chain, actor: 'operator:ada', action: 'tenant.suspend', reason: 'unpaid' });
    await expect(pools.app.query('UPDATE audit_log SET reason = $2 WHERE id = $1', [entry.id, 'paid'])).rejects.toThrow(/permission denied/);
    await expect(pools.app.query('DELETE FROM audit_log WHERE id = $1', [entry.id])).rejects.toThrow(/permission denied/);
    await expect(pools.app.query('TRUNCATE audit_log')).rejects.toThrow(/permission denied/);
    await expect(pools.app.query('UPDATE audit_chain_heads SET seq = 0 WHERE chain = $1', [chain])).rejects.toThrow(/permission denied/);
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toMatchObject({ ok: true, entries: 1 });
  });

  it('refuses UPDATE and DELETE, through the trigger, even to a role that was granted them', async () => {
    const chain = newChain();
    const entry = await appendAudit(pools.app, { chain, actor: 'svc:edge', action: 'auth.failure' });
    // The scheduler role stands in for "a role granted too much by mistake". The grant lives only
    // inside this transaction, so no other user of the shared test database ever sees it.
    for (const statement of [`UPDATE audit_log SET actor = 'x' WHERE id = ${entry.id}`, `DELETE FROM audit_log WHERE id = ${entry.id}`]) {
      await admin.query('BEGIN');
      try {
        await admin.query('GRANT SELECT, UPDATE, DELETE ON audit_log TO fairway_scheduler');
        await admin.query('SET LOCAL ROLE fairway_scheduler');
        await expect(admin.query(statement)).rejects.toThrow(/append-only: (UPDATE|DELETE) on audit_log refused for role fairway_scheduler/);
      } finally {
        await admin.query('ROLLBACK');
      }
    }
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toMatchObject({ ok: true, entries: 1 });
  });

  it('keeps one valid chain under concurrent appends from several connections', async () => {
    const chain = newChain();
    const other = testPools();
    try {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          appendAudit(i % 2 === 0 ? pools.app : other.app, { chain, actor: `svc:${i}`, action: 'key.issue', target: `key-${i}` }),
        ),
      );
    } finally {
      await other.end();
    }
    const entries = await listAudit(pools.app, { tenant: chain, limit: 100 });
    expect(entries.map((e) => Number(e.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.target)).size).toBe(40);
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toEqual({ ok: true, chains: 1, entries: 40 });
  });

  it("commits the entry with the caller's transaction, or not at all", async () => {
    const chain = newChain();
    const client = await pools.app.connect();
    try {
      await client.query('BEGIN');
      await appendAudit(client, { chain, actor: 'operator:ada', action: 'tenant.delete' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await listAudit(pools.app, { tenant: chain })).toEqual([]);
  });

  it('filters by actor, action and time, and pages with the id cursor', async () => {
    const chain = newChain();
    const start = new Date(Date.now() - 60_000);
    for (const [actor, action] of [
      ['op:a', 'tenant.create'],
      ['op:b', 'quota.set'],
      ['op:a', 'quota.set'],
      ['op:a', 'tenant.suspend'],
    ] as const) {
      await appendAudit(pools.app, { chain, actor, action, after: { password: 'hunter2', plan: 'gold' } });
    }
    const byActor = await listAudit(pools.app, { tenant: chain, actor: 'op:a' });
    expect(byActor.map((e) => e.action)).toEqual(['tenant.create', 'quota.set', 'tenant.suspend']);
    expect(byActor[0]!.after).toEqual({ password: '[REDACTED]', plan: 'gold' });
    const byAction = await listAudit(pools.app, { tenant: chain, action: 'quota.set' });
    expect(byAction.map((e) => e.actor)).toEqual(['op:b', 'op:a']);
    expect(await listAudit(pools.app, { tenant: chain, from: start, to: new Date(Date.now() + 60_000) })).toHaveLength(4);
    expect(await listAudit(pools.app, { tenant: chain, to: start })).toHaveLength(0);
    const page1 = await listAudit(pools.app, { tenant: chain, limit: 3 });
    const page2 = await listAudit(pools.app, { tenant: chain, limit: 3, after: page1[2]!.id });
    expect([...page1, ...page2].map((e) => e.seq)).toEqual(['1', '2', '3', '4']);
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toMatchObject({ ok: true, entries: 4 });
  });

  it('refuses INSERT on audit_log to the application role: entries are written only through audit_append', async () => {
    const chain = newChain();
    await expect(
      pools.app.query(`INSERT INTO audit_log (chain, seq, at, actor, action, prev_hash, hash) VALUES ($1, 1, now(), 'mallory', 'tenant.delete', $2, $2)`, [
        chain,
        'a'.repeat(64),
      ]),
    ).rejects.toThrow(/permission denied/);
    expect(await listAudit(pools.app, { tenant: chain })).toEqual([]);
  });

  it('never lets a caller choose seq: a forged entry at the bigint maximum cannot be written, and the chain keeps appending', async () => {
    const chain = newChain();
    await expect(
      pools.app.query(
        `INSERT INTO audit_log (chain, seq, at, actor, action, prev_hash, hash) VALUES ($1, 9223372036854775807, now(), 'mallory', 'x', $2, $2)`,
        [chain, '0'.repeat(64)],
      ),
    ).rejects.toThrow(/permission denied/);
    // audit_append takes no seq, prev_hash, at or hash: there is no overload that would accept one.
    await expect(pools.app.query(`SELECT * FROM audit_append($1, 'mallory', 'x', NULL, NULL, NULL, NULL, 9223372036854775807)`, [chain])).rejects.toThrow(
      /function audit_append\(.*\) does not exist/,
    );
    await appendMany(chain, 2);
    expect((await listAudit(pools.app, { tenant: chain })).map((e) => e.seq)).toEqual(['1', '2']);
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toEqual({ ok: true, chains: 1, entries: 2 });
  });

  it('computes every link in the database, and the verifier agrees on awkward content', async () => {
    const chain = newChain();
    const awkward = [
      { emoji: '🧾 café', nested: { z: 1, a: [1.5, -0, 1e21, '12345678901234567890'], 'k"ey': 'line\nbreak\ttab\u0001' } },
      { empty: '', nil: null, bool: false, big: 2 ** 53 },
      'a bare string',
      [],
    ];
    for (const value of awkward) {
      await appendAudit(pools.app, {
        chain,
        actor: 'operator:ünï',
        action: 'quota.set',
        target: 'ta\u0002rget',
        before: value,
        after: { value },
        reason: 'why\nnot',
      });
    }
    const entries = await listAudit(pools.app, { tenant: chain });
    expect(entries.map((e) => e.form)).toEqual([2, 2, 2, 2]);
    expect(entries[0]!.prevHash).toBe('0'.repeat(64));
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toEqual({ ok: true, chains: 1, entries: 4 });
    // And an edit of a form-2 entry behind the application's back is still caught.
    await admin.query(`UPDATE audit_log SET before = jsonb_set(before, '{emoji}', '"tea"') WHERE id = $1`, [entries[0]!.id]);
    expect((await verifyAuditChains(pools.app, { tenant: chain })).firstBroken).toMatchObject({ seq: '1', reason: expect.stringMatching(/altered/) });
  });

  it('writes an action and its entry in one transaction: both commit, or neither', async () => {
    const chain = newChain();
    await admin.query('CREATE TEMP TABLE IF NOT EXISTS audited_action (chain text)');
    for (const outcome of ['ROLLBACK', 'COMMIT'] as const) {
      await admin.query('BEGIN');
      await admin.query('INSERT INTO audited_action VALUES ($1)', [chain]);
      await appendAudit(admin, { chain, actor: 'operator:ada', action: 'tenant.status', before: { status: 'active' }, after: { status: 'suspended' } });
      await admin.query(outcome);
      const actions = await admin.query('SELECT 1 FROM audited_action WHERE chain = $1', [chain]);
      const entries = await listAudit(pools.app, { tenant: chain });
      expect([actions.rowCount, entries.length]).toEqual(outcome === 'COMMIT' ? [1, 1] : [0, 0]);
    }
  });

  it('continues a chain written before migration 620 (hash form 1) and verifies both forms', async () => {
    const chain = newChain();
    // An entry as the application wrote it before: RFC 8785 JSON hashed in TypeScript, form 1.
    const at = new Date(Date.UTC(2025, 5, 1, 12, 0, 0, 123));
    const fields = { chain, seq: '1', at, actor: 'operator:ada', action: 'tenant.create', after: { plan: 'gold' }, prevHash: GENESIS_HASH };
    await admin.query(`INSERT INTO audit_log (chain, seq, at, actor, action, after, prev_hash, hash) VALUES ($1, 1, $2, $3, $4, $5, $6, $7)`, [
      chain,
      at,
      fields.actor,
      fields.action,
      fields.after,
      GENESIS_HASH,
      entryHash(fields),
    ]);
    await appendMany(chain, 2);
    const entries = await listAudit(pools.app, { tenant: chain });
    expect(entries.map((e) => [e.seq, e.form])).toEqual([
      ['1', 1],
      ['2', 2],
      ['3', 2],
    ]);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toEqual({ ok: true, chains: 1, entries: 3 });
  });
});
