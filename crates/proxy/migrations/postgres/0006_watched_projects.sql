-- The watcher asks which projects have a watch every round: by kind first,
-- so that it never folds the runs of projects that have none.
CREATE INDEX entries_by_kind_first ON entries (kind, project_id);
