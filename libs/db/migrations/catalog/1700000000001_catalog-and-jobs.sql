-- Up Migration

-- The tenant catalog. Not tenant data: every service reads it to decide who a request is for.
CREATE TABLE tenants (
  id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  display_name    text NOT NULL,
  status          text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('provisioning', 'active', 'suspended', 'offboarding', 'deleted')),
  isolation_model text NOT NULL DEFAULT 'pooled' CHECK (isolation_model IN ('pooled', 'schema', 'database')),
  plan            text NOT NULL DEFAULT 'standard',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A tenant's scheduling entitlement; absent columns mean "the plan's default".
CREATE TABLE tenant_quotas (
  tenant_id     text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  weight        double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
  rate          double precision CHECK (rate > 0),
  burst         double precision CHECK (burst >= 1),
  max_in_flight integer CHECK (max_in_flight >= 1),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  updated_by    text NOT NULL DEFAULT 'system'
);

-- Every command the edge accepted, from the moment the scheduler made it durable.
CREATE TABLE jobs (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  type             text NOT NULL,
  job_class        text NOT NULL,
  params           jsonb NOT NULL DEFAULT '{}',
  priority         integer NOT NULL DEFAULT 0,
  idempotency_key  text,
  request_hash     text,
  state            text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 5,
  lease_expires_at timestamptz,
  last_error       text,
  result           jsonb,
  trace_headers    jsonb NOT NULL DEFAULT '{}',
  accepted_at      timestamptz NOT NULL,
  queued_at        timestamptz NOT NULL DEFAULT now(),
  run_after        timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE UNIQUE INDEX jobs_tenant_idempotency_key ON jobs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_pending ON jobs (tenant_id, priority DESC, accepted_at, id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_queued_fifo ON jobs (accepted_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_tenant_recent ON jobs (tenant_id, accepted_at DESC);

-- The worker's effect of a job, written once per job id: the first attempt to commit wins, so a
-- retried job never takes effect twice. `observed` records what the worker saw of the tenant.
CREATE TABLE job_effects (
  job_id     uuid PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  attempt    integer NOT NULL,
  observed   jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Row-level security. FORCE so that even the owner is filtered; `(select current_setting(...))` so
-- the setting is read once per statement, not once per row; the `true` argument makes a missing
-- setting NULL, and `tenant_id = NULL` is never true: no tenant set means no rows.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
ALTER TABLE job_effects ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_effects FORCE ROW LEVEL SECURITY;

CREATE POLICY jobs_tenant_isolation ON jobs TO fairway_app
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
CREATE POLICY job_effects_tenant_isolation ON job_effects TO fairway_app
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));

-- The scheduler is the one component that must see every tenant's queue. It gets its own role with
-- an explicit policy on the jobs table only (not BYPASSRLS, and no access to tenant effects).
CREATE POLICY jobs_scheduler_all ON jobs TO fairway_scheduler USING (true) WITH CHECK (true);

GRANT SELECT ON tenants, tenant_quotas TO fairway_app, fairway_scheduler;
GRANT SELECT, INSERT, UPDATE ON jobs TO fairway_app;
GRANT SELECT, INSERT ON job_effects TO fairway_app;
GRANT SELECT, INSERT, UPDATE ON jobs TO fairway_scheduler;

-- Down Migration
DROP TABLE job_effects;
DROP TABLE jobs;
DROP TABLE tenant_quotas;
DROP TABLE tenants;
