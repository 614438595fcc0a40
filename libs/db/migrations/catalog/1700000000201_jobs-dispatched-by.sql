-- Up Migration

-- Which scheduler replica dispatched the job's current attempt: operators see where work ran, and
-- the tests see that replicas share it.
ALTER TABLE jobs ADD COLUMN dispatched_by text;

-- Down Migration
ALTER TABLE jobs DROP COLUMN dispatched_by;
