-- Up Migration

-- The worker's group commit of no-op (synthetic) jobs: records the effects of one tenant's jobs and
-- marks those jobs succeeded, in the caller's transaction. A function so that PostgreSQL plans its
-- statement once per connection instead of once per tenant per batch (planning the statement was
-- most of its cost when a batch holds one job of each of many tenants).
--
-- SECURITY INVOKER (the default): it runs as the caller (fairway_app) under row-level security. It
-- sets app.tenant_id for the rest of the transaction (set_config(..., true) is SET LOCAL), so every
-- row it reads or writes is checked against that tenant exactly as the caller's own statements are.
--
-- Each effect is written once per job id; an attempt whose effect an earlier attempt wrote gets
-- that effect back (applied = false). A job is marked succeeded only while the attempt still holds
-- its lease (attempts = this attempt, state running): the same fencing as the scheduler's completion.
-- An attempt neither written nor found (another attempt of the same job in the same call, or one
-- that committed after this statement's snapshot) is left out: the caller asks again on its own.
CREATE FUNCTION fairway_record_synthetic_effects(p_tenant text, p_effects jsonb)
RETURNS TABLE (effect_job_id uuid, effect_attempt integer, effect_json text, effect_applied boolean, job_completed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  -- The job ids as an array: `id = ANY(ids)` makes both tables' reads primary-key lookups. Joined
  -- to the rows of jsonb_array_elements (estimated at 100) the planner chose hash joins over full
  -- scans of jobs and job_effects, once per call.
  ids uuid[];
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant, true);
  SELECT array_agg((e->>'jobId')::uuid) INTO ids FROM jsonb_array_elements(p_effects) AS e;
  RETURN QUERY
  WITH v AS (
    SELECT (e->>'jobId')::uuid AS job_id, (e->>'attempt')::integer AS attempt, e->'observed' AS observed
    FROM jsonb_array_elements(p_effects) AS e),
  ins AS (
    INSERT INTO job_effects AS je (job_id, tenant_id, attempt, observed)
    SELECT v.job_id, p_tenant, v.attempt, v.observed || jsonb_build_object('dbSessionTenant', current_setting('app.tenant_id', true))
    FROM v
    ON CONFLICT (job_id) DO NOTHING
    RETURNING je.job_id, je.attempt, je.observed),
  earlier AS (
    SELECT e.job_id, e.observed FROM job_effects e WHERE e.job_id = ANY(ids)),
  outcome AS (
    SELECT ins.job_id, ins.attempt, ins.observed, true AS applied FROM ins
    UNION ALL
    SELECT v.job_id, v.attempt, earlier.observed, false AS applied FROM earlier JOIN v ON v.job_id = earlier.job_id),
  done AS (
    UPDATE jobs j SET state = 'succeeded', result = o.observed, finished_at = now(), lease_expires_at = NULL, last_error = NULL
    FROM outcome o
    WHERE j.id = ANY(ids) AND j.id = o.job_id AND j.attempts = o.attempt AND j.state = 'running'
    RETURNING j.id, j.attempts)
  SELECT o.job_id, o.attempt, o.observed::text, o.applied, d.id IS NOT NULL
  FROM outcome o LEFT JOIN done d ON d.id = o.job_id AND d.attempts = o.attempt;
END
$$;

REVOKE ALL ON FUNCTION fairway_record_synthetic_effects(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fairway_record_synthetic_effects(text, jsonb) TO fairway_app;

-- Down Migration
DROP FUNCTION fairway_record_synthetic_effects(text, jsonb);
