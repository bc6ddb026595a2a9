-- A page of the frontend, sampled with the health URLs and judged on its
-- status and load time (seed 003: pages load within 2 s).
ALTER TABLE projects ADD COLUMN frontend_url TEXT;
