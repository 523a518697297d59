-- v2: Add created_at and an index on name
ALTER TABLE thing ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX thing_name_idx ON thing (name);
-- only: postgres
COMMENT ON TABLE thing IS 'things, with a comment only PostgreSQL can store';
