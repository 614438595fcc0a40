/**
 * The audit trail: a tamper-evident, append-only record of admin actions (tenants, keys, quotas),
 * authentication failures, suspensions and deletions. One SHA-256 hash chain per tenant, plus
 * 'global' for fleet-wide actions, over the RFC 8785 canonical JSON form of each entry.
 * The database refuses UPDATE and DELETE to every role but the owner (see migration
 * 1700000000400_audit-log.sql); what the owner changes, verifyAuditChains exposes.
 */
export {
  AuditAction,
  GENESIS_HASH,
  GLOBAL_CHAIN,
  REDACTED_FIELDS,
  auditJson,
  canonicalEntry,
  entryHash,
  checkLink,
  type AuditEntryInput,
  type AuditRecord,
  type ChainBreak,
  type HashedFields,
} from './audit-entry';
export { appendAudit, listAudit, MAX_AUDIT_PAGE, type AuditDb, type AuditFilter } from './audit-log';
export { verifyAuditChains, formatVerifyResult, type AuditVerifyOptions, type AuditVerifyResult } from './verify';
