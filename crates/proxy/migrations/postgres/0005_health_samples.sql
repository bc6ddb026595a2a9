-- The sampler's probes of each health URL while a watch is active: one
-- compact row per probe, outside the log (a day of 30-second samples is
-- 2,880 rows per URL, which the log's fold must never read).
CREATE TABLE health_samples (
    project_id BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    -- Unix milliseconds, by the server's clock.
    at         BIGINT  NOT NULL,
    ok         BOOLEAN NOT NULL,
    -- The HTTP status; 0 when nothing answered.
    status     BIGINT  NOT NULL,
    latency_ms BIGINT,
    -- The health answer's uptime, in seconds.
    uptime     BIGINT,
    -- The services reported down, or why the probe failed.
    failing    TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX health_samples_by_time ON health_samples (project_id, at);

-- A window's health changes and snapshots are read by kind, not by folding the log.
CREATE INDEX entries_by_kind ON entries (project_id, kind, id);
