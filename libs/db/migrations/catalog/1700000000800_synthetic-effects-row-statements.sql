-- Up Migration

-- The worker's group commit of synthetic effects (issue #14), same signature, same answers, same
-- fencing as migration 611, a fifth of its PostgreSQL CPU. Migration 611's one statement of five
-- CTEs (two of them writes, materialized, hash-joined) cost ~0.3 ms of server CPU per call, and a
-- turn's batch holds about one job per tenant, so per job: the executor's start-up and shut-down
-- of that plan, not the rows, was most of the server's CPU per no-op job (docs/benchmarks.md,
-- bench:dispatch). Two plain primary-key statements per job, each a plan cached once per
-- connection, cost ~0.15 ms per job for the whole transaction (the same turns replayed).
--
-- Per job, as before:
--   * the effect is inserted unless the job's current attempt is newer than this one (the fence),
--     once per job id (ON CONFLICT on the primary key): applied = true;
--   * otherwise the effect an earlier attempt stored is answered (applied = false); if there is
--     none this attempt is stale or its effect invisible, and it is left out of the result: the
--     worker asks again on its own and is refused (STALE_ATTEMPT), as the executor's own writes are;
--   * the job is marked succeeded with the stored effect only while this attempt holds it
--     (attempts = this attempt, state running): job_completed.
-- Row-level security and the offboarding guard of migration 621 see every row exactly as before:
-- the function still runs as its caller (SECURITY INVOKER) with app.tenant_id set to p_tenant.
-- Each statement reads a fresh snapshot (READ COMMITTED), so an effect another transaction
-- committed meanwhile is now answered instead of left out, and two attempts of one job in one call
-- both get the one stored effect.
CREATE OR REPLACE FUNCTION fairway_record_synthetic_effects(p_tenant text, p_effects jsonb)
RETURNS TABLE (effect_job_id uuid, effect_attempt integer, effect_json text, effect_applied boolean, job_completed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  e record;
  v_observed jsonb;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant, true);
  FOR e IN SELECT * FROM jsonb_to_recordset(p_effects) AS x("jobId" uuid, attempt integer, observed jsonb) LOOP
    v_observed := e.observed || jsonb_build_object('dbSessionTenant', current_setting('app.tenant_id', true));
    INSERT INTO job_effects (job_id, tenant_id, attempt, observed)
    SELECT e."jobId", p_tenant, e.attempt, v_observed
    -- Fenced like the completion: an attempt older than the job's current one writes nothing.
    WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = e."jobId" AND j.attempts > e.attempt)
    ON CONFLICT (job_id) DO NOTHING;
    effect_applied := FOUND;
    IF NOT effect_applied THEN
      SELECT je.observed INTO v_observed FROM job_effects je WHERE je.job_id = e."jobId";
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


