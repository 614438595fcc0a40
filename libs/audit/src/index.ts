/**
 * The audit trail: a tamper-evident, append-only record of admin actions (tenants, keys, quotas),
 * authentication failures, suspensions and deletions. One SHA-256 hash chain per tenant, plus
 * 'global' for fleet-wide actions.
 *
 * Entries are appended only through the database's audit_append (SECURITY DEFINER, migration
 * 1700000000620), which assigns every link and computes the hash; no application role may INSERT.
 * The database refuses UPDATE and DELETE to every role but the owner; what the owner changes in
 * place, verifyAuditChains exposes, and what it deletes, signed checkpoints kept outside the
 * database expose (AuditCheckpointer, readAuditCheckpoints).
 */
export {
  AuditAction,
  GENESIS_HASH,
  GLOBAL_CHAIN,
  REDACTED_FIELDS,
  auditJson,
  canonicalEntry,
  entryHash,
  entryHashV2,
  recomputeHash,
  checkLink,
  type AuditEntryInput,
  type AuditRecord,
  type StoredAuditRecord,
  type ChainBreak,
  type HashedFields,
} from './audit-entry';
export { appendAudit, listAudit, MAX_AUDIT_PAGE, type AuditDb, type AuditFilter } from './audit-log';
export { verifyAuditChains, formatVerifyResult, type AuditVerifyOptions, type AuditVerifyResult } from './verify';
export {
  AuditCheckpointer,
  writeAuditCheckpoint,
  readAuditCheckpoints,
  readChainHeads,
  signCheckpoint,
  checkpointKeyId,
  parseCheckpointPrivateKey,
  parseCheckpointPublicKey,
  type AuditCheckpoint,
  type AuditCheckpointerOptions,
  type ChainHead,
  type CheckpointedHead,
  type CheckpointFileResult,
  type CheckpointTarget,
} from './checkpoints';
export { AuthFailureAuditor, type AuthFailure, type AuthFailureAuditorOptions } from './auth-failure-auditor';
