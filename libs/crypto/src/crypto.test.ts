import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { DataKey, DataKeyCache } from './data-key';
import { parseCiphertext } from './ciphertext';
import { toProblem } from '@fairway/errors';
import { DecryptionFailedError, ReencryptionInProgressError, TenantKeysDestroyedError } from './errors';
import { LocalKeyProvider, loadLocalKeyProvider } from './local-key-provider';
import { makeCipher } from './tenant-cipher';

const key = (tenant: string, version: number, bytes = randomBytes(32)): DataKey => new DataKey(tenant, version, bytes);

describe('tenant cipher (AES-256-GCM, tenant bound as associated data)', () => {
  const acmeKey = key('acme', 1);

  it('round-trips text and bytes in the fw1 format', () => {
    const cipher = makeCipher('acme', [acmeKey]);
    const stored = cipher.encrypt('4111 1111 1111 1111');
    expect(stored).toMatch(/^fw1:1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(cipher.decryptText(stored)).toBe('4111 1111 1111 1111');
    const bytes = randomBytes(100);
    expect(cipher.decrypt(cipher.encrypt(bytes)).equals(bytes)).toBe(true);
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'));
  });

  it('refuses a value moved to another tenant, even one holding the very same key bytes', () => {
    const stored = makeCipher('acme', [acmeKey]).encrypt('secret');
    const globex = makeCipher('globex', [key('globex', 1, acmeKey.bytes())]);
    expect(() => globex.decrypt(stored)).toThrow(DecryptionFailedError);
  });

  it.each<[string, (v: string) => string]>([
    [
      'a flipped ciphertext bit',
      (v) => {
        const p = v.split(':');
        const ct = Buffer.from(p[4]!, 'base64url');
        ct[0]! ^= 1;
        p[4] = ct.toString('base64url');
        return p.join(':');
      },
    ],
    [
      'a changed tag',
      (v) => {
        const p = v.split(':');
        p[3] = Buffer.alloc(16).toString('base64url');
        return p.join(':');
      },
    ],
    ['a relabelled key version', (v) => v.replace(/^fw1:1:/, 'fw1:2:')],
    ['a truncated value', (v) => v.slice(0, -4)],
    ['another format', () => 'v2:1:abc:def:ghi'],
    ['plain text', () => 'hello'],
  ])('refuses %s', (_name, tamper) => {
    const cipher = makeCipher('acme', [acmeKey, key('acme', 2)]);
    const stored = makeCipher('acme', [acmeKey]).encrypt('secret');
    expect(() => cipher.decrypt(tamper(stored))).toThrow(DecryptionFailedError);
  });

  it('encrypts with the newest key and still reads the older ones', () => {
    const old = makeCipher('acme', [acmeKey]).encrypt('old');
    const rotated = makeCipher('acme', [acmeKey, key('acme', 2)]);
    const fresh = rotated.encrypt('new');
    expect(parseCiphertext(fresh)?.keyVersion).toBe(2);
    expect(rotated.decryptText(old)).toBe('old');
    expect(rotated.needsReencryption(old)).toBe(true);
    expect(rotated.needsReencryption(fresh)).toBe(false);
  });

  it('never shows key bytes in JSON, inspect or string form', () => {
    const k = key('acme', 1);
    const hex = k.bytes().toString('hex');
    const b64 = k.bytes().toString('base64');
    const cipher = makeCipher('acme', [k]);
    const cache = new DataKeyCache();
    cache.set('x', k);
    for (const shown of [JSON.stringify({ k, cipher, cache }), inspect({ k, cipher, cache }, { depth: 10, showHidden: true }), `${k}`]) {
      expect(shown).not.toContain(hex);
      expect(shown).not.toContain(b64);
    }
  });
});

describe('DataKeyCache', () => {
  it('forgets keys after the TTL and keeps at most maxEntries', () => {
    let now = 0;
    const cache = new DataKeyCache({ ttlMs: 1000, maxEntries: 2, now: () => now });
    cache.set('a', key('acme', 1));
    cache.set('b', key('acme', 2));
    cache.set('c', key('globex', 1));
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.version).toBe(2);
    now = 1000;
    expect(cache.get('b')).toBeUndefined();
  });

  it('drops every key of a tenant on request', () => {
    const cache = new DataKeyCache();
    cache.set('a', key('acme', 1));
    cache.set('g', key('globex', 1));
    cache.forgetTenant('acme');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('g')).toBeDefined();
  });
});

describe('LocalKeyProvider', () => {
  const ctx = { tenantId: 'acme', keyVersion: 1 };
  const dek = randomBytes(32);

  it('unwraps what it wrapped, under the same KEK version and context only', async () => {
    const provider = new LocalKeyProvider({ v1: randomBytes(32), v2: randomBytes(32) }, 'v2');
    const wrapped = await provider.wrap(dek, undefined, ctx);
    expect((await provider.unwrap(wrapped, 'v2', ctx)).equals(dek)).toBe(true);
    await expect(provider.unwrap(wrapped, 'v1', ctx)).rejects.toThrow();
    await expect(provider.unwrap(wrapped, 'v2', { tenantId: 'globex', keyVersion: 1 })).rejects.toThrow();
    await expect(provider.unwrap(wrapped, 'v2', { tenantId: 'acme', keyVersion: 2 })).rejects.toThrow();
  });

  it('reads FAIRWAY_KEK_<VERSION> variables and FAIRWAY_KEK_CURRENT', () => {
    const env = { FAIRWAY_KEK_V1: randomBytes(32).toString('base64'), FAIRWAY_KEK_V2: randomBytes(32).toString('base64'), FAIRWAY_KEK_CURRENT: 'V2' };
    const provider = loadLocalKeyProvider({ env });
    expect(provider.currentKekVersion()).toBe('v2');
    expect(provider.versions().sort()).toEqual(['v1', 'v2']);
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ['a short key', { FAIRWAY_KEK_V1: randomBytes(16).toString('base64') }, /FAIRWAY_KEK_V1 must be 32 random bytes/],
    [
      'several keys and no current',
      { FAIRWAY_KEK_V1: randomBytes(32).toString('base64'), FAIRWAY_KEK_V2: randomBytes(32).toString('base64') },
      /FAIRWAY_KEK_CURRENT must name/,
    ],
    ['a current version with no key', { FAIRWAY_KEK_V1: randomBytes(32).toString('base64'), FAIRWAY_KEK_CURRENT: 'v9' }, /current KEK version 'v9' has no key/],
    ['no key at all in production', { NODE_ENV: 'production' }, /no key-encryption key/],
  ])('stops with a message naming the problem for %s', (_name, env, message) => {
    expect(() => loadLocalKeyProvider({ env, devKeyFile: '/nonexistent/kek.json' })).toThrow(message);
  });

  it('generates a private development key file once, and reuses it', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fairway-kek-')), 'keys', 'kek.json');
    const first = loadLocalKeyProvider({ env: {}, devKeyFile: file });
    const content = readFileSync(file, 'utf8');
    const second = loadLocalKeyProvider({ env: {}, devKeyFile: file });
    expect(first.currentKekVersion()).toBe('dev1');
    expect(second.currentKekVersion()).toBe('dev1');
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(statSync(file).mode & 0o077).toBe(0);
  });
});

describe('crypto errors in the catalog', () => {
  it.each<[string, Error, number, string]>([
    ['a value that does not decrypt', new DecryptionFailedError('acme', 'authentication failed'), 500, 'DECRYPTION_FAILED'],
    ['a shredded tenant', new TenantKeysDestroyedError('acme'), 410, 'TENANT_KEYS_DESTROYED'],
    ['a second re-encryption', new ReencryptionInProgressError('acme', 2, new Date(0)), 409, 'REENCRYPTION_IN_PROGRESS'],
  ])('answers %s with its own stable code', (_name, err, status, code) => {
    expect(toProblem(err)).toMatchObject({ status, code });
  });

  it('names neither the key nor the cipher state in a decryption failure', () => {
    const problem = toProblem(new DecryptionFailedError('acme', 'authentication failed'));
    expect(problem.detail).toBe("a value of tenant 'acme' could not be decrypted (authentication failed)");
  });
});
