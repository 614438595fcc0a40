-- Up Migration

-- Two limits the fair core always had, now an operator's to set (#17): what a rate token pays for
-- (one job, or one unit of the job's estimated cost), and caps on the jobs running at once per job
-- class. The rules are @fairway/quota's; the checks here keep a hand-written UPDATE honest.
ALTER TABLE tenant_quotas
  ADD COLUMN rate_basis text NOT NULL DEFAULT 'jobs' CHECK (rate_basis IN ('jobs', 'cost')),
  ADD COLUMN max_in_flight_by_class jsonb CHECK (max_in_flight_by_class IS NULL OR jsonb_typeof(max_in_flight_by_class) = 'object');

-- Down Migration
ALTER TABLE tenant_quotas DROP COLUMN max_in_flight_by_class, DROP COLUMN rate_basis;
