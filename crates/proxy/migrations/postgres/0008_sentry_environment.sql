-- The Sentry environment a project's launch runs in (`production`): the
-- events check reads only its events. NULL reads every environment.
ALTER TABLE projects ADD COLUMN sentry_environment TEXT;
