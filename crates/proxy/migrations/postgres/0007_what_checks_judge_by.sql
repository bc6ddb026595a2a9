-- What the checks judge by, per project: the Sentry search terms that mark
-- a critical issue and the health conditions (JSON arrays of text; empty
-- means the seeds' defaults), and the smallest backup in MB (NULL: 100).
ALTER TABLE projects ADD COLUMN critical TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN health_conditions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN backup_min_mb BIGINT;
