import type { Pool, PoolClient } from 'pg';
import { ValidationError } from '@fairway/errors';
import { auditJson, type AuditEntryInput, type AuditRecord, type StoredAuditRecord } from './audit-entry';

/**
 * Something that runs queries: a pool, or a client already inside the caller's transaction (a
 * PoolClient, or the `tx` of withTenantId).
 */
export type AuditDb = Pool | Pick<PoolClient, 'query'>;

/** A stored row, as pg returns it (bigint as string). */
export interface AuditRow {
  id: string;
  chain: string;
  seq: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  prev_hash: string;
  hash: string;
  form: number;
  before_text: string | null;
  after_text: string | null;
}

/** The columns every query of the trail selects, in AuditRow's shape. */
// Aliased to text (bigint does not fit a JS number): ORDER BY must name audit_log.<column>, or it sorts the text alias.
// before_text/after_text: PostgreSQL's text of the stored jsonb, which hash form 2 covers.
export const AUDIT_COLUMNS =
  'audit_log.id::text AS id, chain, seq::text AS seq, at, actor, action, target, before, after, reason, prev_hash, hash, form, before::text AS before_text, after::text AS after_text';

/** Maps a stored row to the public record (SQL NULL becomes an absent field). */
export function toAuditRecord(row: AuditRow): AuditRecord {
  const { beforeText: _b, afterText: _a, ...record } = toStoredAuditRecord(row);
  return record;
}

/** A stored row with what the verifier needs to recompute its hash. */
export function toStoredAuditRecord(row: AuditRow): StoredAuditRecord {
  return {
    id: row.id,
    chain: row.chain,
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    ...(row.target === null ? {} : { target: row.target }),
    ...(row.before === null ? {} : { before: row.before }),
    ...(row.after === null ? {} : { after: row.after }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    prevHash: row.prev_hash,
    hash: row.hash,
    form: row.form === 2 ? 2 : 1,
    beforeText: row.before_text,
    afterText: row.after_text,
  };
}

const CHAIN_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

function validate(entry: AuditEntryInput): void {
  const issues: Array<{ path: string; message: string }> = [];
  if (!CHAIN_PATTERN.test(entry.chain)) issues.push({ path: 'chain', message: `must be a tenant id or 'global' (got '${entry.chain}')` });
  if (!entry.actor || entry.actor.length > 200) issues.push({ path: 'actor', message: 'must be 1 to 200 characters' });
  if (!entry.action || entry.action.length > 100) issues.push({ path: 'action', message: 'must be 1 to 100 characters' });
  if (issues.length > 0) throw new ValidationError(`audit entry is not valid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
}

/**
 * Appends an entry to its chain and returns it as stored. The database's audit_append (a SECURITY
 * DEFINER function, migration 1700000000620) assigns seq, prev_hash, `at` and the hash under a
 * transaction-scoped advisory lock on the chain, so concurrent appends from any number of processes
 * each link to the entry before them, and no caller can choose a link: the application role has
 * no INSERT on audit_log at all.
 *
 * Pass the PoolClient (or withTenantId's `tx`) of the caller's open transaction so the entry commits
 * or rolls back with the change it records (the chain's lock is then held until the caller commits:
 * keep that transaction short). A Pool appends in a statement of its own. Errors are thrown, never
 * swallowed: an action whose audit entry cannot be written must not commit.
 */
export async function appendAudit(db: AuditDb, entry: AuditEntryInput): Promise<AuditRecord> {
  validate(entry);
  const before = auditJson(entry.before);
  const after = auditJson(entry.after);
  const { rows } = await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_append($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7) AS audit_log`, [
    entry.chain,
    entry.actor,
    entry.action,
    entry.target ?? null,
    before === null ? null : JSON.stringify(before),
    after === null ? null : JSON.stringify(after),
    entry.reason ?? null,
  ]);
  return toAuditRecord(rows[0]!);
}

/** Which entries listAudit returns. `after` is the cursor: the id of the last entry already seen. */
export interface AuditFilter {
  tenant?: string;
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
  /** 1 to 1000; 100 when absent. */
  limit?: number;
  after?: bigint | string;
}

/** The largest page listAudit returns. */
export const MAX_AUDIT_PAGE = 1000;

/**
 * Entries matching `filter`, oldest first, at most `limit`. Page with the `id` of the last entry as
 * the next call's `after`. `from` is inclusive, `to` exclusive.
 */
export async function listAudit(db: AuditDb, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_AUDIT_PAGE} (got ${limit})`, [{ path: 'limit', message: 'out of range' }]);
  }
  let after: string | undefined;
  if (filter.after !== undefined) {
    after = String(filter.after);
    if (!/^\d{1,19}$/.test(after)) throw new ValidationError(`after must be an entry id (got '${after}')`, [{ path: 'after', message: 'not an id' }]);
  }
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.tenant !== undefined) add('chain = ?', filter.tenant);
  if (filter.actor !== undefined) add('actor = ?', filter.actor);
  if (filter.action !== undefined) add('action = ?', filter.action);
  if (filter.from !== undefined) add('at >= ?', filter.from);
  if (filter.to !== undefined) add('at < ?', filter.to);
  if (after !== undefined) add('id > ?::bigint', after);
  params.push(limit);
  const { rows } = await db.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_log.id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toAuditRecord);
}
