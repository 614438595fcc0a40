import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The `prev_hash` of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain of fleet-wide actions (every other chain is named by its tenant id). */
export const GLOBAL_CHAIN = 'global';

/** Version of the hashed form; a change of the form gets a new number, old entries keep theirs. */
const HASH_FORM_VERSION = 1;

/** Well-known actions. `action` is free text; these names keep dashboards and queries consistent. */
export const AuditAction = {
  tenantCreate: 'tenant.create',
  tenantUpdate: 'tenant.update',
  tenantSuspend: 'tenant.suspend',
  tenantResume: 'tenant.resume',
  tenantDelete: 'tenant.delete',
  /** A backup archive of the tenant was written whole (after: its id, size, SHA-256, rows). */
  tenantBackup: 'tenant.backup',
  /** The tenant was restored from a backup archive (after: the archive, its source and its audit head). */
  tenantRestore: 'tenant.restore',
  /** SetTenantStatus: any change of a tenant's status (before/after name the statuses). */
  tenantStatus: 'tenant.status',
  keyIssue: 'key.issue',
  keyRevoke: 'key.revoke',
  quotaSet: 'quota.set',
  /** A plan's (chain 'global') or a tenant's query time limits changed (before/after: the stored limits). */
  queryTimeoutsSet: 'query-timeouts.set',
  /** Authentication failures, aggregated per (chain, reason) and interval by AuthFailureAuditor. */
  authFailure: 'auth.failure',
  dataKeyRotate: 'data-key.rotate',
  dataKeyReencrypt: 'data-key.reencrypt',
  dataKeysDestroy: 'data-keys.destroy',
  kekRewrap: 'kek.rewrap',
} as const;

/** What a caller records. `before`/`after` are JSON values (the state around the change). */
export interface AuditEntryInput {
  /** Tenant id, or 'global' for fleet-wide actions. */
  chain: string;
  /** Who acted: an operator, a service identity, or the credential that failed. */
  actor: string;
  action: string;
  target?: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
}

/** An audit entry as stored. Ids and sequence numbers are bigint, returned as decimal strings. */
export interface AuditRecord {
  id: string;
  chain: string;
  seq: string;
  at: Date;
  actor: string;
  action: string;
  target?: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
  prevHash: string;
  hash: string;
  /**
   * How `hash` was computed: 1, RFC 8785 JSON hashed by the application (entries written before
   * migration 1700000000620); 2, computed by the database's audit_append (see entryHashV2).
   * Absent means 1.
   */
  form?: 1 | 2;
}

/**
 * An entry as the verifier reads it: form 2 hashes PostgreSQL's own text of the stored jsonb
 * `before`/`after`, which the verifier reads back instead of re-deriving it from parsed values.
 */
export interface StoredAuditRecord extends AuditRecord {
  beforeText?: string | null;
  afterText?: string | null;
}

/** The fields an entry's hash covers (everything but the database id, which is not chosen by us). */
export interface HashedFields {
  chain: string;
  seq: string;
  at: Date;
  actor: string;
  action: string;
  target?: string | undefined;
  before?: unknown;
  after?: unknown;
  reason?: string | undefined;
  prevHash: string;
}

/**
 * Field names whose values never enter the audit trail: an entry is kept for years and read by
 * operators, so a secret in it would outlive its rotation. Matched case-insensitively at any depth.
 */
export const REDACTED_FIELDS: readonly string[] = [
  'secret',
  'password',
  'token',
  'apikey',
  'api_key',
  'privatekey',
  'private_key',
  'plaintext',
  'dek',
  'wrappedkey',
  'wrapped_key',
  'authorization',
];

const REDACTED = '[REDACTED]';

/**
 * The JSON value an entry stores for `before`/`after`: secrets redacted, and normalised through
 * JSON (Dates become strings, undefined members disappear) so the hashed value is exactly what
 * PostgreSQL's jsonb returns when the entry is read back for verification.
 */
export function auditJson(value: unknown): unknown {
  if (value === undefined) return null;
  const redact = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(redact);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, inner]) => [k, REDACTED_FIELDS.includes(k.toLowerCase()) ? REDACTED : redact(inner)]),
      );
    }
    return v;
  };
  const text = JSON.stringify(value);
  return text === undefined ? null : redact(JSON.parse(text) as unknown);
}

/**
 * The canonical form of an entry (RFC 8785 JSON Canonicalization Scheme): keys sorted, numbers and
 * strings in one spelling, so the same entry hashes the same in any process and after a jsonb
 * round trip. Absent optional fields are null, so "no reason" and "reason omitted" agree.
 */
export function canonicalEntry(fields: HashedFields): string {
  const text = canonicalize({
    v: HASH_FORM_VERSION,
    chain: fields.chain,
    seq: fields.seq,
    at: fields.at.toISOString(),
    actor: fields.actor,
    action: fields.action,
    target: fields.target ?? null,
    before: fields.before ?? null,
    after: fields.after ?? null,
    reason: fields.reason ?? null,
    prevHash: fields.prevHash,
  });
  if (text === undefined) throw new TypeError('audit entry has no canonical JSON form');
  return text;
}

/** SHA-256 (hex) of an entry's canonical form: the link the next entry of the chain stores. */
export function entryHash(fields: HashedFields): string {
  return createHash('sha256').update(canonicalEntry(fields), 'utf8').digest('hex');
}

function field(value: string | null | undefined): string {
  return value === null || value === undefined ? '\n~' : `\n${Buffer.byteLength(value, 'utf8')}:${value}`;
}

/**
 * Hash form 2, as the database's audit_entry_hash_v2 computes it (migration 1700000000620):
 * SHA-256 of 'fairway-audit-v2' followed by each field length-prefixed in UTF-8 bytes (or '~' for
 * NULL), so no escaping has to agree between SQL and JavaScript. `beforeText`/`afterText` are the
 * jsonb values' PostgreSQL text form, exactly as `before::text` returns them.
 */
export function entryHashV2(fields: Omit<HashedFields, 'before' | 'after'> & { beforeText: string | null; afterText: string | null }): string {
  const text =
    'fairway-audit-v2' +
    [
      fields.chain,
      fields.seq,
      fields.at.toISOString(),
      fields.actor,
      fields.action,
      fields.target,
      fields.beforeText,
      fields.afterText,
      fields.reason,
      fields.prevHash,
    ]
      .map(field)
      .join('');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The hash an entry should carry, in its own form. */
export function recomputeHash(entry: StoredAuditRecord): string {
  if (entry.form !== 2) return entryHash(entry);
  if (entry.beforeText === undefined || entry.afterText === undefined) {
    throw new TypeError('a form-2 audit entry is verified against the stored text of before/after (read before::text, after::text)');
  }
  return entryHashV2({ ...entry, beforeText: entry.beforeText, afterText: entry.afterText });
}

/** Why a chain does not verify, at one entry. */
export interface ChainBreak {
  chain: string;
  seq: string;
  id: string;
  reason: string;
}

/**
 * Checks consecutive entries of one chain against the previous link. Pure, so a verifier can stream
 * a chain in pages: `previous` is the last entry of the page before (undefined at the chain's start).
 * Returns the first break, or undefined.
 */
export function checkLink(entry: StoredAuditRecord, previous: Pick<AuditRecord, 'seq' | 'hash'> | undefined): ChainBreak | undefined {
  const at = (reason: string): ChainBreak => ({ chain: entry.chain, seq: entry.seq, id: entry.id, reason });
  const expectedSeq = previous ? BigInt(previous.seq) + 1n : 1n;
  if (BigInt(entry.seq) !== expectedSeq) {
    return at(`sequence gap: expected seq ${expectedSeq}, found ${entry.seq} (entries removed or reordered)`);
  }
  const expectedPrev = previous ? previous.hash : GENESIS_HASH;
  if (entry.prevHash !== expectedPrev) {
    return at('prev_hash does not match the hash of the previous entry (the previous entry was altered or replaced)');
  }
  if (recomputeHash(entry) !== entry.hash) {
    return at('content does not match its hash (the entry was altered)');
  }
  return undefined;
}
