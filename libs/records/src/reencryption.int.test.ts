import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { listAudit } from '@fairway/audit';
import {
  DataKeyCache,
  LocalKeyProvider,
  ReencryptionInProgressError,
  parseCiphertext,
  readReencryption,
  runReencryption,
  startReencryption,
  tenantCipher,
  type ReencryptionStatus,
  type ReencryptionTarget,
} from '@fairway/crypto';
import { TenantDataRouter, withTenantId, type IsolationModel } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testAdminUrl, testDatabaseUrls, testPools } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { JobResultChunks, RecordsRepository, recordsReencryptionTargets, tenantKeyCipher } from './index';

const MODELS: readonly IsolationModel[] = ['pooled', 'schema', 'database'];
const BODIES = ['card ending 4242', 'iban DE00 1234', '', 'a longer note, with "quotes" and\na newline', 'ssn 078-05-1120'];
const CHUNKS = ['id,title,body\r\n1,a,card ending 4242\r\n', '2,b,iban DE00 1234\r\n'];

describe('re-encryption after a tenant key rotation, on every isolation model (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Client;
  let data: TenantDataRouter;
  let repository: RecordsRepository;
  const created: TenantId[] = [];
  // A KEK version no other suite uses.
  const kek = `r${randomBytes(4).toString('hex')}`;
  const provider = new LocalKeyProvider({ [kek]: randomBytes(32) }, kek);
  const actor = 'operator:reencryption-test';

  const targets = (tenant: TenantId) => recordsReencryptionTargets({ data, catalogPool: pools.app }, tenant);
  const freshCipher = (tenant: TenantId) => tenantCipher(pools.app, provider, tenant, { cache: new DataKeyCache() });

  /** What a dump of the tenant's store shows: the raw stored values, nothing decrypted. */
  async function stored(tenant: TenantId): Promise<{ records: Array<{ id: string; body: string }>; artifactLines: string[]; chunks: string[] }> {
    const records = await data.withTenant(
      tenant,
      async (tx) => (await tx.query<{ id: string; body: string }>('SELECT id::text AS id, body FROM records ORDER BY id')).rows,
    );
    const artifacts = await withTenantId(
      pools.app,
      tenant,
      async (tx) => (await tx.query<{ body: string }>('SELECT body FROM job_artifacts ORDER BY job_id')).rows,
    );
    const chunks = await withTenantId(
      pools.app,
      tenant,
      async (tx) => (await tx.query<{ body: string }>('SELECT body FROM job_result_chunks ORDER BY job_id, attempt, seq')).rows,
    );
    return { records, artifactLines: artifacts.flatMap((a) => a.body.split('\n').filter((line) => line.length > 0)), chunks: chunks.map((c) => c.body) };
  }

  /**
   * Five sealed records, one written before encryption was turned on, one sealed export result as
   * stored before migration 610 (in job_artifacts.body) and one as stored since (job_result_chunks).
   */
  async function seed(tenant: TenantId): Promise<void> {
    for (const [i, body] of BODIES.entries()) await repository.create(tenant, { title: `r${i}`, body, amount: '1', tags: [] });
    await data.withTenant(tenant, (tx) => tx.query(`INSERT INTO records (id, title, body) VALUES ($1, 'legacy', 'written before encryption')`, [uuidv7()]));
    const cipher = await freshCipher(tenant);
    await withTenantId(pools.app, tenant, (tx) =>
      tx.query(`INSERT INTO job_artifacts (job_id, tenant_id, content_type, body) VALUES ($1, $2, 'text/csv', $3)`, [
        randomUUID(),
        tenant,
        CHUNKS.map((chunk) => `${cipher.encrypt(chunk)}\n`).join(''),
      ]),
    );
    const result = new JobResultChunks(pools.app, tenant, randomUUID(), 1, {
      sealer: { seal: (text) => cipher.encrypt(text), open: (text) => cipher.decryptText(text) },
    });
    for (const chunk of CHUNKS) await result.append(chunk);
    await result.flush();
    await withTenantId(pools.app, tenant, (tx) => result.publish(tx, 'text/csv'));
  }

  function versions(values: readonly string[]): Array<number | undefined> {
    return values.map((v) => parseCiphertext(v)?.keyVersion);
  }

  beforeAll(async () => {
    pools = testPools();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app, maxConnections: 8, perDatabaseMax: 2 });
    repository = new RecordsRepository(data, tenantKeyCipher(pools.app, provider));
  });

  afterAll(async () => {
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await admin.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [created]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [created]);
    await admin.end();
    await pools.end();
  });

  async function tenantOf(model: IsolationModel, prefix: string): Promise<TenantId> {
    const id = await createIsolatedTestTenant(pools.owner, model, `${prefix}${model.slice(0, 2)}`);
    created.push(id);
    return id;
  }

  describe.each(MODELS)('%s', (model) => {
    it('moves every record body and every stored result line to the new key, keeps the plaintext, counts right, and a rerun changes nothing', async () => {
      const tenant = await tenantOf(model, 're');
      await seed(tenant);
      const before = await stored(tenant);
      expect(versions(before.records.map((r) => r.body))).toEqual([1, 1, 1, 1, 1, undefined]);
      expect(versions(before.artifactLines)).toEqual([1, 1]);
      expect(versions(before.chunks)).toEqual([1, 1]);

      const started = await startReencryption(pools.owner, provider, tenant, { actor, rotate: true });
      expect(started).toMatchObject({ state: 'running', toKeyVersion: 2, scanned: 0, reencrypted: 0, startedBy: actor, stalled: false });
      // A second rotation while this one runs is refused, from any process, and rotates nothing.
      await expect(startReencryption(pools.owner, provider, tenant, { actor, rotate: true })).rejects.toBeInstanceOf(ReencryptionInProgressError);
      const keys = await admin.query<{ version: number }>('SELECT version FROM tenant_keys WHERE tenant_id = $1 ORDER BY version', [tenant]);
      expect(keys.rows.map((k) => k.version)).toEqual([1, 2]);

      const seen: ReencryptionStatus[] = [];
      const done = await runReencryption(pools.owner, provider, tenant, started.runId, targets(tenant), { batchSize: 2, onProgress: (s) => seen.push(s) });
      expect(done).toMatchObject({
        state: 'done',
        toKeyVersion: 2,
        scanned: 9,
        reencrypted: 9,
        passes: 1,
        tables: {
          'records.body': { scanned: 6, reencrypted: 5, done: true },
          'job_artifacts.body': { scanned: 1, reencrypted: 2, done: true },
          'job_result_chunks.body': { scanned: 2, reencrypted: 2, done: true },
        },
      });
      expect(done.finishedAt).toBeInstanceOf(Date);
      expect(done.error).toBeUndefined();
      // Progress was stored batch by batch: records in pages of 2 (the last one empty), the one
      // artifact, then the chunks in pages of 2 (the last one empty).
      expect(seen.map((s) => s.scanned)).toEqual([2, 4, 6, 6, 7, 9, 9]);
      expect(await readReencryption(pools.owner, tenant)).toEqual(done);

      const after = await stored(tenant);
      expect(versions(after.records.map((r) => r.body))).toEqual([2, 2, 2, 2, 2, undefined]);
      expect(after.records[5]!.body).toBe('written before encryption');
      expect(versions(after.artifactLines)).toEqual([2, 2]);
      expect(versions(after.chunks)).toEqual([2, 2]);
      const current = await freshCipher(tenant);
      expect(after.records.slice(0, 5).map((r) => current.decryptText(r.body))).toEqual(BODIES);
      expect(after.artifactLines.map((line) => current.decryptText(line))).toEqual(CHUNKS);
      expect(after.chunks.map((chunk) => current.decryptText(chunk))).toEqual(CHUNKS);
      expect((await repository.list(tenant)).items.map((r) => r.body)).toEqual([...BODIES, 'written before encryption']);

      const audit = await listAudit(pools.owner, { tenant });
      expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['data-key.rotate', 'data-key.reencrypt']));
      expect(audit.find((e) => e.action === 'data-key.reencrypt')).toMatchObject({
        actor,
        after: { state: 'done', toKeyVersion: 2, scanned: 9, reencrypted: 9 },
      });

      // A rerun to the same version reads everything and rewrites nothing.
      const rerun = await startReencryption(pools.owner, provider, tenant, { actor, rotate: false });
      expect(rerun).toMatchObject({ state: 'running', toKeyVersion: 2, scanned: 0, reencrypted: 0 });
      expect(await runReencryption(pools.owner, provider, tenant, rerun.runId, targets(tenant))).toMatchObject({
        state: 'done',
        scanned: 9,
        reencrypted: 0,
        passes: 1,
      });
      expect(await stored(tenant)).toEqual(after);
    });
  });

  it('resumes a failed run from its cursors, and re-encrypts it to the same version', async () => {
    const tenant = await tenantOf('schema', 'rf');
    await seed(tenant);
    const started = await startReencryption(pools.owner, provider, tenant, { actor, rotate: true });
    // The first run breaks after its first batch of records, as when a tenant database goes away.
    let batches = 0;
    const breaking = targets(tenant).map((target): ReencryptionTarget => ({
      ...target,
      batch: (cipher, after, limit) => {
        batches += 1;
        if (batches > 1) return Promise.reject(new Error('connection terminated unexpectedly'));
        return target.batch(cipher, after, limit);
      },
    }));
    const failed = await runReencryption(pools.owner, provider, tenant, started.runId, breaking, { batchSize: 2 });
    expect(failed).toMatchObject({ state: 'failed', scanned: 2, reencrypted: 2, tables: { 'records.body': { scanned: 2, done: false } } });
    expect(failed.error).toMatch(
      /^records\.body after '[0-9a-f-]{36}': connection terminated unexpectedly; once the cause is fixed, resume with POST \/admin\/v1\/tenants\/.+\/keys\/reencryption$/,
    );
    expect((await listAudit(pools.owner, { tenant, action: 'data-key.reencrypt' })).map((e) => (e.after as { state: string }).state)).toEqual(['failed']);

    const resumed = await startReencryption(pools.owner, provider, tenant, { actor, rotate: false });
    expect(resumed).toMatchObject({ state: 'running', toKeyVersion: 2, scanned: 2, reencrypted: 2 });
    expect(resumed.runId).not.toBe(started.runId);
    const done = await runReencryption(pools.owner, provider, tenant, resumed.runId, targets(tenant), { batchSize: 2 });
    // The first two records were not read again.
    expect(done).toMatchObject({ state: 'done', scanned: 9, reencrypted: 9, tables: { 'records.body': { scanned: 6, reencrypted: 5 } } });
    expect(versions((await stored(tenant)).records.map((r) => r.body))).toEqual([2, 2, 2, 2, 2, undefined]);
  });

  it('runs another pass for values written under the old key while the first pass ran', async () => {
    const tenant = await tenantOf('database', 'rl');
    await seed(tenant);
    // An operation that began before the rotation still holds a cipher of the old key.
    const stale = await freshCipher(tenant);
    const started = await startReencryption(pools.owner, provider, tenant, { actor, rotate: true });
    let lateWritten = false;
    const racing = targets(tenant).map((target): ReencryptionTarget => ({
      ...target,
      batch: async (cipher, after, limit) => {
        const batch = await target.batch(cipher, after, limit);
        if (target.name === 'records.body' && batch.exhausted && !lateWritten) {
          lateWritten = true;
          await data.withTenant(tenant, (tx) =>
            tx.query(`INSERT INTO records (id, title, body) VALUES ($1, 'late', $2)`, [uuidv7(), stale.encrypt('late write')]),
          );
        }
        return batch;
      },
    }));
    const done = await runReencryption(pools.owner, provider, tenant, started.runId, racing, { batchSize: 50 });
    expect(done).toMatchObject({ state: 'done', passes: 2, scanned: 9 + 10, reencrypted: 9 + 1 });
    const bodies = (await stored(tenant)).records.map((r) => r.body);
    expect(versions(bodies).filter((v) => v !== undefined && v !== 2)).toEqual([]);
    expect((await repository.list(tenant)).items.map((r) => r.body)).toContain('late write');
  });

  it('lets a stalled run be taken over, and fences the old runner off', async () => {
    const tenant = await tenantOf('pooled', 'rs');
    await seed(tenant);
    const first = await startReencryption(pools.owner, provider, tenant, { actor, rotate: true });
    // Its process died: no heartbeat. With a stale limit of 0 it counts as stalled at once.
    expect(await readReencryption(pools.owner, tenant, { staleAfterMs: 0 })).toMatchObject({ state: 'running', stalled: true });
    const second = await startReencryption(pools.owner, provider, tenant, { actor, rotate: false, staleAfterMs: 0 });
    expect(second).toMatchObject({ state: 'running', toKeyVersion: 2 });
    await expect(runReencryption(pools.owner, provider, tenant, first.runId, targets(tenant))).rejects.toThrow(/is not the tenant's running one/);
    expect(await runReencryption(pools.owner, provider, tenant, second.runId, targets(tenant))).toMatchObject({ state: 'done', reencrypted: 9 });
  });

  it('stops a slow runner at its next batch once another process took its run over', async () => {
    const tenant = await tenantOf('schema', 'rt');
    await seed(tenant);
    const slow = await startReencryption(pools.owner, provider, tenant, { actor, rotate: true });
    let takeover: ReencryptionStatus | undefined;
    const takenOverMidBatch = targets(tenant).map((target): ReencryptionTarget => ({
      ...target,
      batch: async (cipher, after, limit) => {
        const batch = await target.batch(cipher, after, limit);
        takeover ??= await startReencryption(pools.owner, provider, tenant, { actor: 'operator:other', rotate: false, staleAfterMs: 0 });
        return batch;
      },
    }));
    const stopped = await runReencryption(pools.owner, provider, tenant, slow.runId, takenOverMidBatch, { batchSize: 2 });
    // It resolves with its successor's run, untouched: still running, nothing of the slow run's counted.
    expect(stopped).toMatchObject({ runId: takeover!.runId, state: 'running', startedBy: 'operator:other', scanned: 0 });
    expect(await runReencryption(pools.owner, provider, tenant, takeover!.runId, targets(tenant))).toMatchObject({ state: 'done', scanned: 9 });
    expect((await listAudit(pools.owner, { tenant, action: 'data-key.reencrypt' })).map((e) => (e.after as { state: string }).state)).toEqual([
      'running',
      'done',
    ]);
  });
});
