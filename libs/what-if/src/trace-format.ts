import { z } from 'zod';
import { ValidationError } from '@fairway/errors';
import { quotaLimitsSchema, type QuotaLimits } from '@fairway/quota';
import type { RecordedJobRow } from '@fairway/job-store';

/** The format a recorded trace names in its last line; a reader refuses another. */
export const TRACE_FORMAT = 'fairway-trace/1';

/**
 * One job line of a recorded trace (JSON lines, one job each, in arrival order). `t`, `cost` and
 * `wait` are ms: arrival after the window's start, the time it held its slot, and the time from
 * arrival to its (last) start. The simulator's own trace format (`id`, `t`, `tenant`, `class`,
 * `cost`, `priority`) is a subset, so `npm run simulate` reads these lines as they are.
 */
export interface RecordedTraceJob {
  readonly id: string;
  readonly t: number;
  readonly tenant: string;
  readonly class: string;
  readonly cost: number;
  readonly priority: number;
  readonly wait: number;
  readonly attempts: number;
  readonly state: string;
}

/**
 * The last line of a recorded trace: what the window was, how many job lines precede it (a cut
 * trace has no such line, or a count that does not match, and readers refuse it), and what the
 * jobs ran under: the scheduler's tiers as its answering replica saw them when the trace was
 * written, and each tenant's quota.
 */
export interface TraceEnd {
  readonly kind: 'end';
  readonly format: typeof TRACE_FORMAT;
  readonly from: string;
  readonly to: string;
  readonly jobs: number;
  /** Jobs that arrived in the window but had not finished when it was read: not in the trace. */
  readonly unfinished: number;
  /** Tier name -> slots (and the tiers it lends idle slots to, when known). */
  readonly tiers: Readonly<Record<string, { readonly slots: number; readonly lendTo?: readonly string[] }>>;
  /** Quota of every tenant of the trace, as @fairway/quota spells it. */
  readonly quotas: Readonly<Record<string, QuotaLimits>>;
}

/** A whole recorded trace: its jobs and its end line. */
export interface RecordedTrace {
  readonly jobs: readonly RecordedTraceJob[];
  readonly end: TraceEnd;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The trace line of one row of job-store's {@link RecordedJobRow} (no newline). */
export function traceJobLine(row: RecordedJobRow): string {
  const job: RecordedTraceJob = {
    id: row.id,
    t: round(row.arrivalMs),
    tenant: row.tenantId,
    class: row.jobClass,
    cost: round(row.costMs),
    priority: row.priority,
    wait: round(row.waitMs),
    attempts: row.attempts,
    state: row.state,
  };
  return JSON.stringify(job);
}

/** The end line of a trace (no newline). */
export function traceEndLine(end: Omit<TraceEnd, 'kind' | 'format'>): string {
  return JSON.stringify({ kind: 'end', format: TRACE_FORMAT, ...end });
}

const ms = z.number().finite().min(0);
const jobLineSchema = z.object({
  id: z.string().min(1),
  t: ms,
  tenant: z.string().min(1),
  class: z.string().min(1),
  cost: ms,
  priority: z.number().int().default(0),
  wait: ms,
  attempts: z.number().int().min(0).default(1),
  state: z.string().default('succeeded'),
});
const endLineSchema = z.object({
  kind: z.literal('end'),
  format: z.literal(TRACE_FORMAT),
  from: z.string(),
  to: z.string(),
  jobs: z.number().int().min(0),
  unfinished: z.number().int().min(0).default(0),
  tiers: z.record(z.object({ slots: z.number().int().min(1), lendTo: z.array(z.string()).optional() }).strict()),
  quotas: z.record(quotaLimitsSchema),
});

/**
 * Reads a recorded trace line by line (a file or a request body, through any line splitter), so
 * a caller streams it in. Refuses, naming the line: a line that is not JSON or not a job, a job
 * after the end line, and a trace without its end line or whose end line counts other jobs than
 * it holds (a trace cut on a pipe).
 *
 * @param maxJobs refuse a trace of more jobs than this (the simulation holds every job in memory).
 * @throws ValidationError
 */
export async function readRecordedTrace(lines: AsyncIterable<string> | Iterable<string>, source = 'trace', maxJobs = Infinity): Promise<RecordedTrace> {
  const jobs: RecordedTraceJob[] = [];
  let end: TraceEnd | undefined;
  let number = 0;
  const bad = (why: string) => new ValidationError(`${source}:${number}: ${why}`, [{ path: `${source}:${number}`, message: why }]);
  for await (const raw of lines) {
    number += 1;
    const line = raw.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw bad(`not JSON (${(error as Error).message})`);
    }
    if (end !== undefined) throw bad('a line after the end line');
    const isEnd = typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'end';
    const parsed = (isEnd ? endLineSchema : jobLineSchema).safeParse(value);
    if (!parsed.success)
      throw bad(`not a ${isEnd ? 'trace end' : 'job'} line: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'} ${i.message}`).join('; ')}`);
    if (isEnd) end = parsed.data as TraceEnd;
    else {
      if (jobs.length >= maxJobs) throw bad(`more than ${maxJobs} jobs: simulate a shorter window`);
      jobs.push(parsed.data as RecordedTraceJob);
    }
  }
  if (end === undefined) {
    throw new ValidationError(`${source}: no end line after ${jobs.length} job(s): the trace is cut (or not one tenantctl trace export wrote)`, [
      { path: source, message: 'no end line' },
    ]);
  }
  if (end.jobs !== jobs.length) {
    throw new ValidationError(`${source}: the end line counts ${end.jobs} job(s) but the trace holds ${jobs.length}: the trace is cut`, [
      { path: source, message: 'job count mismatch' },
    ]);
  }
  return { jobs, end };
}
