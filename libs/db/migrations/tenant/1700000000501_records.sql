-- Up Migration

-- The records of one tenant, in its own schema or database: the pooled table's shape without
-- tenant_id, since everything here belongs to the one tenant. Unqualified names: node-pg-migrate
-- sets search_path to the tenant's schema (or public in a tenant database).
CREATE TABLE records (
  id         uuid NOT NULL PRIMARY KEY,
  title      text NOT NULL,
  body       text NOT NULL DEFAULT '',
  amount     numeric(18, 2) NOT NULL DEFAULT 0,
  tags       text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON records TO fairway_app;

-- Down Migration
DROP TABLE records;
