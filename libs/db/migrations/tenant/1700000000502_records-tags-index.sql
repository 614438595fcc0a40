-- Up Migration

-- Reports aggregate per tag and the API filters by tag: a GIN index on the array.
CREATE INDEX records_tags ON records USING gin (tags);

-- Down Migration
DROP INDEX records_tags;
