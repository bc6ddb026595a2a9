-- Project settings, the run log, sessions and the cookie-signing key.

ALTER TABLE projects ADD COLUMN sentry_org TEXT;
ALTER TABLE projects ADD COLUMN sentry_project TEXT;
ALTER TABLE projects ADD COLUMN sentry_frontend_project TEXT;
ALTER TABLE projects ADD COLUMN render_service_id TEXT;
-- A JSON array of URLs.
ALTER TABLE projects ADD COLUMN health_urls TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN platform TEXT;
ALTER TABLE projects ADD COLUMN slack_channel TEXT;
ALTER TABLE projects ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE entries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    op_id      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    -- JSON, as the API sends it.
    payload    TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    UNIQUE (project_id, op_id)
);
CREATE INDEX entries_by_project ON entries (project_id, id);

CREATE TABLE sessions (
    -- SHA-256 of the token: the store alone cannot open a session.
    token_digest BLOB    PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    -- Unix seconds.
    expires_at   INTEGER NOT NULL
);

CREATE TABLE keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
