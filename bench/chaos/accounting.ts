/** Per-fault accounting of the chaos suite: what the clients saw, and what became of it. */
import type { Answer, Command } from './steady-load';

/** The time span of one fault: a steady baseline, the fault and its undo, and a steady tail. */
export interface FaultWindow {
  fault: string;
  startedAt: number;
  injectedAt: number;
  undoneAt: number;
  endedAt: number;
}

/** The final state of one job, and how many effect rows it has. */
export interface JobOutcome {
  state: string;
  effects: number;
  attempts: number;
  lastError: string | null;
}

/** A job acknowledged (202) that did not end `succeeded`: where it stands, for the report. */
export interface LostJob {
  jobId: string;
  /** Its state in the jobs table, or null when it never reached the table (lost before the ingest). */
  state: string | null;
  attempts: number | null;
  lastError: string | null;
}

/** The lost jobs a report names at most (their count is always whole). */
const LOST_JOBS_LISTED = 20;

/** What one fault did to the clients. */
export interface FaultResult {
  acknowledged: number;
  lost: number;
  /** The first of the lost jobs, each with its state: says where a job stopped (never ingested, queued, running). */
  lostJobs: LostJob[];
  duplicatedEffects: number;
  answers: Record<string, number>;
  non503ServerErrors: number;
  transportErrors: number;
  unavailabilityMs: number;
  unavailableFrom: string | null;
  /** From the fault's undo (the restarted process ready) to the first 202 after it; 0 when 202s never stopped. */
  firstAckAfterUndoMs: number;
}

/** The longest span inside [from, to) without a 202, counting from `from` to the first 202 and from the last to `to`. */
export function longestGapMs(acks: readonly number[], from: number, to: number): { ms: number; since: number } {
  let previous = from;
  let best = { ms: 0, since: from };
  for (const at of [...acks].sort((a, b) => a - b)) {
    if (at < from || at >= to) continue;
    if (at - previous > best.ms) best = { ms: at - previous, since: previous };
    previous = at;
  }
  if (to - previous > best.ms) best = { ms: to - previous, since: previous };
  return best;
}

/**
 * The result of one window: commands acknowledged in it, those lost (202 but not succeeded), effects
 * beyond one per job, every answer by status, and the longest time without a 202.
 */
export function accountWindow(window: FaultWindow, commands: readonly Command[], answers: readonly Answer[], outcomes: Map<string, JobOutcome>): FaultResult {
  const inWindow = (at: number | undefined) => at !== undefined && at >= window.startedAt && at < window.endedAt;
  const acked = commands.filter((c) => inWindow(c.ackedAt) && c.jobId !== undefined);
  const seen = answers.filter((a) => inWindow(a.at));
  const byStatus: Record<string, number> = {};
  for (const a of seen) byStatus[a.status === 0 ? 'transport' : String(a.status)] = (byStatus[a.status === 0 ? 'transport' : String(a.status)] ?? 0) + 1;
  const gap = longestGapMs(
    seen.filter((a) => a.status === 202).map((a) => a.at),
    window.startedAt,
    window.endedAt,
  );
  const lost = acked.filter((c) => outcomes.get(c.jobId!)?.state !== 'succeeded');
  return {
    acknowledged: acked.length,
    lost: lost.length,
    lostJobs: lost.slice(0, LOST_JOBS_LISTED).map((c) => {
      const outcome = outcomes.get(c.jobId!);
      return { jobId: c.jobId!, state: outcome?.state ?? null, attempts: outcome?.attempts ?? null, lastError: outcome?.lastError ?? null };
    }),
    duplicatedEffects: acked.reduce((sum, c) => sum + Math.max(0, (outcomes.get(c.jobId!)?.effects ?? 0) - 1), 0),
    answers: byStatus,
    non503ServerErrors: seen.filter((a) => a.status >= 500 && a.status !== 503).length,
    transportErrors: seen.filter((a) => a.status === 0).length,
    unavailabilityMs: gap.ms,
    unavailableFrom: gap.ms > 0 ? new Date(gap.since).toISOString() : null,
    firstAckAfterUndoMs: Math.max(0, (seen.find((a) => a.status === 202 && a.at >= window.undoneAt)?.at ?? window.endedAt) - window.undoneAt),
  };
}
