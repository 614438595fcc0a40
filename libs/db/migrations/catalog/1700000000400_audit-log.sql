-- Up Migration

-- The audit trail of admin actions, authentication failures, suspensions and deletions. One hash
-- chain per tenant (chain = tenant id) plus 'global' for fleet-wide actions. Each entry stores the
-- SHA-256 of the previous entry of its chain, so editing, reordering or removing an entry breaks
-- every later link (verified by verifyAuditChains in libs/audit).
-- No foreign key to tenants: the trail must outlive the tenant whose deletion it records.
-- No row-level security: entries are written and read by the admin plane, which acts across
-- tenants; tenant-facing reads go through listAudit({ tenant }) in the caller.
CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  chain     text NOT NULL CHECK (chain ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  seq       bigint NOT NULL CHECK (seq >= 1),
  at        timestamptz NOT NULL,
  actor     text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  action    text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  target    text,
  before    jsonb,
  after     jsonb,
  reason    text,
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash      text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  UNIQUE (chain, seq)
);
CREATE INDEX audit_log_chain_at ON audit_log (chain, at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- The last entry of each chain, maintained by the database (not the application) so that removing
-- entries from the tail of a chain, which leaves the remaining links intact, is still detected.
CREATE TABLE audit_chain_heads (
  chain      text PRIMARY KEY,
  seq        bigint NOT NULL,
  hash       text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Runs as the owner (SECURITY DEFINER) so the application role needs no write privilege on the
-- heads. search_path pinned: a definer function must not resolve names through the caller's path.
CREATE FUNCTION audit_log_advance_head() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (NEW.chain, NEW.seq, NEW.hash)
  ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, updated_at = now()
  WHERE audit_chain_heads.seq < EXCLUDED.seq;
  RETURN NULL;
END $$;
CREATE TRIGGER audit_log_advance_head AFTER INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_advance_head();

-- Append-only for everyone but members of the owner role (superusers count as members): the
-- privileges below already deny UPDATE and DELETE to fairway_app and fairway_scheduler; the trigger
-- also stops any role granted them later by mistake. The owner keeps the ability (retention, legal
-- erasure) because it could drop the trigger anyway; what it changes, the hash chain exposes.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT pg_has_role(current_user, 'fairway_owner', 'MEMBER') THEN
    RAISE EXCEPTION 'audit entries are append-only: % on % refused for role %', TG_OP, TG_TABLE_NAME, current_user
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_chain_heads_append_only BEFORE UPDATE OR DELETE ON audit_chain_heads
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

REVOKE ALL ON audit_log, audit_chain_heads FROM PUBLIC;
GRANT SELECT, INSERT ON audit_log TO fairway_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO fairway_app;
GRANT SELECT ON audit_chain_heads TO fairway_app;

-- Down Migration
DROP TABLE audit_chain_heads;
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
DROP FUNCTION audit_log_advance_head();
