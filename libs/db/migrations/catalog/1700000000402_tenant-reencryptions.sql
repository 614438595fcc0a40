-- Up Migration

-- Where each tenant's latest re-encryption stands (libs/crypto, reencryption.ts): after a data key
-- rotation, every value of the tenant is rewritten under the new key version, in batches, by a
-- background run on one edge replica. The state lives here, not in that replica's memory, so any
-- replica answers GET .../keys/reencryption, a second rotation is refused while one runs, and a
-- run whose replica died is resumed from its per-table cursors. One row per tenant: the history
-- of runs is in the audit trail (data-key.rotate, data-key.reencrypt).
--
-- run_id fences the runner: every progress write names it, so a run that was taken over (its
-- heartbeat went stale) stops at its next batch instead of overwriting its successor's progress.
-- tables: {"<target>": {"scanned": n, "reencrypted": n, "after": "<last key>" | null, "done": bool}}.
CREATE TABLE tenant_reencryptions (
  tenant_id      text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  run_id         uuid NOT NULL,
  state          text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  to_key_version integer NOT NULL CHECK (to_key_version >= 1),
  scanned        bigint NOT NULL DEFAULT 0 CHECK (scanned >= 0),
  reencrypted    bigint NOT NULL DEFAULT 0 CHECK (reencrypted >= 0),
  passes         integer NOT NULL DEFAULT 0 CHECK (passes >= 0),
  tables         jsonb NOT NULL DEFAULT '{}',
  started_by     text NOT NULL CHECK (length(started_by) BETWEEN 1 AND 200),
  started_at     timestamptz NOT NULL DEFAULT now(),
  heartbeat_at   timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  error          text,
  CHECK ((state = 'running') = (finished_at IS NULL)),
  CHECK ((state = 'failed') = (error IS NOT NULL))
);

-- Written and read by the admin plane only, as the owner (as tenant_keys' rewrap and shredding
-- are): the application role has no reason to see or change it.
REVOKE ALL ON tenant_reencryptions FROM PUBLIC;

-- Down Migration
DROP TABLE tenant_reencryptions;
