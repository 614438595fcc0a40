-- Up Migration

-- The operators' what-if (issue #18 part 4) replays the recorded workload: the control plane's
-- admin API reads every tenant's finished jobs of a time window (arrival, tenant, class, start,
-- finish) from the jobs table as the owner role. The table FORCEs row-level security, so the owner
-- is filtered too and until now reached one tenant's rows at a time (jobs_owner_offboarding). This
-- policy lets it READ every row; it writes nothing new: UPDATE and DELETE still pass only
-- jobs_owner_offboarding, one tenant at a time. The owner owns the table and could turn FORCE off,
-- so this takes nothing from the isolation the application and scheduler roles have; the trace
-- reader (libs/job-store, job-trace.ts) selects timing and class columns only, never params or result.
CREATE POLICY jobs_owner_trace_read ON jobs FOR SELECT TO fairway_owner USING (true);

-- Down Migration
DROP POLICY jobs_owner_trace_read ON jobs;
