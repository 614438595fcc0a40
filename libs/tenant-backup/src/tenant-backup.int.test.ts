import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { appendAudit, verifyAuditChains } from '@fairway/audit';
import { LocalKeyProvider, rotateTenantKey, tenantCipher } from '@fairway/crypto';
import { databaseNameFor, databaseOf, findTenant, schemaNameFor, TenantDataRouter, withTenantId, type IsolationModel } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testAdminUrl, testDatabaseUrls, testPools, uniqueTenantId } from '@fairway/db/testing';
import type { TenantId } from '@fairway/tenant-context';
import { openArchive, sealArchive } from './archive-stream';
import { writeTenantBackup, type TenantBackupDeps } from './backup';
import { BackupKeyring } from './backup-keys';
import { BackupInvalidError, TenantExistsError } from './errors';
import { restoreTenantBackup } from './restore';

const MODELS: readonly IsolationModel[] = ['pooled', 'schema', 'database'];

/** `bytes` in 64 KiB pieces, as a network upload arrives. */
function* pieces(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += 65_536) yield bytes.subarray(at, at + 65_536);
}

/** What a tenant holds, as the tenant itself reads it (plaintext), independent of ids and models. */
interface Contents {
  records: Array<{ title: string; body: string; amount: string; tags: string[]; createdAt: string }>;
  jobs: Array<{ type: string; state: string; params: unknown; result: unknown }>;
  chunks: string[];
  artifacts: number;
  effects: number;
  quota: { weight: number; max_in_flight: number } | undefined;
}

/**
 * Backup and restore of one tenant on the real PostgreSQL: every pair of isolation models, under a
 * new id and under its own, and archives that are tampered with, cut short or aimed at an existing
 * tenant, none of which leaves anything behind.
 */
describe('tenant backup and restore (real PostgreSQL)', () => {
  const pools = testPools();
  const urls = testDatabaseUrls();
  const created: string[] = [];
  const kek = `b${randomBytes(4).toString('hex')}`;
  const provider = new LocalKeyProvider({ [kek]: randomBytes(32) }, kek);
  const keyring = new BackupKeyring({ ops1: randomBytes(32) }, 'ops1');
  const deps: TenantBackupDeps = { ownerPool: pools.owner, ownerUrl: urls.owner, provider, keyring };
  let data: TenantDataRouter;
  let admin: Client;

  beforeAll(async () => {
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: urls.app, listen: false, cacheTtlMs: 0 });
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
  });

  afterAll(async () => {
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    await admin.end();
    await pools.end();
  });

  /** A tenant in `model` with a bit of everything: records under two key versions, jobs, results, a key, a quota, audit entries. */
  async function seedTenant(model: IsolationModel): Promise<TenantId> {
    const id = await createIsolatedTestTenant(pools.owner, model, 'bk');
    created.push(id);
    const insertRecord = async (title: string, body: string, amount: string, tags: string[]) => {
      const cipher = await tenantCipher(pools.app, provider, id);
      await data.withTenant(id, (tx) =>
        tx.query('INSERT INTO records (id, title, body, amount, tags) VALUES ($1, $2, $3, $4, $5)', [randomUUID(), title, cipher.encrypt(body), amount, tags]),
      );
    };
    await insertRecord('first', 'secret one ✓', '1234567890123456.78', ['a', 'b']);
    await rotateTenantKey(pools.owner, provider, id, { actor: 'test' });
    await insertRecord('second', 'secret two', '0.10', []);
    const cipher = await tenantCipher(pools.app, provider, id);
    const [done, queued] = [randomUUID(), randomUUID()];
    await withTenantId(pools.app, id, async (tx) => {
      await tx.query(
        `INSERT INTO jobs (id, tenant_id, type, job_class, params, state, attempts, result, accepted_at, finished_at)
         VALUES ($1, $3, 'export', 'heavy', '{"format":"csv","big":12345678901234567890}', 'succeeded', 1, '{"rows":2}', now(), now()),
                ($2, $3, 'report', 'standard', '{}', 'queued', 0, NULL, now(), NULL)`,
        [done, queued, id],
      );
      await tx.query(`INSERT INTO job_effects (job_id, tenant_id, attempt, observed) VALUES ($1, $2, 1, '{"records":2}')`, [done, id]);
      await tx.query(`INSERT INTO job_result_chunks (job_id, attempt, seq, tenant_id, body) VALUES ($1, 1, 0, $2, $3), ($1, 1, 1, $2, $4)`, [
        done,
        id,
        cipher.encrypt('title,body\n'),
        cipher.encrypt('first,secret one\n'),
      ]);
      await tx.query(`INSERT INTO job_artifacts (job_id, tenant_id, content_type, body, attempt, chunks) VALUES ($1, $2, 'text/csv', '', 1, 2)`, [done, id]);
    });
    await pools.owner.query(`INSERT INTO api_keys (id, tenant_id, prefix, hash) VALUES ($1, $2, $3, $4)`, [
      randomUUID(),
      id,
      randomBytes(6).toString('hex'),
      randomBytes(32).toString('hex'),
    ]);
    await pools.owner.query('INSERT INTO tenant_quotas (tenant_id, weight, max_in_flight) VALUES ($1, 3, 7)', [id]);
    await appendAudit(pools.owner, { chain: id, actor: 'test', action: 'tenant.update', target: id, after: { note: 'seeded', n: 1.5 } });
    return id;
  }

  async function contents(id: string): Promise<Contents> {
    const cipher = await tenantCipher(pools.app, provider, id, { createIfMissing: false });
    const records = await data.withTenant(id as TenantId, async (tx) => {
      const { rows } = await tx.query<{ title: string; body: string; amount: string; tags: string[]; created_at: Date }>(
        'SELECT title, body, amount::text AS amount, tags, created_at FROM records ORDER BY title',
      );
      return rows.map((r) => ({ title: r.title, body: cipher.decryptText(r.body), amount: r.amount, tags: r.tags, createdAt: r.created_at.toISOString() }));
    });
    return withTenantId(pools.app, id as TenantId, async (tx) => {
      const jobs = await tx.query<{ type: string; state: string; params: unknown; result: unknown }>(
        'SELECT type, state, params, result FROM jobs ORDER BY type',
      );
      const chunks = await tx.query<{ body: string }>('SELECT body FROM job_result_chunks ORDER BY seq');
      const artifacts = await tx.query('SELECT 1 FROM job_artifacts');
      const effects = await tx.query('SELECT 1 FROM job_effects');
      const quota = await pools.owner.query<{ weight: number; max_in_flight: number }>('SELECT weight, max_in_flight FROM tenant_quotas WHERE tenant_id = $1', [
        id,
      ]);
      return {
        records,
        jobs: jobs.rows,
        chunks: chunks.rows.map((r) => cipher.decryptText(r.body)),
        artifacts: artifacts.rowCount ?? 0,
        effects: effects.rowCount ?? 0,
        quota: quota.rows[0],
      };
    });
  }

  async function backupOf(id: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
    await writeTenantBackup(deps, id, sink, { actor: 'test' });
    return Buffer.concat(chunks);
  }

  /** Nothing of `id` anywhere: catalog row, schema, database, rows of any catalog table. */
  async function traces(id: string): Promise<string[]> {
    const found: string[] = [];
    if ((await admin.query('SELECT 1 FROM tenants WHERE id = $1', [id])).rowCount) found.push('tenants');
    if ((await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaNameFor(id)])).rowCount) found.push('schema');
    if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseNameFor(databaseOf(urls.owner), id)])).rowCount) found.push('database');
    for (const table of [
      'records',
      'jobs',
      'job_effects',
      'job_artifacts',
      'job_result_chunks',
      'tenant_keys',
      'api_keys',
      'tenant_quotas',
      'tenant_migrations',
    ]) {
      if ((await admin.query(`SELECT 1 FROM ${table} WHERE tenant_id = $1`, [id])).rowCount) found.push(table);
    }
    return found;
  }

  const sources = new Map<IsolationModel, { id: TenantId; archive: Buffer; before: Contents }>();
  beforeAll(async () => {
    for (const model of MODELS) {
      const id = await seedTenant(model);
      sources.set(model, { id, before: await contents(id), archive: await backupOf(id) });
    }
  });

  const pairs = MODELS.flatMap((from) => MODELS.map((to) => [from, to] as const));
  it.each(pairs)('restores a %s tenant as a new %s tenant with every value, re-sealed under its own key', async (from, to) => {
    const source = sources.get(from)!;
    const target = uniqueTenantId('bk-copy');
    created.push(target);
    const result = await restoreTenantBackup(deps, Readable.from([source.archive]), { actor: 'test', as: target, model: to });

    expect(result.tenant).toMatchObject({ id: target, status: 'active', isolationModel: to });
    expect(result.rows).toMatchObject({ records: 2, jobs: 2, job_effects: 1, job_artifacts: 1, job_result_chunks: 2, tenant_quotas: 1 });
    expect(result.skipped).toEqual({ api_keys: 1 });
    expect(result.auditEntries).toBeGreaterThanOrEqual(2);
    const after = await contents(target);
    // Same plaintext, amounts to the cent, array and timestamps; the queued job is history, not work.
    expect(after.records).toEqual(source.before.records);
    expect(after.chunks).toEqual(source.before.chunks);
    expect(after.jobs).toEqual(source.before.jobs.map((j) => (j.state === 'queued' ? { ...j, state: 'cancelled' } : j)));
    expect(after).toMatchObject({ artifacts: 1, effects: 1, quota: { weight: 3, max_in_flight: 7 } });
    // Re-sealed: the copy's one fresh key opens everything, bound to the copy's id.
    const keys = await pools.owner.query<{ version: number }>('SELECT version FROM tenant_keys WHERE tenant_id = $1', [target]);
    expect(keys.rows.map((k) => k.version)).toEqual([1]);
    expect((await pools.owner.query('SELECT 1 FROM api_keys WHERE tenant_id = $1', [target])).rowCount).toBe(0);
    // The original is untouched, and the copy's chain records where it came from.
    expect(await contents(source.id)).toEqual(source.before);
    const restored = await pools.owner.query<{ after: { from: { tenant: string } } }>(
      `SELECT after FROM audit_log WHERE chain = $1 AND action = 'tenant.restore'`,
      [target],
    );
    expect(restored.rows.map((r) => r.after.from.tenant)).toEqual([source.id]);
  });

  it('restores a tenant under its own id with its ids, keys, API key hashes and ciphertexts as they were, its audit chain continued', async () => {
    const id = await seedTenant('pooled');
    const raw = async () => (await admin.query<{ id: string; body: string }>('SELECT id::text, body FROM records WHERE tenant_id = $1 ORDER BY id', [id])).rows;
    const rawBefore = await raw();
    const keyBefore = (await pools.owner.query<{ prefix: string; hash: string }>('SELECT prefix, hash FROM api_keys WHERE tenant_id = $1', [id])).rows;
    const before = await contents(id);
    const archive = await backupOf(id);
    // Lost: the catalog row and, by cascade, everything of the tenant (its audit chain outlives it).
    await admin.query('DELETE FROM tenants WHERE id = $1', [id]);
    expect(await traces(id)).toEqual([]);

    const result = await restoreTenantBackup(deps, Readable.from([archive]), { actor: 'test' });
    expect(result.tenant).toMatchObject({ id, isolationModel: 'pooled', status: 'active' });
    expect(await raw()).toEqual(rawBefore);
    expect(await contents(id)).toEqual({ ...before, jobs: before.jobs.map((j) => (j.state === 'queued' ? { ...j, state: 'cancelled' } : j)) });
    expect((await pools.owner.query('SELECT prefix, hash FROM api_keys WHERE tenant_id = $1', [id])).rows).toEqual(keyBefore);
    expect((await pools.owner.query<{ version: number }>('SELECT version FROM tenant_keys WHERE tenant_id = $1 ORDER BY version', [id])).rows).toEqual([
      { version: 1 },
      { version: 2 },
    ]);
    const verified = await verifyAuditChains(pools.app, { tenant: id });
    expect(verified.ok).toBe(true);
    const actions = await pools.owner.query<{ action: string }>('SELECT action FROM audit_log WHERE chain = $1 ORDER BY seq', [id]);
    expect(actions.rows.map((r) => r.action).slice(-2)).toEqual(['tenant.backup', 'tenant.restore']);
  });

  it('refuses to restore over an existing tenant, and leaves it as it was', async () => {
    const source = sources.get('schema')!;
    const error = await restoreTenantBackup(deps, Readable.from([source.archive]), { actor: 'test' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TenantExistsError);
    expect(await contents(source.id)).toEqual(source.before);
    expect((await findTenant(pools.owner, source.id))?.status).toBe('active');
  });

  /** The archive's plaintext, changed by `edit`, sealed again for the same backup key (a writer holding it, or a bug). */
  async function resealed(archive: Buffer, tenant: string, edit: (plaintext: string) => string): Promise<Buffer> {
    const reader = openArchive(keyring);
    const parts: Buffer[] = [];
    reader.on('data', (c: Buffer) => parts.push(c));
    await pipeline(Readable.from([archive]), reader);
    const { stream } = sealArchive(keyring, tenant);
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    await pipeline(Readable.from([Buffer.from(edit(Buffer.concat(parts).toString('utf8')), 'utf8')]), stream);
    return Buffer.concat(out);
  }

  const tamperings: Array<[string, (archive: Buffer, tenant: string) => Promise<Buffer>, RegExp]> = [
    [
      'a flipped bit',
      async (a) => {
        const b = Buffer.from(a);
        const at = Math.floor(b.length / 2);
        b.writeUInt8(b.readUInt8(at) ^ 0x04, at);
        return b;
      },
      /does not authenticate/,
    ],
    ['a forged audit entry', (a, t) => resealed(a, t, (p) => p.replace('"actor": "test"', '"actor": "someone-else"')), /audit chain does not verify at seq 1/],
    ['an edited record', (a, t) => resealed(a, t, (p) => p.replace('"title": "second"', '"title": "edited"')), /section 'records' holds 2 rows with SHA-256/],
    [
      'a section left out',
      (a, t) => resealed(a, t, (p) => p.replace(/@\{"k":"section","name":"jobs"\}\n(?:[^@].*\n)*@\{"k":"end","name":"jobs"[^\n]*\n/, '')),
      /lacks the sections jobs/,
    ],
  ];
  it.each(tamperings)('refuses an archive with %s before anything is kept', async (_name, tamper, message) => {
    const source = sources.get('pooled')!;
    const target = uniqueTenantId('bk-bad');
    const error = await restoreTenantBackup(deps, Readable.from([await tamper(source.archive, source.id)]), {
      actor: 'test',
      as: target,
      model: 'schema',
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BackupInvalidError);
    expect((error as Error).message).toMatch(message);
    expect(await traces(target)).toEqual([]);
  });

  it.each(MODELS)('leaves nothing behind when a restore into the %s model fails half way through the records', async (model) => {
    const id = await seedTenant('pooled');
    const cipher = await tenantCipher(pools.app, provider, id);
    await withTenantId(pools.app, id, (tx) =>
      tx.query(`INSERT INTO records (id, title, body) SELECT gen_random_uuid(), 'bulk-' || g, $1 FROM generate_series(1, 2000) AS g`, [
        cipher.encrypt('bulk body'),
      ]),
    );
    const archive = await backupOf(id);
    const target = uniqueTenantId('bk-cut');
    const written: number[] = [];
    const error = await restoreTenantBackup(deps, Readable.from(pieces(archive.subarray(0, Math.floor(archive.length * 0.75)))), {
      actor: 'test',
      as: target,
      model,
      onProgress: (table, rows) => table === 'records' && written.push(rows),
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BackupInvalidError);
    expect((error as Error).message).toMatch(/truncated/);
    // It did get half way: records were written (uncommitted) before the cut was found.
    expect(Math.max(...written)).toBeGreaterThanOrEqual(500);
    expect(await traces(target)).toEqual([]);
  });
});
