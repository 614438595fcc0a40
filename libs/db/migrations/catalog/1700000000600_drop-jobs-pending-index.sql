-- Up Migration

-- jobs_pending (tenant, priority, arrival) over queued and running jobs served the first
-- dispatcher's per-tenant reads. The dispatcher reads by partition (jobs_queued_by_partition,
-- jobs_running_by_partition), and the scheduler's fleet statistics group those two partial indexes
-- by tenant. Every job paid for this index on its insert and again on its claim (a non-HOT update
-- adds an entry to every index whose predicate the new row version matches).
DROP INDEX IF EXISTS jobs_pending;

-- Down Migration
CREATE INDEX jobs_pending ON jobs (tenant_id, priority DESC, accepted_at, id) WHERE state IN ('queued', 'running');
