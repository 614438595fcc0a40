import { FairwayError } from '@fairway/errors';

/**
 * A backup archive that cannot be restored: not an archive, truncated, altered (a frame that does
 * not authenticate, a checksum or row count that differs from its manifest, an audit chain that
 * does not verify), or sealed with a backup key this control plane does not hold. Nothing of it
 * was kept: a restore checks everything before it commits.
 */
export class BackupInvalidError extends FairwayError {
  readonly code = 'BACKUP_INVALID';
  readonly retriable = false;
  constructor(why: string, options?: { cause?: unknown }) {
    super(`the backup archive was refused: ${why}`, options);
  }
}

/** A restore names a tenant id the catalog already has (in any status): restore under another id with `as`. */
export class TenantExistsError extends FairwayError {
  readonly code = 'TENANT_EXISTS';
  readonly retriable = false;
  constructor(readonly tenantId: string) {
    super(`tenant '${tenantId}' already exists; restore under a new id (tenantctl tenants restore <file> --as <new-id>)`);
  }
  override details(): Record<string, unknown> {
    return { tenant: this.tenantId };
  }
}
