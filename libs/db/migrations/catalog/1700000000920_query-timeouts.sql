-- Up Migration

-- A tenant's database time limits (#19 part 1): statement_timeout, lock_timeout and
-- idle_in_transaction_session_timeout, per plan and optionally per tenant, separately for
-- interactive requests and heavy jobs. Every tenant transaction sets them locally (libs/db,
-- with-tenant.ts). A NULL column inherits: a tenant's value from its plan's, a plan's from the
-- default plan '*'. The rules are @fairway/quota's; the checks here keep a hand-written UPDATE honest.
CREATE TABLE query_timeouts (
  scope                           text NOT NULL CHECK (scope IN ('plan', 'tenant')),
  name                            text NOT NULL CHECK (name <> ''),
  workload                        text NOT NULL CHECK (workload IN ('interactive', 'heavy')),
  statement_timeout_ms            integer CHECK (statement_timeout_ms BETWEEN 0 AND 86400000),
  lock_timeout_ms                 integer CHECK (lock_timeout_ms BETWEEN 0 AND 86400000),
  idle_in_transaction_timeout_ms  integer CHECK (idle_in_transaction_timeout_ms BETWEEN 0 AND 86400000),
  updated_at                      timestamptz NOT NULL DEFAULT now(),
  updated_by                      text NOT NULL DEFAULT '',
  PRIMARY KEY (scope, name, workload)
);

-- The defaults, in one place: the default plan '*'. A request waits on a person's patience; a job
-- (report, export) may read for a minute, which was the worker's JOB_STATEMENT_TIMEOUT already.
INSERT INTO query_timeouts (scope, name, workload, statement_timeout_ms, lock_timeout_ms, idle_in_transaction_timeout_ms, updated_by) VALUES
  ('plan', '*', 'interactive', 5000, 2000, 10000, 'migration 920'),
  ('plan', '*', 'heavy', 60000, 10000, 60000, 'migration 920');

-- The limits in force for a tenant's workload, each the first of tenant, plan, '*' that sets it.
CREATE FUNCTION fairway_query_timeouts(p_tenant text, p_workload text)
RETURNS TABLE (statement_timeout_ms integer, lock_timeout_ms integer, idle_in_transaction_timeout_ms integer)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(t.statement_timeout_ms, p.statement_timeout_ms, d.statement_timeout_ms),
         coalesce(t.lock_timeout_ms, p.lock_timeout_ms, d.lock_timeout_ms),
         coalesce(t.idle_in_transaction_timeout_ms, p.idle_in_transaction_timeout_ms, d.idle_in_transaction_timeout_ms)
    FROM (SELECT 1) AS one
    LEFT JOIN query_timeouts t ON t.scope = 'tenant' AND t.name = p_tenant AND t.workload = p_workload
    LEFT JOIN tenants tn ON tn.id = p_tenant
    LEFT JOIN query_timeouts p ON p.scope = 'plan' AND p.name = tn.plan AND p.workload = p_workload
    LEFT JOIN query_timeouts d ON d.scope = 'plan' AND d.name = '*' AND d.workload = p_workload
$$;

-- Enters a tenant's scope for the rest of the caller's transaction: app.tenant_id and the three
-- limits, all with set_config(..., true) (SET LOCAL: a pooled connection's next borrower inherits
-- none of it). One statement, so a tenant transaction costs no more round trips than before. A
-- limit nobody set keeps the session's value. Returns the limits it set.
CREATE FUNCTION fairway_enter_tenant(p_tenant text, p_workload text)
RETURNS TABLE (statement_timeout_ms integer, lock_timeout_ms integer, idle_in_transaction_timeout_ms integer)
LANGUAGE sql VOLATILE AS $$
  SELECT q.statement_timeout_ms, q.lock_timeout_ms, q.idle_in_transaction_timeout_ms
    FROM fairway_query_timeouts(p_tenant, p_workload) AS q,
         LATERAL (SELECT set_config('app.tenant_id', p_tenant, true),
                         set_config('statement_timeout', coalesce(q.statement_timeout_ms::text, current_setting('statement_timeout')), true),
                         set_config('lock_timeout', coalesce(q.lock_timeout_ms::text, current_setting('lock_timeout')), true),
                         set_config('idle_in_transaction_session_timeout',
                                    coalesce(q.idle_in_transaction_timeout_ms::text, current_setting('idle_in_transaction_session_timeout')), true)) AS applied
$$;

-- Routers cache a tenant's limits with its route: a change notifies the catalog channel with the
-- tenant's id, or '*' for a plan (every cached route may be affected).
CREATE FUNCTION fairway_notify_query_timeouts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('fairway_tenant_catalog', CASE WHEN COALESCE(NEW.scope, OLD.scope) = 'tenant' THEN COALESCE(NEW.name, OLD.name) ELSE '*' END);
  RETURN NULL;
END $$;
CREATE TRIGGER query_timeouts_notify AFTER INSERT OR UPDATE OR DELETE ON query_timeouts
  FOR EACH ROW EXECUTE FUNCTION fairway_notify_query_timeouts();

GRANT SELECT ON query_timeouts TO fairway_app, fairway_scheduler;
GRANT EXECUTE ON FUNCTION fairway_query_timeouts(text, text), fairway_enter_tenant(text, text) TO fairway_app, fairway_scheduler;

-- Down Migration
DROP TRIGGER query_timeouts_notify ON query_timeouts;
DROP FUNCTION fairway_notify_query_timeouts();
DROP FUNCTION fairway_enter_tenant(text, text);
DROP FUNCTION fairway_query_timeouts(text, text);
DROP TABLE query_timeouts;
