-- Each playbook endpoint's path as Render counts its requests (`/api/calls`),
-- for the host's own latency per endpoint (`render.latency`).
ALTER TABLE projects ADD COLUMN render_paths TEXT NOT NULL DEFAULT '{}';
