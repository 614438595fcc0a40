/**
 * The owner of the jobs table: every statement on it, for every service. The scheduler drives a
 * job's lifecycle ({@link JobLifecycle}: accept, load, claim, complete or fail, requeue, one
 * statement per batch) and reads {@link FleetStats}; the edge lists, reads and cancels a tenant's
 * jobs under row-level security; a worker fences its effects on the job's current attempt.
 * Migrations' SQL functions on jobs (libs/db/migrations) stay with the schema.
 */
export { JobLifecycle, type NewJob, type QueuedJob, type RefillRequest, type ClaimedJob, type JobSuccess, type JobFailure } from './job-lifecycle';
export { FleetStats, type FleetReading, type TenantFleetStats } from './fleet-stats';
export {
  listTenantJobs,
  findTenantJob,
  cancelQueuedJob,
  storedRequestHash,
  type TenantJob,
  type JobListing,
  type JobPage,
  type JobPageCursor,
  type CancelOutcome,
} from './tenant-jobs';
export { lockCurrentAttempt } from './attempt-fence';
export { readJobTrace, countUnfinishedJobs, type RecordedJobRow, type JobTraceWindow } from './job-trace';
export { purgeFinishedJobs, JobRetention, type RetentionRound, type JobRetentionOptions } from './job-retention';
