import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { testAdminUrl, testPools, uniqueTenantId } from '@fairway/db/testing';
import { AuditCheckpointer, appendAudit, readAuditCheckpoints, verifyAuditChains, writeAuditCheckpoint } from './index';

describe('audit checkpoints outside the database (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Client;
  let dir: string;
  const chains: string[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  function newChain(): string {
    const chain = uniqueTenantId('ckpt');
    chains.push(chain);
    return chain;
  }

  async function appendMany(chain: string, n: number): Promise<void> {
    for (let i = 0; i < n; i += 1) await appendAudit(pools.app, { chain, actor: 'operator:ada', action: 'quota.set', after: { weight: i } });
  }

  function checkpointsOf(file: string) {
    const read = readAuditCheckpoints(readFileSync(file, 'utf8'), publicKey);
    if (!read.ok) throw new Error(read.reason);
    return read.heads;
  }

  beforeAll(async () => {
    pools = testPools();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
    dir = mkdtempSync(path.join(tmpdir(), 'fairway-audit-ckpt-'));
  });

  afterAll(async () => {
    await admin.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [chains]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [chains]);
    await admin.end();
    await pools.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('detects a whole chain deleted by the owner, which plain verification cannot see', async () => {
    const chain = newChain();
    const file = path.join(dir, 'deleted.jsonl');
    await appendMany(chain, 3);
    const checkpoint = await writeAuditCheckpoint(pools.app, { key: privateKey, file });
    expect(checkpoint.heads[chain]).toMatchObject({ seq: '3' });

    // The owner (the superuser is a member) removes every trace of the chain, heads included.
    await admin.query('DELETE FROM audit_log WHERE chain = $1', [chain]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = $1', [chain]);

    expect(await verifyAuditChains(pools.app, { tenant: chain })).toEqual({ ok: true, chains: 0, entries: 0 });
    const result = await verifyAuditChains(pools.app, { tenant: chain, checkpoints: checkpointsOf(file) });
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ chain, seq: '3', reason: expect.stringMatching(/chain is missing/) });
  });

  it('detects a tail cut by the owner who also rewrote the chain head to match', async () => {
    const chain = newChain();
    const file = path.join(dir, 'cut.jsonl');
    await appendMany(chain, 5);
    await writeAuditCheckpoint(pools.app, { key: privateKey, file });
    await admin.query('DELETE FROM audit_log WHERE chain = $1 AND seq > 2', [chain]);
    await admin.query(`UPDATE audit_chain_heads h SET seq = l.seq, hash = l.hash FROM audit_log l WHERE h.chain = $1 AND l.chain = $1 AND l.seq = 2`, [chain]);
    expect(await verifyAuditChains(pools.app, { tenant: chain })).toMatchObject({ ok: true, entries: 2 });
    const result = await verifyAuditChains(pools.app, { tenant: chain, checkpoints: checkpointsOf(file) });
    expect(result).toMatchObject({
      ok: false,
      checkpointed: 1,
      firstBroken: { chain, seq: '2', reason: expect.stringMatching(/after seq 2 were removed.*seq 5/) },
    });
  });

  it('detects a chain deleted and rebuilt past the checkpoint (same seq, other hash)', async () => {
    const chain = newChain();
    const file = path.join(dir, 'rebuilt.jsonl');
    await appendMany(chain, 2);
    await writeAuditCheckpoint(pools.app, { key: privateKey, file });
    await admin.query('DELETE FROM audit_log WHERE chain = $1', [chain]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = $1', [chain]);
    await appendAudit(pools.app, { chain, actor: 'operator:mallory', action: 'quota.set' });
    await appendMany(chain, 2);
    const result = await verifyAuditChains(pools.app, { tenant: chain, checkpoints: checkpointsOf(file) });
    expect(result.firstBroken).toMatchObject({ chain, seq: '2', reason: expect.stringMatching(/differs from the signed checkpoint/) });
  });

  it('passes a chain that only grew since its checkpoint', async () => {
    const chain = newChain();
    const file = path.join(dir, 'grew.jsonl');
    await appendMany(chain, 2);
    await writeAuditCheckpoint(pools.app, { key: privateKey, file });
    await appendMany(chain, 3);
    await writeAuditCheckpoint(pools.app, { key: privateKey, file });
    await appendMany(chain, 1);
    expect(await verifyAuditChains(pools.app, { tenant: chain, checkpoints: checkpointsOf(file) })).toEqual({
      ok: true,
      chains: 1,
      entries: 6,
      checkpointed: 1,
    });
  });

  it('the checkpointer writes only when a head moved, and a last checkpoint on stop', async () => {
    const chain = newChain();
    const file = path.join(dir, 'checkpointer.jsonl');
    await appendMany(chain, 1);
    const checkpointer = new AuditCheckpointer(pools.app, { key: privateKey, file, intervalMs: 3_600_000 });
    expect(await checkpointer.checkpointNow()).toBeDefined();
    // Other suites append to the shared database concurrently: only assert on this chain's moves.
    await appendMany(chain, 1);
    const second = await checkpointer.checkpointNow();
    expect(second?.heads[chain]?.seq).toBe('2');
    await checkpointer.stop();
    expect(checkpointsOf(file)[chain]).toMatchObject({ seq: '2' });
  });
});
