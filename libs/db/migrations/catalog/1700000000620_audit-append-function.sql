-- Up Migration

-- The audit trail is appended only through audit_append (issue #16 item 8). Before this migration
-- the application role held INSERT on audit_log and computed seq, prev_hash and hash itself, so a
-- compromised edge or worker could write forged links, or an entry at seq = 2^63-1 after which no
-- append of that chain could ever succeed again.
--
-- Now the database assigns everything that links an entry to its chain: under the chain's advisory
-- lock (the same key libs/audit used, so an old writer still running during a rollout serialises
-- with the new one) it reads the chain's last entry, takes the next seq, its hash as prev_hash, the
-- database clock as `at`, and computes the entry's hash itself. The caller supplies only what the
-- entry says (actor, action, target, before, after, reason) and cannot choose any link.
--
-- Hash form 2 (form = 2) is computed here, in SQL, so that nobody has to trust the caller's hash:
--   sha256( 'fairway-audit-v2' || for each field: E'\n' || octet_length(f) || ':' || f, or E'\n~' for NULL )
-- over chain, seq, at (ISO 8601 UTC, milliseconds), actor, action, target, before::text,
-- after::text, reason, prev_hash. Length-prefixed fields are unambiguous without any escaping;
-- before/after enter as PostgreSQL's own text form of the stored jsonb, which the verifier reads
-- back (libs/audit, verify.ts) rather than re-deriving. Entries written before this migration keep
-- form 1 (RFC 8785 JSON hashed by the application) and still verify as such.
ALTER TABLE audit_log ADD COLUMN form smallint NOT NULL DEFAULT 1 CHECK (form IN (1, 2));

CREATE FUNCTION audit_field(v text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN v IS NULL THEN E'\n~' ELSE E'\n' || octet_length(v)::text || ':' || v END
$$;

CREATE FUNCTION audit_entry_hash_v2(
  p_chain text, p_seq bigint, p_at timestamptz, p_actor text, p_action text, p_target text,
  p_before jsonb, p_after jsonb, p_reason text, p_prev_hash text
) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = public, pg_catalog, pg_temp AS $$
  SELECT encode(sha256(convert_to(
    'fairway-audit-v2'
    || audit_field(p_chain) || audit_field(p_seq::text)
    || audit_field(to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    || audit_field(p_actor) || audit_field(p_action) || audit_field(p_target)
    || audit_field(p_before::text) || audit_field(p_after::text) || audit_field(p_reason)
    || audit_field(p_prev_hash),
    'UTF8')), 'hex')
$$;

-- SECURITY DEFINER, owned by the owner (migrations run as fairway_owner), search_path pinned so no
-- name resolves through the caller's path. Runs inside the caller's transaction: the entry commits
-- or rolls back with the action it records, and the chain's lock is held until then.
CREATE FUNCTION audit_append(
  p_chain text, p_actor text, p_action text, p_target text, p_before jsonb, p_after jsonb, p_reason text
) RETURNS SETOF audit_log
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog, pg_temp AS $$
DECLARE
  last_seq  bigint;
  last_hash text;
  v_at      timestamptz;
  v_seq     bigint;
  v_prev    text;
BEGIN
  IF p_chain IS NULL OR p_chain !~ '^[a-z0-9][a-z0-9-]{0,62}$' THEN
    RAISE EXCEPTION 'audit chain must be a tenant id or ''global'' (got %)', coalesce(quote_literal(p_chain), 'NULL')
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('fairway.audit:' || p_chain, 0));
  SELECT seq, hash INTO last_seq, last_hash FROM audit_log WHERE chain = p_chain ORDER BY seq DESC LIMIT 1;
  v_seq := coalesce(last_seq, 0) + 1;
  v_prev := coalesce(last_hash, repeat('0', 64));
  -- The database clock read under the lock, cut to milliseconds, so one chain's times never go back.
  v_at := date_trunc('milliseconds', clock_timestamp());
  RETURN QUERY
  INSERT INTO audit_log (chain, seq, at, actor, action, target, before, after, reason, prev_hash, hash, form)
  VALUES (p_chain, v_seq, v_at, p_actor, p_action, p_target, p_before, p_after, p_reason, v_prev,
          audit_entry_hash_v2(p_chain, v_seq, v_at, p_actor, p_action, p_target, p_before, p_after, p_reason, v_prev), 2)
  RETURNING *;
END $$;

REVOKE ALL ON FUNCTION audit_append(text, text, text, text, jsonb, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(text, text, text, text, jsonb, jsonb, text) TO fairway_app;

-- Nobody but the owner (the definer) writes rows; the application role keeps SELECT to verify.
REVOKE INSERT ON audit_log FROM PUBLIC, fairway_app, fairway_scheduler;
REVOKE USAGE ON SEQUENCE audit_log_id_seq FROM PUBLIC, fairway_app, fairway_scheduler;

-- Down Migration
GRANT INSERT ON audit_log TO fairway_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO fairway_app;
DROP FUNCTION audit_append(text, text, text, text, jsonb, jsonb, text);
DROP FUNCTION audit_entry_hash_v2(text, bigint, timestamptz, text, text, text, jsonb, jsonb, text, text);
DROP FUNCTION audit_field(text);
ALTER TABLE audit_log DROP COLUMN form;
