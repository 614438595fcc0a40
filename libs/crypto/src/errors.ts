import { InternalError, NotFoundError } from '@fairway/errors';

/**
 * A value did not decrypt: wrong tenant, tampered bytes, unknown format, or a key version this
 * tenant no longer has. Deliberately one error for all of them, with no detail from the cipher,
 * so a caller cannot use the difference as an oracle.
 * (Carries the INTERNAL code until the catalog has DECRYPTION_FAILED.)
 */
export class DecryptionFailedError extends InternalError {
  constructor(readonly tenantId: string, why: string) {
    super(`a value of tenant '${tenantId}' could not be decrypted (${why})`);
  }
}

/**
 * The tenant's data keys were destroyed (crypto-shredded): nothing of it can be decrypted, and no
 * new key is made for it. (Carries the NOT_FOUND code until the catalog has TENANT_KEYS_DESTROYED.)
 */
export class TenantKeysDestroyedError extends NotFoundError {
  constructor(readonly tenantId: string) {
    super('tenant data key', tenantId);
    this.message = `the data keys of tenant '${tenantId}' were destroyed; its encrypted data is unreadable by design`;
  }
}
