/** A job's life: queued -> running -> succeeded | failed | dead, or cancelled before it started. */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States a job never leaves. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'dead', 'cancelled']);
