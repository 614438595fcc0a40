import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestTenant, dropTestTenants, testAdminUrl, testPools } from '@fairway/db/testing';
import { listAudit } from '@fairway/audit';
import {
  DataKeyCache,
  DecryptionFailedError,
  LocalKeyProvider,
  TenantKeysDestroyedError,
  destroyTenantKeys,
  keyVersionPrefix,
  parseCiphertext,
  reencryptSealedLines,
  reencryptValue,
  rewrapTenantKeys,
  rotateTenantKey,
  tenantCipher,
} from './index';

describe('per-tenant envelope encryption (real PostgreSQL)', () => {
  let pools: ReturnType<typeof testPools>;
  let admin: Client;
  const tenants: string[] = [];
  // A KEK version name no other suite uses, so rewrap and key reads here never touch their keys.
  const kekV1 = `t${randomBytes(4).toString('hex')}a`;
  const kekV2 = `t${randomBytes(4).toString('hex')}b`;
  const kek1 = randomBytes(32);
  const kek2 = randomBytes(32);
  const provider = new LocalKeyProvider({ [kekV1]: kek1 }, kekV1);
  const table = `crypto_values_${randomBytes(4).toString('hex')}`;

  async function tenant(prefix: string): Promise<string> {
    const id = await createTestTenant(pools.owner, prefix);
    tenants.push(id);
    return id;
  }

  async function storeValue(tenantId: string, value: string): Promise<number> {
    const { rows } = await pools.owner.query<{ id: number }>(`INSERT INTO ${table} (tenant_id, secret) VALUES ($1, $2) RETURNING id`, [tenantId, value]);
    return rows[0]!.id;
  }

  beforeAll(async () => {
    pools = testPools();
    admin = new Client({ connectionString: testAdminUrl() });
    await admin.connect();
    // Stands in for a tenant table of the records domain: RLS like every tenant table.
    await pools.owner.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, tenant_id text NOT NULL, secret text)`);
    await pools.owner.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await pools.owner.query(`CREATE POLICY tenant_only ON ${table} TO fairway_app USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))`);
    await pools.owner.query(`GRANT SELECT, UPDATE ON ${table} TO fairway_app`);
  });

  afterAll(async () => {
    await pools.owner.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query('DELETE FROM audit_log WHERE chain = ANY($1::text[])', [tenants]);
    await admin.query('DELETE FROM audit_chain_heads WHERE chain = ANY($1::text[])', [tenants]);
    await dropTestTenants(pools.owner, tenants);
    await admin.end();
    await pools.end();
  });

  it('round-trips through a key made on first use and stored only wrapped', async () => {
    const acme = await tenant('acme');
    const cipher = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });
    const stored = cipher.encrypt('4111 1111 1111 1111');
    const again = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });
    expect(again.decryptText(stored)).toBe('4111 1111 1111 1111');
    const { rows } = await admin.query<{ version: number; kek_version: string; wrapped_key: Buffer }>(
      'SELECT version, kek_version, wrapped_key FROM tenant_keys WHERE tenant_id = $1',
      [acme],
    );
    expect(rows.map((r) => [r.version, r.kek_version])).toEqual([[1, kekV1]]);
    expect(rows[0]!.wrapped_key.length).toBe(12 + 16 + 32);
  });

  it("does not decrypt one tenant's value as another, even with the other's wrapped key copied over", async () => {
    const acme = await tenant('acme');
    const globex = await tenant('globex');
    const stored = (await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() })).encrypt('acme only');
    const globexCipher = await tenantCipher(pools.app, provider, globex, { cache: new DataKeyCache() });
    expect(() => globexCipher.decrypt(stored)).toThrow(DecryptionFailedError);
    // An attacker with write access to the table copies acme's wrapped key into globex's row.
    await admin.query(`UPDATE tenant_keys SET wrapped_key = (SELECT wrapped_key FROM tenant_keys WHERE tenant_id = $1 AND version = 1) WHERE tenant_id = $2`, [
      acme,
      globex,
    ]);
    await expect(tenantCipher(pools.app, provider, globex, { cache: new DataKeyCache() })).rejects.toThrow(/unable to authenticate|auth/i);
  });

  it('refuses a tampered ciphertext', async () => {
    const acme = await tenant('acme');
    const cipher = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });
    const stored = cipher.encrypt('amount=100');
    const parts = stored.split(':');
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[ct.length - 1]! ^= 0x01;
    parts[4] = ct.toString('base64url');
    expect(() => cipher.decrypt(parts.join(':'))).toThrow(DecryptionFailedError);
  });

  it('keeps the application role to its own tenant: no other tenant keys, no writes but tenant_key_add for itself', async () => {
    const acme = await tenant('acme');
    const globex = await tenant('globex');
    await tenantCipher(pools.app, provider, globex, { cache: new DataKeyCache() });
    const client = await pools.app.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.tenant_id', $1, true)", [acme]);
      const visible = await client.query('SELECT tenant_id FROM tenant_keys WHERE tenant_id = $1', [globex]);
      expect(visible.rows).toEqual([]);
      await expect(client.query('SELECT tenant_key_add($1, 2, $2, $3)', [globex, kekV1, randomBytes(60)])).rejects.toThrow(
        /only be added for the tenant of the transaction/,
      );
      await client.query('ROLLBACK');
      await expect(client.query('DELETE FROM tenant_keys WHERE tenant_id = $1', [globex])).rejects.toThrow(/permission denied/);
      await expect(client.query('UPDATE tenant_keys SET kek_version = $2 WHERE tenant_id = $1', [globex, 'x'])).rejects.toThrow(/permission denied/);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });

  it("makes a shredded tenant's data unreadable from a dump, and audits the shredding", async () => {
    const acme = await tenant('acme');
    const cipher = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });
    await rotateTenantKey(pools.app, provider, acme, { actor: 'operator:ada', reason: 'test rotation' });
    const rotated = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });
    await storeValue(acme, cipher.encrypt('ssn=078-05-1120'));
    await storeValue(acme, rotated.encrypt('ssn=219-09-9999'));
    const deadLetter = rotated.encrypt('a copy in a dead-letter topic');

    const wrappedBefore = (await admin.query<{ wrapped_key: Buffer }>('SELECT wrapped_key FROM tenant_keys WHERE tenant_id = $1', [acme])).rows.map(
      (r) => r.wrapped_key,
    );
    expect(wrappedBefore).toHaveLength(2);

    expect(await destroyTenantKeys(pools.owner, acme, { actor: 'operator:ada', reason: 'offboarding' })).toEqual({ versions: [1, 2] });

    // The "dump": what the database holds about the tenant, read as the superuser. The ciphertext
    // is all still there; no key that opens it is, anywhere in the key table.
    const keys = await admin.query<{ version: number; wrapped_key: Buffer | null; destroyed_at: Date | null }>(
      'SELECT version, wrapped_key, destroyed_at FROM tenant_keys WHERE tenant_id = $1 ORDER BY version',
      [acme],
    );
    expect(keys.rows.map((r) => [r.version, r.wrapped_key, r.destroyed_at instanceof Date])).toEqual([
      [1, null, true],
      [2, null, true],
    ]);
    const copies = await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM tenant_keys WHERE wrapped_key = ANY($1::bytea[])', [wrappedBefore]);
    expect(copies.rows[0]!.n).toBe('0');
    const values = await admin.query<{ secret: string }>(`SELECT secret FROM ${table} WHERE tenant_id = $1`, [acme]);
    expect(values.rows).toHaveLength(2);
    for (const secret of [...values.rows.map((r) => r.secret), deadLetter]) {
      expect(parseCiphertext(secret)).toBeDefined();
      expect(secret).not.toMatch(/ssn|dead-letter/);
    }
    // The process that encrypted them still has the keys in memory; a process started after the
    // shredding (a fresh cache) has no way back.
    await expect(tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() })).rejects.toThrow(TenantKeysDestroyedError);
    await expect(tenantCipher(pools.owner, provider, acme, { cache: new DataKeyCache() })).rejects.toThrow(TenantKeysDestroyedError);
    await expect(rotateTenantKey(pools.app, provider, acme, { actor: 'operator:ada' })).rejects.toThrow(TenantKeysDestroyedError);

    const audit = await listAudit(pools.app, { tenant: acme });
    expect(audit.map((e) => e.action)).toEqual(['data-key.rotate', 'data-keys.destroy']);
    expect(audit[1]).toMatchObject({ actor: 'operator:ada', reason: 'offboarding', after: { destroyedVersions: [1, 2] } });
  });

  it('rotates the KEK by rewrapping keys, without touching a byte of ciphertext', async () => {
    const acme = await tenant('acme');
    const globex = await tenant('globex');
    const a = await storeValue(acme, (await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() })).encrypt('acme secret'));
    const g = await storeValue(globex, (await tenantCipher(pools.app, provider, globex, { cache: new DataKeyCache() })).encrypt('globex secret'));
    const before = await pools.owner.query<{ id: number; secret: string }>(`SELECT id, secret FROM ${table} WHERE id = ANY($1) ORDER BY id`, [[a, g]]);

    const both = new LocalKeyProvider({ [kekV1]: kek1, [kekV2]: kek2 }, kekV2);
    const progress: number[] = [];
    const result = await rewrapTenantKeys(pools.owner, both, {
      actor: 'operator:ada',
      tenantIds: [acme, globex],
      batchSize: 1,
      onProgress: (p) => progress.push(p.rewrapped),
    });
    expect(result).toEqual({ rewrapped: 2, toKekVersion: kekV2 });
    expect(progress).toEqual([1, 2]);

    const keys = await admin.query<{ kek_version: string }>('SELECT DISTINCT kek_version FROM tenant_keys WHERE tenant_id = ANY($1::text[])', [[acme, globex]]);
    expect(keys.rows).toEqual([{ kek_version: kekV2 }]);
    const after = await pools.owner.query<{ id: number; secret: string }>(`SELECT id, secret FROM ${table} WHERE id = ANY($1) ORDER BY id`, [[a, g]]);
    expect(after.rows).toEqual(before.rows);

    // The old KEK is retired: only the new one is configured, and everything still reads.
    const onlyNew = new LocalKeyProvider({ [kekV2]: kek2 }, kekV2);
    expect((await tenantCipher(pools.app, onlyNew, acme, { cache: new DataKeyCache() })).decryptText(after.rows[0]!.secret)).toBe('acme secret');
    expect((await tenantCipher(pools.app, onlyNew, globex, { cache: new DataKeyCache() })).decryptText(after.rows[1]!.secret)).toBe('globex secret');
    await expect(tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() })).rejects.toThrow(/no KEK/);
  });

  // The runner that drives these moves over a tenant's tables is tested with real targets in
  // libs/records (reencryption.int.test.ts) and through the admin API in services/control-plane.
  it("moves a value sealed under an older key to the tenant's current key after rotation, and leaves current values and plaintext alone", async () => {
    const acme = await tenant('acme');
    const old = (await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() })).encrypt('value');
    expect(await rotateTenantKey(pools.app, provider, acme, { actor: 'operator:ada' })).toEqual({ version: 2 });
    const current = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });

    const moved = reencryptValue(current, old);
    expect(moved).toBeDefined();
    expect(parseCiphertext(moved!)?.keyVersion).toBe(2);
    expect(moved!.startsWith(keyVersionPrefix(2))).toBe(true);
    expect(old.startsWith(keyVersionPrefix(2))).toBe(false);
    expect(current.decryptText(moved!)).toBe('value');
    expect(reencryptValue(current, moved!)).toBeUndefined();
    expect(reencryptValue(current, 'plaintext written before encryption')).toBeUndefined();

    // A sealed-chunk body keeps its line boundaries; only the lines under an old key change.
    const body = `${old}\n${moved!}\n`;
    const result = reencryptSealedLines(current, body);
    expect(result.reencrypted).toBe(1);
    expect(result.body.split('\n').map((line) => (line === '' ? '' : current.decryptText(line)))).toEqual(['value', 'value', '']);
    expect(reencryptSealedLines(current, result.body)).toEqual({ body: result.body, reencrypted: 0 });
  });

  it('makes exactly one first key when many requests of a new tenant race', async () => {
    const acme = await tenant('acme');
    const ciphers = await Promise.all(Array.from({ length: 8 }, () => tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() })));
    const stored = ciphers.map((c, i) => c.encrypt(`from ${i}`));
    const reader = await tenantCipher(pools.app, provider, acme, { cache: new DataKeyCache() });
    expect(stored.map((s) => reader.decryptText(s))).toEqual(ciphers.map((_, i) => `from ${i}`));
    const { rows } = await admin.query('SELECT version FROM tenant_keys WHERE tenant_id = $1', [acme]);
    expect(rows).toEqual([{ version: 1 }]);
  });
});
