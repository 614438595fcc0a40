/**
 * What a wrapped key is bound to besides the KEK: the tenant and the data key's version. A
 * provider must authenticate it (AES-GCM associated data, AWS KMS EncryptionContext, GCP/Azure
 * additional authenticated data), so a wrapped key copied to another tenant's row does not unwrap.
 */
export interface WrapContext {
  tenantId: string;
  keyVersion: number;
}

/**
 * A source of key-encryption keys (KEKs). Data keys are only ever stored wrapped by a KEK; the KEK
 * itself never leaves the provider (a file or environment variable for LocalKeyProvider, the KMS
 * for a cloud provider). Every wrapped key is stored with the KEK version that wrapped it, so a new
 * KEK version can be introduced and old wrapped keys rewrapped without touching any ciphertext.
 *
 * A cloud KMS provider implements the same three methods: `wrap` calls the KMS Encrypt (or
 * GenerateDataKey) operation with the key id of `kekVersion` and `context` as the encryption
 * context; `unwrap` calls Decrypt with the same context; `currentKekVersion` names the key (or key
 * version) new wraps use. See docs/security.md.
 */
export interface KeyProvider {
  /** The KEK version new data keys are wrapped with. */
  currentKekVersion(): string;
  /** Wraps `dek` with `kekVersion` (the current one when absent), bound to `context`. */
  wrap(dek: Buffer, kekVersion: string | undefined, context: WrapContext): Promise<Buffer>;
  /** Unwraps a key wrapped by `kekVersion`; rejects when the KEK, the bytes or the context differ. */
  unwrap(wrapped: Buffer, kekVersion: string, context: WrapContext): Promise<Buffer>;
}

/** The associated data every provider binds a wrapped key to (stable text, part of the format). */
export function wrapContextAad(context: WrapContext): Buffer {
  return Buffer.from(`fairway.dek.v1|${context.tenantId}|${context.keyVersion}`, 'utf8');
}
