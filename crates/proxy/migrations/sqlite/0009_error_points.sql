-- The error watch's rounds while a watch runs: each project's share of
-- failed transactions since the round before and its errors of the hour,
-- outside the log (a day of
-- 5-minute rounds is 288 rows, which the log's fold must never read). Only
-- what they change, a crossing of the escalation's threshold, is logged.
CREATE TABLE error_points (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- Unix seconds, by the server's clock: the end of the window read.
    at INTEGER NOT NULL,
    window_seconds INTEGER NOT NULL,
    transactions INTEGER NOT NULL,
    failure_percent REAL NOT NULL,
    -- Accepted errors in the clock hour under way, so far; NULL when Sentry
    -- could not say.
    errors_this_hour INTEGER
);

CREATE INDEX error_points_by_time ON error_points (project_id, at);
