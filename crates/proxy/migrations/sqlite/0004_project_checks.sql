-- Settings the live checks and actions need: the Sentry team a created
-- project joins, the Sentry transaction of each endpoint (a JSON object,
-- endpoint to transaction name) and where backup verification is read.
ALTER TABLE projects ADD COLUMN sentry_team TEXT;
ALTER TABLE projects ADD COLUMN transactions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN backup_status_url TEXT;
