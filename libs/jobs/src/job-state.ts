/** A job's life: queued -> running -> succeeded | failed | dead, or cancelled before it started. */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
