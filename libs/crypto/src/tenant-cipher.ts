import { inspect } from 'node:util';
import type { Pool } from 'pg';
import { openValue, parseCiphertext, sealValue } from './ciphertext';
import type { DataKey, DataKeyCache } from './data-key';
import { DecryptionFailedError, TenantKeysDestroyedError } from './errors';
import type { KeyProvider } from './key-provider';
import { addTenantKey, defaultDataKeyCache, inTenantTransaction, readTenantKeys, unwrapTenantKey } from './tenant-keys';

/**
 * Encrypts and decrypts one tenant's values. New values use the tenant's newest data key; values
 * written under older versions still decrypt. Synchronous once made: every live key is unwrapped
 * when the cipher is created, so a request makes one cipher and uses it freely.
 */
export interface TenantCipher {
  readonly tenantId: string;
  /** The data key version `encrypt` uses. */
  readonly keyVersion: number;
  /** "fw1:<keyVersion>:<iv>:<tag>:<ciphertext>", AES-256-GCM with the tenant bound as associated data. */
  encrypt(plaintext: string | Buffer): string;
  /** The plaintext bytes; DecryptionFailedError for another tenant's value, a tampered one, or garbage. */
  decrypt(value: string): Buffer;
  /** decrypt() as UTF-8 text. */
  decryptText(value: string): string;
  /** True when `value` was written under an older key version than the current one. */
  needsReencryption(value: string): boolean;
}

/** Options of tenantCipher. */
export interface TenantCipherOptions {
  /** The cache of unwrapped keys (the process-wide one by default). */
  cache?: DataKeyCache;
  /** Make the tenant's first data key when it has none (true by default). */
  createIfMissing?: boolean;
}

/**
 * The cipher of `tenantId`: reads its wrapped data keys (under row-level security when `pool` is the
 * application role), unwraps them through `provider` and the cache, and creates the first key on
 * the tenant's first use. Throws TenantKeysDestroyedError for a shredded tenant.
 *
 * ```ts
 * const cipher = await tenantCipher(pool, provider, tenantId);
 * const stored = cipher.encrypt(record.ssn);
 * const ssn = cipher.decryptText(stored);
 * ```
 */
export async function tenantCipher(pool: Pool, provider: KeyProvider, tenantId: string, options: TenantCipherOptions = {}): Promise<TenantCipher> {
  const cache = options.cache ?? defaultDataKeyCache;
  const keys = await inTenantTransaction(pool, tenantId, async (client) => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const rows = await readTenantKeys(client, tenantId);
      if (rows.some((r) => r.destroyedAt)) throw new TenantKeysDestroyedError(tenantId);
      if (rows.length > 0) return Promise.all(rows.map((row) => unwrapTenantKey(provider, tenantId, row, cache)));
      if (options.createIfMissing === false) return [];
      const created = await addTenantKey(client, provider, tenantId, 1);
      if (created) return [created];
      // Another process made key 1 between our read and our write: read again and use theirs.
    }
    throw new Error(`tenant '${tenantId}' data key creation kept conflicting; retry`);
  });
  return makeCipher(tenantId, keys);
}

/** A cipher over already unwrapped keys (the newest encrypts). Exported for tests and tools. */
export function makeCipher(tenantId: string, keys: readonly DataKey[]): TenantCipher {
  const byVersion = new Map(keys.map((k) => [k.version, k]));
  const current = keys.reduce<DataKey | undefined>((a, k) => (!a || k.version > a.version ? k : a), undefined);
  const decrypt = (value: string): Buffer => {
    const parts = parseCiphertext(value);
    if (!parts) throw new DecryptionFailedError(tenantId, 'not a Fairway ciphertext');
    const key = byVersion.get(parts.keyVersion);
    if (!key) throw new DecryptionFailedError(tenantId, `no data key version ${parts.keyVersion}`);
    try {
      return openValue(key, parts);
    } catch {
      // The GCM tag failed: tampered, truncated, or bound to another tenant. Not told apart.
      throw new DecryptionFailedError(tenantId, 'authentication failed');
    }
  };
  const cipher: TenantCipher = {
    tenantId,
    keyVersion: current?.version ?? 0,
    encrypt(plaintext) {
      if (!current) throw new TenantKeysDestroyedError(tenantId);
      return sealValue(current, plaintext);
    },
    decrypt,
    decryptText: (value) => decrypt(value).toString('utf8'),
    needsReencryption(value) {
      const parts = parseCiphertext(value);
      return parts !== undefined && current !== undefined && parts.keyVersion !== current.version;
    },
  };
  const describe = (): string => `TenantCipher { tenantId: '${tenantId}', keyVersion: ${cipher.keyVersion} }`;
  Object.defineProperties(cipher, {
    toJSON: { value: describe, enumerable: false },
    [inspect.custom]: { value: describe, enumerable: false },
  });
  return cipher;
}
