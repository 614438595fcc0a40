-- Up Migration

-- Live moves of a tenant's records between isolation models (issue #20 part 2; libs/tenant-move,
-- docs/data-isolation.md "Live moves between isolation models"). One row per move: where it stands
-- (state, phase), its cursors (the last record id copied, changes applied), what it measured, and a
-- heartbeat. The row, not the memory of the replica running it, is the truth: any control-plane
-- replica resumes a move whose heartbeat went stale, from its phase and cursors.
--
-- run_id fences the runner: every write of progress names it, so a runner that was taken over stops
-- at its next step instead of overwriting its successor's progress.
-- id names the move's change log entries in the source store, back_id those captured in the target
-- store after the switch (for the verification and a rollback).
CREATE TABLE tenant_moves (
  id           uuid PRIMARY KEY,
  back_id      uuid NOT NULL UNIQUE,
  tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  run_id       uuid NOT NULL,
  state        text NOT NULL CHECK (state IN ('running', 'done', 'failed', 'rolled-back')),
  phase        text NOT NULL CHECK (phase IN ('prepare', 'capture', 'copy', 'catch-up', 'fence', 'verify', 'grace', 'cleanup', 'rollback', 'finished')),
  source       jsonb NOT NULL,
  target       jsonb NOT NULL,
  copy_after   uuid,
  copied       bigint NOT NULL DEFAULT 0 CHECK (copied >= 0),
  source_rows  bigint,
  caught_up    bigint NOT NULL DEFAULT 0 CHECK (caught_up >= 0),
  catch_up_passes integer NOT NULL DEFAULT 0 CHECK (catch_up_passes >= 0),
  switched     boolean NOT NULL DEFAULT false,
  fence_ms     integer,
  verified     jsonb,
  phase_ms     jsonb NOT NULL DEFAULT '{}',
  grace_ms     bigint NOT NULL CHECK (grace_ms >= 0),
  grace_until  timestamptz,
  started_by   text NOT NULL CHECK (length(started_by) BETWEEN 1 AND 200),
  reason       text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  error        text,
  CHECK ((state = 'running') = (finished_at IS NULL))
);
-- One move of a tenant at a time.
CREATE UNIQUE INDEX tenant_moves_one_running ON tenant_moves (tenant_id) WHERE state = 'running';
CREATE INDEX tenant_moves_tenant ON tenant_moves (tenant_id, started_at DESC);

-- Written and read by the admin plane only, as the owner.
REVOKE ALL ON tenant_moves FROM PUBLIC;

-- Down Migration
DROP TABLE tenant_moves;
