import type { Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SignJWT } from 'jose';
import { DataKeyCache, LocalKeyProvider, destroyTenantKeys, parseCiphertext, startReencryption, tenantCipher } from '@fairway/crypto';
import { findTenant, TenantDataRouter, withTenantId, type IsolationModel } from '@fairway/db';
import { createIsolatedTestTenant, dropIsolatedTestTenants, testAdminUrl, testDatabaseUrls, testPools } from '@fairway/db/testing';
import { NotFoundError } from '@fairway/errors';
import { RecordsRepository, tenantKeyCipher } from '@fairway/records';
import { createLogger } from '@fairway/telemetry';
import type { TenantId } from '@fairway/tenant-context';
import { createAdminApp, type AdminDeps } from './admin-app';
import type { CatalogTenant } from './tenant-catalog';
import { TokenVerifier } from '@fairway/auth';

const SECRET = new TextEncoder().encode('admin-keys-secret-0123456789-0123456789');
const ISSUER = 'fairway-admin-keys';
const AUDIENCE = 'fairway-api';

/**
 * The operators' key rotation through the admin API of two control-plane replicas sharing one database:
 * either replica starts a rotation, the other one sees its progress and refuses a second one, and
 * the tenant's values end up under the new key whatever its isolation model.
 */
describe('admin API: tenant key rotation and re-encryption across replicas (real PostgreSQL)', () => {
  const pools = testPools();
  const created: TenantId[] = [];
  const servers: Server[] = [];
  const kek = `e${randomBytes(4).toString('hex')}`;
  const provider = new LocalKeyProvider({ [kek]: randomBytes(32) }, kek);
  let data: TenantDataRouter;
  let repository: RecordsRepository;
  let replicaA: string;
  let replicaB: string;
  let operator: string;

  /** The control plane's catalog, answered from the test database (the gRPC path is edge.int.test.ts's). */
  const catalog: AdminDeps['catalog'] = {
    get: async (id) => {
      const t = await findTenant(pools.owner, id);
      if (!t) throw new NotFoundError('tenant', id);
      return {
        id: t.id,
        slug: t.slug,
        displayName: t.displayName,
        status: t.status,
        isolationModel: t.isolationModel,
        plan: t.plan,
        createdAt: t.createdAt.toISOString(),
      } satisfies CatalogTenant;
    },
    listPage: () => Promise.reject(new Error('not used here')),
    create: () => Promise.reject(new Error('not used here')),
    setStatus: () => Promise.reject(new Error('not used here')),
    delete: () => Promise.reject(new Error('not used here')),
  };
  const scheduler: AdminDeps['scheduler'] = {
    getQuota: () => Promise.reject(new Error('not used here')),
    setQuota: () => Promise.reject(new Error('not used here')),
    stats: () => Promise.reject(new Error('not used here')),
    explain: () => Promise.reject(new Error('not used here')),
  };

  async function listen(deps: AdminDeps): Promise<string> {
    const server = createAdminApp(deps).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  async function call(base: string, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: operator } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Polls the run's state on `base` until it is no longer running (a deadline, never a fixed sleep). */
  async function untilFinished(base: string, tenant: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { status, body } = await call(base, 'GET', `/admin/v1/tenants/${tenant}/keys/reencryption`);
      expect(status).toBe(200);
      if (body['state'] !== 'running') return body;
      if (Date.now() > deadline) throw new Error(`the re-encryption of ${tenant} was still running after 20 s: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 25)); // the poll interval; the deadline above bounds the wait
    }
  }

  async function storedVersions(tenant: TenantId): Promise<{ records: Array<number | undefined>; artifacts: Array<number | undefined> }> {
    const records = await data.withTenant(tenant, async (tx) => (await tx.query<{ body: string }>('SELECT body FROM records ORDER BY id')).rows);
    const artifacts = await withTenantId(pools.app, tenant, async (tx) => (await tx.query<{ body: string }>('SELECT body FROM job_artifacts')).rows);
    return {
      records: records.map((r) => parseCiphertext(r.body)?.keyVersion),
      artifacts: artifacts.flatMap((a) => a.body.split('\n').filter(Boolean)).map((line) => parseCiphertext(line)?.keyVersion),
    };
  }

  async function seededTenant(model: IsolationModel): Promise<TenantId> {
    const tenant = await createIsolatedTestTenant(pools.owner, model, `adk${model.slice(0, 2)}`);
    created.push(tenant);
    for (const body of ['card ending 4242', 'iban DE00 1234', 'note']) await repository.create(tenant, { title: 't', body, amount: '1', tags: [] });
    const cipher = await tenantCipher(pools.app, provider, tenant, { cache: new DataKeyCache() });
    await withTenantId(pools.app, tenant, (tx) =>
      tx.query(`INSERT INTO job_artifacts (job_id, tenant_id, content_type, body) VALUES ($1, $2, 'application/json', $3)`, [
        randomUUID(),
        tenant,
        `${cipher.encrypt('{"count":3,')}\n${cipher.encrypt('"sumAmount":"3.00"}')}\n`,
      ]),
    );
    return tenant;
  }

  beforeAll(async () => {
    data = new TenantDataRouter({ catalogPool: pools.app, catalogUrl: testDatabaseUrls().app, maxConnections: 8, perDatabaseMax: 2 });
    repository = new RecordsRepository(data, tenantKeyCipher(pools.app, provider));
    const deps: AdminDeps = {
      tokens: new TokenVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }),
      catalog,
      scheduler,
      ownerPool: pools.owner,
      keys: { provider, appPool: pools.app, data, reencryption: { batchSize: 2 } },
      log: createLogger('admin-keys-int', 'silent'),
    };
    replicaA = await listen(deps);
    replicaB = await listen(deps);
    operator = `Bearer ${await new SignJWT({ role: 'operator', sub: 'ada' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').sign(SECRET)}`;
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await data.close();
    await dropIsolatedTestTenants(pools.owner, created);
    const admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
    await admin.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [created]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [created]);
    await admin.end();
    await pools.end();
  });

  it.each<IsolationModel>(['schema', 'database'])(
    'rotates a %s tenant on one replica and shows the finished re-encryption of its records and stored results on the other',
    async (model) => {
      const tenant = await seededTenant(model);
      expect(await storedVersions(tenant)).toEqual({ records: [1, 1, 1], artifacts: [1, 1] });

      const rotated = await call(replicaA, 'POST', `/admin/v1/tenants/${tenant}/keys/rotate?reason=quarterly`);
      expect(rotated.status).toBe(202);
      expect(rotated.body).toMatchObject({ tenantId: tenant, keyVersion: 2, reencryption: { state: 'running', toKeyVersion: 2, startedBy: 'ada' } });

      const done = await untilFinished(replicaB, tenant);
      expect(done).toMatchObject({
        tenantId: tenant,
        state: 'done',
        toKeyVersion: 2,
        scanned: 4,
        reencrypted: 5,
        stalled: false,
        tables: { 'records.body': { scanned: 3, reencrypted: 3, done: true }, 'job_artifacts.body': { scanned: 1, reencrypted: 2, done: true } },
      });
      expect(await storedVersions(tenant)).toEqual({ records: [2, 2, 2], artifacts: [2, 2] });
      expect((await repository.list(tenant)).items.map((r) => r.body)).toEqual(['card ending 4242', 'iban DE00 1234', 'note']);

      const audit = await call(replicaB, 'GET', `/admin/v1/audit?tenant=${tenant}`);
      const entries = audit.body['entries'] as Array<{ action: string; actor: string; reason?: string; after: Record<string, unknown> }>;
      expect(entries.filter((e) => e.action.startsWith('data-key.'))).toEqual([
        expect.objectContaining({ action: 'data-key.rotate', actor: 'ada', reason: 'quarterly', after: expect.objectContaining({ version: 2 }) }),
        expect.objectContaining({
          action: 'data-key.reencrypt',
          actor: 'ada',
          after: expect.objectContaining({ state: 'done', toKeyVersion: 2, scanned: 4, reencrypted: 5 }),
        }),
      ]);

      // Running it again checks everything and rewrites nothing.
      expect((await call(replicaB, 'POST', `/admin/v1/tenants/${tenant}/keys/reencryption`)).status).toBe(202);
      expect(await untilFinished(replicaA, tenant)).toMatchObject({ state: 'done', toKeyVersion: 2, scanned: 4, reencrypted: 0 });
    },
  );

  it('refuses a rotation while another replica runs a re-encryption of the tenant, and rotates nothing', async () => {
    const tenant = await seededTenant('pooled');
    // Another replica claimed a run (and has not finished it).
    const elsewhere = await startReencryption(pools.owner, provider, tenant, { actor: 'grace', rotate: true });
    const refused = await call(replicaA, 'POST', `/admin/v1/tenants/${tenant}/keys/rotate`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'REENCRYPTION_IN_PROGRESS', retriable: true, toKeyVersion: 2 });
    expect(String(refused.body['detail'])).toContain(`GET /admin/v1/tenants/${tenant}/keys/reencryption`);
    expect((await call(replicaB, 'GET', `/admin/v1/tenants/${tenant}/keys/reencryption`)).body).toMatchObject({
      state: 'running',
      runId: elsewhere.runId,
      startedBy: 'grace',
    });
    const keys = await pools.owner.query<{ version: number }>('SELECT version FROM tenant_keys WHERE tenant_id = $1 ORDER BY version', [tenant]);
    expect(keys.rows.map((k) => k.version)).toEqual([1, 2]);
  });

  it('answers 404 for a tenant that never had a re-encryption, and 410 for a rotation of a shredded tenant', async () => {
    const tenant = await seededTenant('pooled');
    expect((await call(replicaA, 'GET', `/admin/v1/tenants/${tenant}/keys/reencryption`)).body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await destroyTenantKeys(pools.owner, tenant, { actor: 'ada', reason: 'offboarding' });
    const gone = await call(replicaA, 'POST', `/admin/v1/tenants/${tenant}/keys/rotate`);
    expect(gone.body).toMatchObject({ status: 410, code: 'TENANT_KEYS_DESTROYED' });
    expect((await call(replicaA, 'POST', `/admin/v1/tenants/${tenant}/keys/reencryption`)).body).toMatchObject({ status: 410, code: 'TENANT_KEYS_DESTROYED' });
  });
});
