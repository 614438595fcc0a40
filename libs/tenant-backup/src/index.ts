/**
 * Per-tenant backup and restore (issue #20). `writeTenantBackup` streams everything of one tenant,
 * from any isolation model, into one archive sealed for the operator's backup key;
 * `restoreTenantBackup` checks an archive whole (frames, checksums, manifest, audit chain) and
 * restores it into any isolation model, under its own id or a new one, or leaves nothing behind.
 * Both need the owner role and the KEK: they run in the control plane only.
 *
 *   await writeTenantBackup(deps, 'acme', response, { actor });
 *   await restoreTenantBackup(deps, request, { actor, as: 'acme-copy', model: 'schema' });
 */
export { writeTenantBackup, type TenantBackupDeps, type BackupActor, type BackupResult } from './backup';
export { restoreTenantBackup, type RestoreOptions, type RestoreResult } from './restore';
export { sealArchive, openArchive, readArchiveHeader, ARCHIVE_MAGIC, FRAME_BYTES, type ArchiveHeader } from './archive-stream';
export { BackupKeyring, loadBackupKeyring, DEV_BACKUP_KEY_FILE } from './backup-keys';
export { SECTIONS, AUDIT_SECTION, type ArchiveMeta, type SectionDigest, type SectionSpec } from './archive-content';
export { BackupInvalidError, TenantExistsError } from './errors';
