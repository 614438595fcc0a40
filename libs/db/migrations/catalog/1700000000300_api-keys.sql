-- Up Migration

-- API keys of tenants. Only the SHA-256 of the secret part is stored; the key itself is shown once,
-- when it is issued. A key is found by its public prefix, then its hash is compared in constant time.
-- Not tenant data under RLS: the edge must find the key before it knows the tenant.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  prefix       text NOT NULL UNIQUE CHECK (prefix ~ '^[0-9a-f]{12}$'),
  hash         text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- The edge (app role) reads keys and records when one was last used; issuing and revoking are the
-- admin API's, which connects as the owner role.
GRANT SELECT ON api_keys TO fairway_app;
GRANT UPDATE (last_used_at) ON api_keys TO fairway_app;

-- Down Migration
DROP TABLE api_keys;
