-- Up Migration

-- A pooled record's tenant_id defaults to the transaction's tenant, so domain code writes the same
-- INSERT in every isolation model and never names the tenant; the policy's WITH CHECK still
-- refuses any other value, and with no tenant set the NOT NULL constraint refuses the row.
ALTER TABLE records ALTER COLUMN tenant_id SET DEFAULT current_setting('app.tenant_id', true);

-- Offboarding writes to the audit trail (libs/audit, appendAudit) now that it exists; the stop-gap
-- log of 1700000000501 was never written to.
DROP TABLE tenant_offboarding_log;

-- Down Migration
CREATE TABLE tenant_offboarding_log (
  id         bigserial PRIMARY KEY,
  tenant_id  text NOT NULL,
  actor      text NOT NULL,
  model      text NOT NULL,
  removed    jsonb NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE records ALTER COLUMN tenant_id DROP DEFAULT;
