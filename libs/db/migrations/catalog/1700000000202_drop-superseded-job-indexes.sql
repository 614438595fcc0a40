-- Up Migration

-- The fair dispatcher reads queues by partition (jobs_queued_by_partition) and leases by partition
-- (jobs_running_by_partition); the global arrival-order and lease indexes of the first dispatcher
-- are no longer read, and every ingested job paid for maintaining them.
DROP INDEX IF EXISTS jobs_queued_fifo;
DROP INDEX IF EXISTS jobs_running_lease;

-- Down Migration
CREATE INDEX jobs_queued_fifo ON jobs (accepted_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
