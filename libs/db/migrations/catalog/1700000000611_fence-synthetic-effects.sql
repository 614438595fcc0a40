-- Up Migration

-- The group commit's effects are fenced by the attempt (issue #16): migration 601 fenced only the
-- job's completion, so an attempt that ran past its lease could still write the job's effect after
-- a newer attempt was dispatched. Now an attempt older than the job's `attempts` writes nothing and
-- is left out of the result; the worker then asks again on its own and is refused (STALE_ATTEMPT),
-- as the executor's own effect writes are. A job id without a job row has no newer attempt.
CREATE OR REPLACE FUNCTION fairway_record_synthetic_effects(p_tenant text, p_effects jsonb)
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
    -- Fenced like the completion: an attempt older than the job's current one writes nothing.
    WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = ANY(ids) AND j.id = v.job_id AND j.attempts > v.attempt)
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


-- Down Migration
CREATE OR REPLACE FUNCTION fairway_record_synthetic_effects(p_tenant text, p_effects jsonb)
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

