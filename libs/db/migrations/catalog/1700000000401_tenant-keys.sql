-- Up Migration

-- Per-tenant data keys (DEKs) for envelope encryption (libs/crypto). A key is stored only wrapped by
-- a key-encryption key (KEK) from a KeyProvider, together with the KEK version that wrapped it, so
-- KEKs rotate by rewrapping these few rows and never the data. Destroying a tenant's keys
-- (crypto-shredding) erases wrapped_key and keeps the row as a tombstone, so no new key is made for
-- a shredded tenant and the audit trail can name what was destroyed.
CREATE TABLE tenant_keys (
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version      integer NOT NULL CHECK (version >= 1),
  kek_version  text NOT NULL,
  wrapped_key  bytea,
  created_at   timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  destroyed_at timestamptz,
  PRIMARY KEY (tenant_id, version),
  CHECK ((destroyed_at IS NULL) = (wrapped_key IS NOT NULL))
);
CREATE INDEX tenant_keys_kek_version ON tenant_keys (kek_version) WHERE destroyed_at IS NULL;

-- The application reads only its tenant's wrapped keys (useless without the KEK, but there is no
-- reason to show them). RLS is enabled but not FORCEd: the owner is the key administrator (KEK
-- rewrap across all tenants, shredding), and it alone may UPDATE or DELETE.
ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_keys_tenant_read ON tenant_keys FOR SELECT TO fairway_app
  USING (tenant_id = (SELECT current_setting('app.tenant_id', true)));
REVOKE ALL ON tenant_keys FROM PUBLIC;
GRANT SELECT ON tenant_keys TO fairway_app;

-- The one write the application may make: add the next key version of the tenant it is acting for
-- (the first key is made lazily on a tenant's first encrypted write; rotation adds the next). A
-- SECURITY DEFINER function rather than an INSERT grant, so it can insist on the next version
-- number, the caller's tenant, and a tenant that was never shredded nor deleted.
-- SQLSTATE FW409: another process added that version first (re-read and use it).
-- SQLSTATE FW410: the tenant's keys were destroyed, or the tenant is deleted.
CREATE FUNCTION tenant_key_add(p_tenant text, p_version integer, p_kek_version text, p_wrapped bytea)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  latest integer;
  shredded boolean;
  tenant_status text;
BEGIN
  IF NOT pg_has_role(session_user, 'fairway_owner', 'MEMBER')
     AND p_tenant IS DISTINCT FROM current_setting('app.tenant_id', true) THEN
    RAISE EXCEPTION 'a data key may only be added for the tenant of the transaction (app.tenant_id)'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('fairway.tenant-keys:' || p_tenant, 0));
  SELECT status INTO tenant_status FROM tenants WHERE id = p_tenant;
  SELECT max(version), coalesce(bool_or(destroyed_at IS NOT NULL), false) INTO latest, shredded
    FROM tenant_keys WHERE tenant_id = p_tenant;
  IF shredded OR tenant_status = 'deleted' THEN
    RAISE EXCEPTION 'the data keys of tenant % were destroyed', p_tenant USING ERRCODE = 'FW410';
  END IF;
  IF p_version <> coalesce(latest, 0) + 1 THEN
    RAISE EXCEPTION 'data key version % of tenant % is taken (latest is %)', p_version, p_tenant, latest
      USING ERRCODE = 'FW409';
  END IF;
  INSERT INTO tenant_keys (tenant_id, version, kek_version, wrapped_key) VALUES (p_tenant, p_version, p_kek_version, p_wrapped);
END $$;
REVOKE ALL ON FUNCTION tenant_key_add(text, integer, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_key_add(text, integer, text, bytea) TO fairway_app;

-- Down Migration
DROP FUNCTION tenant_key_add(text, integer, text, bytea);
DROP TABLE tenant_keys;
