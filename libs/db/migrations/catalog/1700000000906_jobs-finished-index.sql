-- Up Migration

-- The retention of finished jobs (issue #18 part 3, libs/job-store job-retention.ts) takes the
-- oldest finished jobs first, a batch at a time, across tenants. Without an index each batch would
-- scan the whole table. Only finished rows are in it: a job enters it once, when it finishes (that
-- update changes `state`, so it is not a HOT update and pays for one index entry either way).
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE state IN ('succeeded', 'failed', 'dead', 'cancelled');

-- Down Migration
DROP INDEX jobs_finished_at;
