-- Up Migration

-- A job's stored result (export CSV, report JSON) as rows of chunks, each at most one chunk the
-- worker wrote (256 KiB of CSV), sealed with the tenant's key like any sealed field. Appending to
-- one `job_artifacts.body` rewrote the whole value on every chunk (quadratic in the result's size)
-- and the edge had to read it whole; rows are written in bounded transactions and read in pages.
--
-- Chunks are keyed by the attempt that wrote them: an attempt writes its chunks in transactions of
-- their own, then ONE transaction (fenced by the job's attempt, see the worker's executor) inserts
-- the job_artifacts row naming that attempt together with the job's effect. Until then the chunks
-- are nobody's result: an attempt that loses or dies leaves rows no artifact names, removed by the
-- next attempt of the job (or by offboarding, which deletes a tenant's rows of this table).
CREATE TABLE job_result_chunks (
  job_id    uuid NOT NULL,
  attempt   integer NOT NULL,
  seq       integer NOT NULL,
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  body      text NOT NULL,
  PRIMARY KEY (job_id, attempt, seq)
);

-- attempt NULL: a result stored before this migration, whole in `body` (still served as it is).
-- Otherwise the result is the `chunks` rows of job_result_chunks written by `attempt`, and body is ''.
ALTER TABLE job_artifacts
  ADD COLUMN attempt integer,
  ADD COLUMN chunks  integer CHECK (chunks >= 0);

-- Row-level security as for job_artifacts (migration 501).
ALTER TABLE job_result_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_result_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY job_result_chunks_tenant_isolation ON job_result_chunks TO fairway_app
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)))
  WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)));
CREATE POLICY job_result_chunks_owner_offboarding ON job_result_chunks TO fairway_owner
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)));

-- UPDATE for re-encryption after a key rotation; DELETE for the chunks of a lost attempt.
GRANT SELECT, INSERT, UPDATE, DELETE ON job_result_chunks TO fairway_app;

-- Down Migration
ALTER TABLE job_artifacts DROP COLUMN chunks, DROP COLUMN attempt;
DROP TABLE job_result_chunks;
