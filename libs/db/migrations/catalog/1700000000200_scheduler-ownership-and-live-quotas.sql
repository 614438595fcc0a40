-- Up Migration

-- The Kafka partition a job's command came from: a tenant's commands share one partition (the
-- message key is the tenant id), and the scheduler replica that owns the partition dispatches them.
ALTER TABLE jobs ADD COLUMN partition integer NOT NULL DEFAULT 0;
CREATE INDEX jobs_queued_by_partition ON jobs (partition, tenant_id, priority DESC, accepted_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running_by_partition ON jobs (partition, lease_expires_at) WHERE state = 'running';

-- Every quota change, recorded: who, when, before, after.
CREATE TABLE tenant_quota_history (
  id         bigserial PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by text NOT NULL,
  before     jsonb,
  after      jsonb NOT NULL
);
CREATE INDEX tenant_quota_history_tenant ON tenant_quota_history (tenant_id, changed_at DESC);

-- Live quotas: a change to tenant_quotas, or to a tenant's status, is announced to every scheduler
-- replica through LISTEN/NOTIFY, whoever made it (SchedulerAdmin, an operator's SQL, a migration).
CREATE FUNCTION fairway_notify_quota() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('fairway_quota', COALESCE(NEW.tenant_id, OLD.tenant_id));
  RETURN NULL;
END $$;
CREATE TRIGGER tenant_quotas_notify AFTER INSERT OR UPDATE OR DELETE ON tenant_quotas
  FOR EACH ROW EXECUTE FUNCTION fairway_notify_quota();

CREATE FUNCTION fairway_notify_tenant_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('fairway_tenant_status', NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER tenants_status_notify AFTER UPDATE OF status ON tenants
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION fairway_notify_tenant_status();

GRANT SELECT, INSERT, UPDATE ON tenant_quotas TO fairway_scheduler;
GRANT SELECT, INSERT ON tenant_quota_history TO fairway_scheduler;
GRANT USAGE ON SEQUENCE tenant_quota_history_id_seq TO fairway_scheduler;
GRANT SELECT ON tenant_quota_history TO fairway_app;

-- Down Migration
REVOKE ALL ON tenant_quota_history FROM fairway_app, fairway_scheduler;
DROP TRIGGER tenants_status_notify ON tenants;
DROP FUNCTION fairway_notify_tenant_status();
DROP TRIGGER tenant_quotas_notify ON tenant_quotas;
DROP FUNCTION fairway_notify_quota();
DROP TABLE tenant_quota_history;
DROP INDEX jobs_running_by_partition;
DROP INDEX jobs_queued_by_partition;
ALTER TABLE jobs DROP COLUMN partition;
