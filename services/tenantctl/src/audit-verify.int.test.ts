import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { appendAudit, writeAuditCheckpoint } from '@fairway/audit';
import { testAdminUrl, testDatabaseUrls, testPools, uniqueTenantId } from '@fairway/db/testing';
import { runCli } from './cli';
import { ExitCode } from './exit-codes';

describe('tenantctl audit verify --checkpoints (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Client;
  let dir: string;
  let keyFile: string;
  const chains: string[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  async function ctl(args: string[], env: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  /** A chain of `n` entries and a checkpoint file that signed it. */
  async function checkpointedChain(n: number): Promise<{ chain: string; file: string }> {
    const chain = uniqueTenantId('ctlaudit');
    chains.push(chain);
    for (let i = 0; i < n; i += 1) await appendAudit(pools.app, { chain, actor: 'operator:ada', action: 'quota.set', after: { weight: i } });
    const file = path.join(dir, `${chain}.jsonl`);
    await writeAuditCheckpoint(pools.app, { key: privateKey, file });
    return { chain, file };
  }

  beforeAll(async () => {
    pools = testPools();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
    dir = mkdtempSync(path.join(tmpdir(), 'tenantctl-audit-'));
    keyFile = path.join(dir, 'checkpoint.pub.pem');
    writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  });

  afterAll(async () => {
    await admin.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [chains]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [chains]);
    await admin.end();
    await pools.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes an intact chain against its checkpoint, reading the database directly', async () => {
    const { chain, file } = await checkpointedChain(3);
    const result = await ctl(['audit', 'verify', '--tenant', chain, '--checkpoints', file, '--key', keyFile, '--database-url', testDatabaseUrls().app]);
    expect(result).toMatchObject({
      code: ExitCode.ok,
      out: expect.stringMatching(
        /^audit trail verified: 1 chain, 3 entries, every link intact, 1 chain at or past its signed checkpoint \(against 1 signed checkpoint/,
      ),
    });
  });

  it('writes a checkpoint with `audit checkpoint` (what the shipped CronJob runs) that verify then holds the chain to', async () => {
    const chain = uniqueTenantId('ctlaudit');
    chains.push(chain);
    await appendAudit(pools.app, { chain, actor: 'operator:ada', action: 'quota.set', after: { weight: 1 } });
    const file = path.join(dir, `${chain}-cron.jsonl`);
    const privateFile = path.join(dir, 'checkpoint.key.pem');
    writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const env = { AUDIT_CHECKPOINT_FILE: file, AUDIT_CHECKPOINT_KEY: privateFile, AUDIT_DATABASE_URL: testDatabaseUrls().app };
    const written = await ctl(['audit', 'checkpoint'], env);
    expect(written.code).toBe(ExitCode.ok);
    expect(written.out).toMatch(/^checkpoint of \d+ chain\(s\) at .+ appended to /);
    expect(await ctl(['audit', 'verify', '--tenant', chain, '--checkpoints', file, '--key', keyFile, '--database-url', testDatabaseUrls().app])).toMatchObject({
      code: ExitCode.ok,
    });
    await admin.query('DELETE FROM audit_log WHERE chain = $1', [chain]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = $1', [chain]);
    expect((await ctl(['audit', 'verify', '--tenant', chain, '--checkpoints', file, '--key', keyFile, '--database-url', testDatabaseUrls().app])).code).toBe(
      ExitCode.failure,
    );
    expect((await ctl(['audit', 'checkpoint'], { AUDIT_CHECKPOINT_FILE: file })).err).toMatch(/needs --key \(AUDIT_CHECKPOINT_KEY\), --database-url/);
  });

  it('exits 1 when the owner deleted the chain since the checkpoint', async () => {
    const { chain, file } = await checkpointedChain(2);
    await admin.query('DELETE FROM audit_log WHERE chain = $1', [chain]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = $1', [chain]);
    const result = await ctl(['audit', 'verify', '--tenant', chain, '--checkpoints', file], {
      AUDIT_CHECKPOINT_PUBLIC_KEY: keyFile,
      AUDIT_DATABASE_URL: testDatabaseUrls().app,
    });
    expect(result.code).toBe(ExitCode.failure);
    expect(result.out).toMatch(new RegExp(`does NOT verify: chain '${chain}' breaks at seq 2: the chain is missing`));
  });

  it('refuses a checkpoint file whose signature was tampered with, before reading the database', async () => {
    const { chain, file } = await checkpointedChain(1);
    const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { heads: Record<string, { seq: string }> };
    line.heads[chain]!.seq = '1000';
    writeFileSync(file, `${JSON.stringify(line)}\n`);
    const result = await ctl(['audit', 'verify', '--checkpoints', file, '--key', keyFile, '--database-url', 'postgres://nobody@127.0.0.1:1/none']);
    expect(result).toMatchObject({ code: ExitCode.failure, err: expect.stringMatching(/AUDIT CHECKPOINTS REFUSED: .* line 1: the signature does not verify/) });
  });

  it('asks for a database URL with --checkpoints rather than trusting the admin API', async () => {
    const { file } = await checkpointedChain(1);
    const result = await ctl(['audit', 'verify', '--checkpoints', file, '--key', keyFile]);
    expect(result).toMatchObject({ code: ExitCode.usage, err: expect.stringMatching(/--checkpoints reads the chains directly: give --database-url/) });
  });
});
