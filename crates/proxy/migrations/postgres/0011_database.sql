-- A team's own database: its read-only connection string (a secret, never
-- in an answer: the API shows it masked) and its plan's size in MB.
ALTER TABLE projects ADD COLUMN database_url TEXT;
ALTER TABLE projects ADD COLUMN database_size_limit_mb BIGINT;
