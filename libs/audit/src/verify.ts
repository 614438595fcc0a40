import { checkLink, type AuditRecord, type ChainBreak } from './audit-entry';
import { AUDIT_COLUMNS, toAuditRecord, type AuditDb, type AuditRow } from './audit-log';

/** The outcome of verifying the audit chains. */
export interface AuditVerifyResult {
  ok: boolean;
  /** Chains examined. */
  chains: number;
  /** Entries examined (up to and including the first break). */
  entries: number;
  /** The first entry at which a chain stops verifying, in chain order. */
  firstBroken?: ChainBreak;
}

/** Options of verifyAuditChains. */
export interface AuditVerifyOptions {
  /** Verify only this tenant's chain ('global' for the fleet-wide chain). */
  tenant?: string;
  /** Entries read per query; the whole trail is streamed, never loaded at once. */
  pageSize?: number;
}

/**
 * Recomputes every link of every chain (or one tenant's) and reports the first entry that does not
 * verify: an altered entry, a removed or reordered one, or a chain whose tail was cut (the
 * database-maintained head names a later entry than the chain holds). Read-only; runs as the
 * application role.
 */
export async function verifyAuditChains(db: AuditDb, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const pageSize = options.pageSize ?? 1000;
  const chainParams = options.tenant === undefined ? [] : [options.tenant];
  const chainRows = await db.query<{ chain: string; head_seq: string | null; head_hash: string | null }>(
    `SELECT c.chain, h.seq::text AS head_seq, h.hash AS head_hash
       FROM (SELECT chain FROM audit_log ${options.tenant === undefined ? '' : 'WHERE chain = $1'}
             UNION SELECT chain FROM audit_chain_heads ${options.tenant === undefined ? '' : 'WHERE chain = $1'}) AS c
       LEFT JOIN audit_chain_heads h ON h.chain = c.chain
      ORDER BY c.chain`,
    chainParams,
  );
  let entries = 0;
  for (const { chain, head_seq: headSeq, head_hash: headHash } of chainRows.rows) {
    let previous: AuditRecord | undefined;
    for (;;) {
      const page = await db.query<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE chain = $1 AND seq > $2::bigint ORDER BY audit_log.seq LIMIT $3`,
        [chain, previous?.seq ?? '0', pageSize],
      );
      for (const row of page.rows) {
        const entry = toAuditRecord(row);
        entries += 1;
        const broken = checkLink(entry, previous);
        if (broken) return { ok: false, chains: chainRows.rows.length, entries, firstBroken: broken };
        previous = entry;
      }
      if (page.rows.length < pageSize) break;
    }
    const tail = tailBreak(chain, previous, headSeq, headHash);
    if (tail) return { ok: false, chains: chainRows.rows.length, entries, firstBroken: tail };
  }
  return { ok: true, chains: chainRows.rows.length, entries };
}

function tailBreak(chain: string, last: AuditRecord | undefined, headSeq: string | null, headHash: string | null): ChainBreak | undefined {
  if (headSeq === null) {
    return last ? { chain, seq: last.seq, id: last.id, reason: 'the chain has no head record (audit_chain_heads was altered)' } : undefined;
  }
  if (!last) return { chain, seq: headSeq, id: '', reason: `every entry up to seq ${headSeq} was removed` };
  if (BigInt(last.seq) < BigInt(headSeq)) {
    return { chain, seq: last.seq, id: last.id, reason: `entries after seq ${last.seq} were removed (the head is seq ${headSeq})` };
  }
  if (last.seq === headSeq && last.hash !== headHash) {
    return { chain, seq: last.seq, id: last.id, reason: 'the last entry does not match the recorded chain head' };
  }
  return undefined;
}

/**
 * One human-readable line for `tenantctl audit verify` (and logs): what was checked, and where the
 * first break is. Takes the result as verifyAuditChains returns it or as JSON carried it.
 */
export function formatVerifyResult(result: {
  ok: boolean;
  chains: number;
  entries: number;
  firstBroken?: { chain: string; seq: string | number; id: string; reason: string } | undefined;
}): string {
  const scope = `${result.chains} chain${result.chains === 1 ? '' : 's'}, ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'}`;
  if (result.ok) return `audit trail verified: ${scope}, every link intact`;
  const b = result.firstBroken;
  if (!b) return `audit trail does NOT verify (${scope} examined)`;
  return `audit trail does NOT verify: chain '${b.chain}' breaks at seq ${b.seq}${b.id ? ` (entry id ${b.id})` : ''}: ${b.reason} [${scope} examined]`;
}
