import { checkLink, type ChainBreak, type StoredAuditRecord } from './audit-entry';
import { AUDIT_COLUMNS, toStoredAuditRecord, type AuditDb, type AuditRow } from './audit-log';
import type { CheckpointedHead } from './checkpoints';

/** The outcome of verifying the audit chains. */
export interface AuditVerifyResult {
  ok: boolean;
  /** Chains examined. */
  chains: number;
  /** Entries examined (up to and including the first break). */
  entries: number;
  /** The first entry at which a chain stops verifying, in chain order. */
  firstBroken?: ChainBreak;
  /** With `checkpoints`: how many chains were held to a signed checkpoint. */
  checkpointed?: number;
}

/** Options of verifyAuditChains. */
export interface AuditVerifyOptions {
  /** Verify only this tenant's chain ('global' for the fleet-wide chain). */
  tenant?: string;
  /** Entries read per query; the whole trail is streamed, never loaded at once. */
  pageSize?: number;
  /**
   * The latest signed head of each chain, from the operator's checkpoint file (readAuditCheckpoints).
   * Every chain named here must still exist, reach at least the checkpointed seq, and hold the
   * checkpointed hash at that seq: a chain deleted or cut back by the database owner, which leaves
   * every remaining link (and audit_chain_heads, which the owner may also rewrite) consistent, no
   * longer verifies.
   */
  checkpoints?: Readonly<Record<string, CheckpointedHead>>;
}

/**
 * Recomputes every link of every chain (or one tenant's) and reports the first entry that does not
 * verify: an altered entry, a removed or reordered one, or a chain whose tail was cut (the
 * database-maintained head names a later entry than the chain holds). Read-only; runs as the
 * application role. With `checkpoints`, also detects chains deleted or truncated by the owner.
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
  const heads = new Map(chainRows.rows.map((r) => [r.chain, r] as const));
  const checkpoints = new Map(Object.entries(options.checkpoints ?? {}).filter(([chain]) => options.tenant === undefined || chain === options.tenant));
  // Every chain the database knows, and every chain a checkpoint says existed; ordered by name.
  const chains = [...new Set([...heads.keys(), ...checkpoints.keys()])].sort();
  let entries = 0;
  const outcome = (firstBroken?: ChainBreak): AuditVerifyResult => ({
    ok: firstBroken === undefined,
    chains: chains.length,
    entries,
    ...(firstBroken ? { firstBroken } : {}),
    ...(options.checkpoints ? { checkpointed: checkpoints.size } : {}),
  });
  for (const chain of chains) {
    const head = heads.get(chain);
    const checkpoint = checkpoints.get(chain);
    let previous: StoredAuditRecord | undefined;
    for (;;) {
      const page = await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE chain = $1 AND seq > $2::bigint ORDER BY audit_log.seq LIMIT $3`, [
        chain,
        previous?.seq ?? '0',
        pageSize,
      ]);
      for (const row of page.rows) {
        const entry = toStoredAuditRecord(row);
        entries += 1;
        const broken = checkLink(entry, previous) ?? checkpointMismatch(entry, checkpoint);
        if (broken) return outcome(broken);
        previous = entry;
      }
      if (page.rows.length < pageSize) break;
    }
    const tail = tailBreak(chain, previous, head?.head_seq ?? null, head?.head_hash ?? null) ?? checkpointTail(chain, previous, checkpoint);
    if (tail) return outcome(tail);
  }
  return outcome();
}

function checkpointMismatch(entry: StoredAuditRecord, checkpoint: CheckpointedHead | undefined): ChainBreak | undefined {
  if (!checkpoint || entry.seq !== checkpoint.seq || entry.hash === checkpoint.hash) return undefined;
  return {
    chain: entry.chain,
    seq: entry.seq,
    id: entry.id,
    reason: `the entry differs from the signed checkpoint of ${checkpoint.at} (the chain was rewritten from here or earlier)`,
  };
}

function checkpointTail(chain: string, last: StoredAuditRecord | undefined, checkpoint: CheckpointedHead | undefined): ChainBreak | undefined {
  if (!checkpoint) return undefined;
  if (!last) {
    return {
      chain,
      seq: checkpoint.seq,
      id: '',
      reason: `the chain is missing: the signed checkpoint of ${checkpoint.at} recorded it at seq ${checkpoint.seq}`,
    };
  }
  if (BigInt(last.seq) < BigInt(checkpoint.seq)) {
    return {
      chain,
      seq: last.seq,
      id: last.id,
      reason: `entries after seq ${last.seq} were removed: the signed checkpoint of ${checkpoint.at} recorded the chain at seq ${checkpoint.seq}`,
    };
  }
  return undefined;
}

function tailBreak(chain: string, last: StoredAuditRecord | undefined, headSeq: string | null, headHash: string | null): ChainBreak | undefined {
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
  checkpointed?: number | undefined;
}): string {
  const scope = `${result.chains} chain${result.chains === 1 ? '' : 's'}, ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'}`;
  if (result.ok) {
    const held =
      result.checkpointed === undefined ? '' : `, ${result.checkpointed} chain${result.checkpointed === 1 ? '' : 's'} at or past its signed checkpoint`;
    return `audit trail verified: ${scope}, every link intact${held}`;
  }
  const b = result.firstBroken;
  if (!b) return `audit trail does NOT verify (${scope} examined)`;
  return `audit trail does NOT verify: chain '${b.chain}' breaks at seq ${b.seq}${b.id ? ` (entry id ${b.id})` : ''}: ${b.reason} [${scope} examined]`;
}
