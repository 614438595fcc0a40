-- Up Migration

-- Where each tenant's data lives (docs/data-isolation.md). pooled: the shared tables of this
-- database, filtered by row-level security; schema: the schema `schema_name` of this database;
-- database: the database `db_name` on the server `db_server` ('local' is the catalog's own server,
-- any other name is looked up in the component's TENANT_DB_SERVERS map, never stored as a URL
-- with credentials in the catalog).
ALTER TABLE tenants
  ADD COLUMN schema_name text CHECK (schema_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  ADD COLUMN db_server   text CHECK (db_server ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  ADD COLUMN db_name     text CHECK (db_name ~ '^[a-z_][a-z0-9_]{0,62}$'),
  ADD CONSTRAINT tenants_location_matches_model CHECK (
    (isolation_model = 'pooled' AND schema_name IS NULL AND db_name IS NULL)
    OR (isolation_model = 'schema' AND schema_name IS NOT NULL AND db_name IS NULL)
    OR (isolation_model = 'database' AND db_name IS NOT NULL AND db_server IS NOT NULL AND schema_name IS NULL)
  );
CREATE UNIQUE INDEX tenants_schema_name ON tenants (schema_name) WHERE schema_name IS NOT NULL;
CREATE UNIQUE INDEX tenants_db_location ON tenants (db_server, db_name) WHERE db_name IS NOT NULL;

-- Every change to a tenant's catalog entry is announced, whoever made it, so that each process's
-- TenantDataRouter drops its cached route at once (the router also expires entries after a TTL, in
-- case its LISTEN connection was down when the notification was sent).
CREATE FUNCTION fairway_notify_tenant_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('fairway_tenant_catalog', COALESCE(NEW.id, OLD.id));
  RETURN NULL;
END $$;
CREATE TRIGGER tenants_catalog_notify AFTER UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION fairway_notify_tenant_catalog();

-- The records of pooled tenants. Schema and database tenants have the same table without
-- tenant_id, created by the tenant migrations (libs/db/migrations/tenant).
CREATE TABLE records (
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         uuid NOT NULL PRIMARY KEY,
  title      text NOT NULL,
  body       text NOT NULL DEFAULT '',
  amount     numeric(18, 2) NOT NULL DEFAULT 0,
  tags       text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Ids are UUIDv7, so (tenant_id, id) is the tenant's records in creation order: the cursor index.
CREATE UNIQUE INDEX records_tenant_id ON records (tenant_id, id);

-- A job's result document (export CSV, report JSON), written in the same transaction as the job's
-- job_effects row, so that a job id has at most one artifact however often it is retried. The edge
-- serves GET /v1/jobs/{id}/result from this table.
CREATE TABLE job_artifacts (
  job_id       uuid PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  content_type text NOT NULL,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_artifacts_tenant ON job_artifacts (tenant_id, created_at);

ALTER TABLE records ENABLE ROW LEVEL SECURITY;
ALTER TABLE records FORCE ROW LEVEL SECURITY;
ALTER TABLE job_artifacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_artifacts FORCE ROW LEVEL SECURITY;
CREATE POLICY records_tenant_isolation ON records TO fairway_app
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
CREATE POLICY job_artifacts_tenant_isolation ON job_artifacts TO fairway_app
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
-- Offboarding (the control plane, as the owner) deletes a tenant's rows. Under FORCE the owner is
-- filtered too; this policy lets it reach exactly one tenant's rows, the one its transaction names.
CREATE POLICY records_owner_offboarding ON records TO fairway_owner
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)));
CREATE POLICY job_artifacts_owner_offboarding ON job_artifacts TO fairway_owner
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)));

GRANT SELECT, INSERT, UPDATE, DELETE ON records TO fairway_app;
GRANT SELECT, INSERT, UPDATE ON job_artifacts TO fairway_app;

-- Each schema or database tenant's tenant-migration version, kept by migrateTenants (the truth is
-- the tenant's own pgmigrations table; this is the fleet's view of it, for progress and resume).
CREATE TABLE tenant_migrations (
  tenant_id  text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  version    text NOT NULL,
  status     text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  target     text NOT NULL,
  error      text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Offboarding's own record of what it removed, kept until libs/audit's trail replaces it; no
-- foreign key: it must outlive the tenant.
CREATE TABLE tenant_offboarding_log (
  id         bigserial PRIMARY KEY,
  tenant_id  text NOT NULL,
  actor      text NOT NULL,
  model      text NOT NULL,
  removed    jsonb NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE tenant_offboarding_log;
DROP TABLE tenant_migrations;
DROP TABLE job_artifacts;
DROP TABLE records;
DROP TRIGGER tenants_catalog_notify ON tenants;
DROP FUNCTION fairway_notify_tenant_catalog();
DROP INDEX tenants_db_location;
DROP INDEX tenants_schema_name;
ALTER TABLE tenants
  DROP CONSTRAINT tenants_location_matches_model,
  DROP COLUMN db_name,
  DROP COLUMN db_server,
  DROP COLUMN schema_name;
