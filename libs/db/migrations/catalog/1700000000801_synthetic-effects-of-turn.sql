-- Up Migration

-- The worker's group commit in ONE statement for the whole turn (issue #14). The worker called
-- fairway_record_synthetic_effects once per tenant of a turn, and a turn holds about one job per
-- tenant, so each job paid a statement of its own (parse, plan, portal) inside the turn's
-- transaction. This function takes the effects of every tenant of the turn, each naming its
-- tenant, and writes each exactly as fairway_record_synthetic_effects of migration 800 does
-- (fenced by the attempt, once per job id, the job completed with its effect while the attempt
-- holds it): ~0.04 ms less server CPU per job than a call per tenant (docs/benchmarks.md,
-- bench:dispatch).
--
-- Row-level security as before: SECURITY INVOKER, and app.tenant_id is set to a row's tenant before
-- any statement touches that row (set_config(..., true), for the rest of the caller's transaction:
-- after the call it names the last tenant of the turn). Every statement is a new execution, so the
-- policies read the setting in force for its row. The offboarding guard of migration 621 refuses
-- an offboarding tenant's row as it refuses it anywhere: the call fails, and the worker writes each
-- job alone. Rows are taken in the order given; the worker groups them by tenant.
-- fairway_record_synthetic_effects stays for workers of an earlier version during a rolling update.
CREATE FUNCTION fairway_record_synthetic_effects_of_turn(p_effects jsonb)
RETURNS TABLE (effect_job_id uuid, effect_attempt integer, effect_json text, effect_applied boolean, job_completed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  e record;
  v_tenant text;
  v_observed jsonb;
BEGIN
  FOR e IN SELECT * FROM jsonb_to_recordset(p_effects) AS x("tenantId" text, "jobId" uuid, attempt integer, observed jsonb) LOOP
    IF e."tenantId" IS NULL THEN
      RAISE EXCEPTION 'effect of job % names no tenant', e."jobId" USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_tenant IS DISTINCT FROM e."tenantId" THEN
      v_tenant := e."tenantId";
      PERFORM set_config('app.tenant_id', v_tenant, true);
    END IF;
    v_observed := e.observed || jsonb_build_object('dbSessionTenant', current_setting('app.tenant_id', true));
    INSERT INTO job_effects (job_id, tenant_id, attempt, observed)
    SELECT e."jobId", v_tenant, e.attempt, v_observed
    -- Fenced like the completion: an attempt older than the job's current one writes nothing.
    WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = e."jobId" AND j.attempts > e.attempt)
    ON CONFLICT (job_id) DO NOTHING;
    effect_applied := FOUND;
    IF NOT effect_applied THEN
      SELECT je.observed INTO v_observed FROM job_effects je WHERE je.job_id = e."jobId";
      -- Stale, or stored by another tenant's job of that id (invisible here): left out, the
      -- worker asks again on its own.
      CONTINUE WHEN NOT FOUND;
    END IF;
    UPDATE jobs j SET state = 'succeeded', result = v_observed, finished_at = now(), lease_expires_at = NULL, last_error = NULL
    WHERE j.id = e."jobId" AND j.attempts = e.attempt AND j.state = 'running';
    job_completed := FOUND;
    effect_job_id := e."jobId";
    effect_attempt := e.attempt;
    effect_json := v_observed::text;
    RETURN NEXT;
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION fairway_record_synthetic_effects_of_turn(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fairway_record_synthetic_effects_of_turn(jsonb) TO fairway_app;

-- Down Migration
DROP FUNCTION fairway_record_synthetic_effects_of_turn(jsonb);
