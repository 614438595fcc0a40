/**
 * Stable error codes of the fair-scheduling core. Callers branch on `code`, never on the message;
 * docs/scheduling.md documents every code (a unit test keeps the two in step).
 */
export const FAIR_SCHEDULER_ERROR_CODES = {
  /** A scheduler option (tiers, slots, lending) is malformed. Fix the configuration. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** A tenant quota value is out of range. Fix the value; the old quota stays in force. */
  INVALID_QUOTA: 'INVALID_QUOTA',
  /** A job is malformed (empty id or tenant, negative or non-finite estimate or cost). */
  INVALID_JOB: 'INVALID_JOB',
  /** The job's class names no capacity tier. */
  UNKNOWN_JOB_CLASS: 'UNKNOWN_JOB_CLASS',
  /** A job with this id is already queued or running. */
  DUPLICATE_JOB: 'DUPLICATE_JOB',
  /** No queued or running job has this id. */
  UNKNOWN_JOB: 'UNKNOWN_JOB',
  /** `complete()` was called for a job that is still queued (it never got a slot). */
  JOB_NOT_RUNNING: 'JOB_NOT_RUNNING',
  /** `cancel()` was called for a job that already runs; finish it with `complete()`. */
  JOB_ALREADY_RUNNING: 'JOB_ALREADY_RUNNING',
} as const;

/** One of {@link FAIR_SCHEDULER_ERROR_CODES}. */
export type FairSchedulerErrorCode = (typeof FAIR_SCHEDULER_ERROR_CODES)[keyof typeof FAIR_SCHEDULER_ERROR_CODES];

/**
 * The only error type the core throws. Every failure is a caller mistake (bad config, bad quota,
 * unknown id), so none is `retriable`: retrying the same call gives the same answer. The flag is
 * still carried so the scheduler service can map all Fairway errors the same way.
 */
export class FairSchedulerError extends Error {
  /** Always `false` for the core's own errors; see the class comment. */
  readonly retriable: boolean = false;

  constructor(
    /** Stable machine-readable code. */
    readonly code: FairSchedulerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FairSchedulerError';
  }
}
