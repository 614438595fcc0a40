/**
 * Per-tenant envelope encryption. Each tenant has its own data keys (AES-256-GCM), stored only
 * wrapped by a key-encryption key from a KeyProvider and named with that KEK's version, so KEKs
 * rotate by rewrapping keys, never data. Values are bound to their tenant (associated data), tenant
 * keys rotate with old versions kept for reading, and destroyTenantKeys crypto-shreds a tenant.
 *
 *   const cipher = await tenantCipher(pool, provider, tenantId);
 *   const stored = cipher.encrypt('secret'); cipher.decryptText(stored);
 */
export { type KeyProvider, type WrapContext, wrapContextAad } from './key-provider';
export {
  LocalKeyProvider,
  loadLocalKeyProvider,
  keyEncryptionKeyVariables,
  DEV_KEY_FILE,
  type LocalKeyFile,
  type LocalKeyProviderOptions,
} from './local-key-provider';
export { DataKey, DataKeyCache, DATA_KEY_BYTES, type DataKeyCacheOptions } from './data-key';
export { CIPHERTEXT_PREFIX, isCiphertext, parseCiphertext, formatCiphertext, valueAad, type CiphertextParts } from './ciphertext';
export { tenantCipher, makeCipher, type TenantCipher, type TenantCipherOptions } from './tenant-cipher';
export {
  rotateTenantKey,
  destroyTenantKeys,
  rewrapTenantKeys,
  readTenantKeys,
  defaultDataKeyCache,
  type TenantKeyRow,
  type KeyAdminContext,
  type RewrapProgress,
} from './tenant-keys';
export {
  startReencryption,
  runReencryption,
  readReencryption,
  type ReencryptionTarget,
  type ReencryptionBatch,
  type ReencryptionStatus,
  type ReencryptionTableProgress,
  type ReencryptionOptions,
  type StartReencryptionOptions,
  type RunReencryptionOptions,
  reencryptValue,
  reencryptSealedLines,
  keyVersionPrefix,
} from './reencryption';
export { DecryptionFailedError, TenantKeysDestroyedError, ReencryptionInProgressError } from './errors';
