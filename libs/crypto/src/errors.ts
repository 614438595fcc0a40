import { FairwayError } from '@fairway/errors';

/**
 * A value did not decrypt: wrong tenant, tampered bytes, unknown format, or a key version this
 * tenant no longer has. Deliberately one error for all of them, with no detail from the cipher,
 * so a caller cannot use the difference as an oracle. A 500-class error: the stored data is wrong,
 * not the request.
 */
export class DecryptionFailedError extends FairwayError {
  readonly code = 'DECRYPTION_FAILED';
  readonly retriable = false;
  constructor(
    readonly tenantId: string,
    why: string,
  ) {
    super(`a value of tenant '${tenantId}' could not be decrypted (${why})`);
  }
}

/**
 * The tenant's data keys were destroyed (crypto-shredded): nothing of it can be decrypted, and no
 * new key is made for it. Answered as 410 Gone; only the tenant itself or an operator reaches it.
 */
export class TenantKeysDestroyedError extends FairwayError {
  readonly code = 'TENANT_KEYS_DESTROYED';
  readonly retriable = false;
  constructor(readonly tenantId: string) {
    super(`the data keys of tenant '${tenantId}' were destroyed; its encrypted data is unreadable by design`);
  }
}

/**
 * A tenant's data is already being re-encrypted (after a rotation, or a resumed run): one run per
 * tenant at a time, whichever edge replica started it.
 */
export class ReencryptionInProgressError extends FairwayError {
  readonly code = 'REENCRYPTION_IN_PROGRESS';
  readonly retriable = true;
  constructor(
    readonly tenantId: string,
    readonly toKeyVersion: number,
    readonly startedAt: Date,
  ) {
    super(
      `a re-encryption of tenant '${tenantId}' to key version ${toKeyVersion} is still running (started ${startedAt.toISOString()}); ` +
        `follow GET /admin/v1/tenants/${tenantId}/keys/reencryption and retry once it is done`,
    );
  }
  override details(): Record<string, unknown> {
    return { toKeyVersion: this.toKeyVersion, startedAt: this.startedAt.toISOString() };
  }
}
