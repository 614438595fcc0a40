import type { TenantTx } from '@fairway/db';

/**
 * Locks the job's row for the rest of `tx` and returns its current attempt (the fencing token the
 * scheduler's claim increments), or undefined when there is no such job. FOR NO KEY UPDATE
 * conflicts with the scheduler's claim (an UPDATE of attempts), not with reads: a newer attempt
 * cannot be claimed until `tx` ends, so an effect written in `tx` belongs to the attempt returned.
 */
export async function lockCurrentAttempt(tx: TenantTx, jobId: string): Promise<number | undefined> {
  const { rows } = await tx.query<{ attempts: number }>('SELECT attempts FROM jobs WHERE id = $1 FOR NO KEY UPDATE', [jobId]);
  return rows[0]?.attempts;
}
