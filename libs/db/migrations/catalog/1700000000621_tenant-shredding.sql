-- Up Migration

-- Crypto-shredding removes what a deleted tenant left in plaintext (issue #16 item 7; see
-- libs/db/src/tenant-data/tenant-shredding.ts and docs/security.md, "Crypto-shredding").

-- Offboarding (the owner) clears the tenant-derived columns of the tenant's jobs and deletes its
-- job effects. Both tables FORCE row-level security, so the owner is filtered too; as for records
-- and job_artifacts (migration 501), these policies let it reach exactly one tenant's rows, the one
-- its transaction names in app.tenant_id.
CREATE POLICY jobs_owner_offboarding ON jobs TO fairway_owner
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
CREATE POLICY job_effects_owner_offboarding ON job_effects TO fairway_owner
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)));

-- Nothing new is written for a tenant once its offboarding has begun. Otherwise a command still in
-- Kafka, or a job a worker was executing while the tenant was deleted, would land in plaintext
-- after the shredding had run. Offboarding commits the status 'offboarding' first, then waits for
-- every write already in progress (a LOCK ... IN SHARE MODE barrier, tenant-shredding.ts), then
-- shreds: a write that started before the status change is shredded, one that starts after is
-- stopped here. A PRIMARY KEY lookup per row; SECURITY INVOKER (every writer may read tenants).
--   skip:   the row is silently not inserted (jobs: ingest treats it like a duplicate command,
--           which discards the command of a deleted tenant without failing the batch);
--   refuse: the statement fails with SQLSTATE FW410, as tenant_key_add does for shredded keys
--           (the worker then writes each job of the batch alone, and this one fails alone).
CREATE FUNCTION fairway_refuse_offboarded_write() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_catalog, pg_temp AS $$
DECLARE
  tenant_status text;
BEGIN
  SELECT status INTO tenant_status FROM tenants WHERE id = NEW.tenant_id;
  IF tenant_status IN ('offboarding', 'deleted') THEN
    IF TG_ARGV[0] = 'skip' THEN
      RETURN NULL;
    END IF;
    RAISE EXCEPTION 'tenant % is % : nothing is written to % for it', NEW.tenant_id, tenant_status, TG_TABLE_NAME
      USING ERRCODE = 'FW410';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER jobs_refuse_offboarded BEFORE INSERT ON jobs
  FOR EACH ROW EXECUTE FUNCTION fairway_refuse_offboarded_write('skip');
CREATE TRIGGER job_effects_refuse_offboarded BEFORE INSERT ON job_effects
  FOR EACH ROW EXECUTE FUNCTION fairway_refuse_offboarded_write('refuse');
CREATE TRIGGER job_artifacts_refuse_offboarded BEFORE INSERT ON job_artifacts
  FOR EACH ROW EXECUTE FUNCTION fairway_refuse_offboarded_write('refuse');
-- job_result_chunks comes with migration 610, written on a parallel branch: guarded, so this
-- migration stands alone either way.
DO $$
BEGIN
  IF to_regclass('job_result_chunks') IS NOT NULL THEN
    CREATE TRIGGER job_result_chunks_refuse_offboarded BEFORE INSERT ON job_result_chunks
      FOR EACH ROW EXECUTE FUNCTION fairway_refuse_offboarded_write('refuse');
  END IF;
END $$;
CREATE TRIGGER records_refuse_offboarded BEFORE INSERT ON records
  FOR EACH ROW EXECUTE FUNCTION fairway_refuse_offboarded_write('refuse');

-- Down Migration
DROP TRIGGER records_refuse_offboarded ON records;
DO $$
BEGIN
  IF to_regclass('job_result_chunks') IS NOT NULL THEN
    DROP TRIGGER IF EXISTS job_result_chunks_refuse_offboarded ON job_result_chunks;
  END IF;
END $$;
DROP TRIGGER job_artifacts_refuse_offboarded ON job_artifacts;
DROP TRIGGER job_effects_refuse_offboarded ON job_effects;
DROP TRIGGER jobs_refuse_offboarded ON jobs;
DROP FUNCTION fairway_refuse_offboarded_write();
DROP POLICY job_effects_owner_offboarding ON job_effects;
DROP POLICY jobs_owner_offboarding ON jobs;
