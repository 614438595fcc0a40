import type { Pool, PoolClient } from 'pg';
import { ValidationError } from '@fairway/errors';
import { GENESIS_HASH, auditJson, entryHash, type AuditEntryInput, type AuditRecord } from './audit-entry';
import { inTransaction } from '@fairway/db';

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
}

/** The columns every query of the trail selects, in AuditRow's shape. */
// Aliased to text (bigint does not fit a JS number): ORDER BY must name audit_log.<column>, or it sorts the text alias.
export const AUDIT_COLUMNS = 'id::text AS id, chain, seq::text AS seq, at, actor, action, target, before, after, reason, prev_hash, hash';

/** Maps a stored row to the public record (SQL NULL becomes an absent field). */
export function toAuditRecord(row: AuditRow): AuditRecord {
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

function isPool(db: AuditDb): db is Pool {
  // A PoolClient has no totalCount; checking the shape avoids depending on one pg module instance.
  return 'totalCount' in db;
}

/**
 * Appends an entry to its chain and returns it as stored. Writes to one chain are serialised by a
 * transaction-scoped advisory lock on the chain's name, so concurrent appends (from any number of
 * processes) each link to the entry before them; UNIQUE (chain, seq) is the backstop.
 *
 * Pass a Pool to append in a transaction of its own, or a PoolClient inside the caller's open
 * transaction so the audit entry commits or rolls back with the change it records (the lock is
 * then held until the caller commits: keep that transaction short).
 */
export async function appendAudit(db: AuditDb, entry: AuditEntryInput): Promise<AuditRecord> {
  validate(entry);
  if (!isPool(db)) return appendInTransaction(db, entry);
  return inTransaction(db, (client) => appendInTransaction(client, entry));
}

async function appendInTransaction(client: Pick<PoolClient, 'query'>, entry: AuditEntryInput): Promise<AuditRecord> {
  // hashtextextended gives a 64-bit key; the prefix keeps the audit's locks apart from other users
  // of advisory locks on the same database.
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('fairway.audit:' || $1, 0))`, [entry.chain]);
  const { rows } = await client.query<{ seq: string; hash: string; now: Date }>(
    `SELECT last.seq::text AS seq, last.hash, date_trunc('milliseconds', clock_timestamp()) AS now
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1) AS last ON true`,
    [entry.chain],
  );
  const head = rows[0];
  // The database clock, read under the lock and cut to milliseconds (what a JS Date holds), so the
  // timestamps of one chain never go backwards however skewed the writers' clocks are.
  const at = head!.now;
  const fields = {
    chain: entry.chain,
    seq: head?.seq ? (BigInt(head.seq) + 1n).toString() : '1',
    at,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    before: auditJson(entry.before),
    after: auditJson(entry.after),
    reason: entry.reason,
    prevHash: head?.hash ?? GENESIS_HASH,
  };
  const hash = entryHash(fields);
  const inserted = await client.query<AuditRow>(
    `INSERT INTO audit_log (chain, seq, at, actor, action, target, before, after, reason, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)
     RETURNING ${AUDIT_COLUMNS}`,
    [
      fields.chain,
      fields.seq,
      at,
      fields.actor,
      fields.action,
      fields.target ?? null,
      fields.before === null ? null : JSON.stringify(fields.before),
      fields.after === null ? null : JSON.stringify(fields.after),
      fields.reason ?? null,
      fields.prevHash,
      hash,
    ],
  );
  return toAuditRecord(inserted.rows[0]!);
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
