//! The store: the embedded SQLite file under the data directory (the
//! default), or a PostgreSQL database that several replicas share
//! (`--database-url`).
//!
//! One interface, two engines. The SQL is written once where both dialects
//! agree (`$n` placeholders, `RETURNING`, `ON CONFLICT`): [`with_pool!`]
//! runs it on whichever pool the store has, and the compiler checks it
//! against both drivers. Where they differ (a page of the log as one JSON
//! row, an append's lock and notification) each engine has its own query.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::api::Role;
use domain::errors::ErrorPoint;
use domain::health::Sample;
use domain::project::{Platform, Project};
use domain::run::{Change, Entry};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::lock;
use crate::secret::Secret;
use postgres::Engine as _;

pub mod copy;
pub mod postgres;

const FILE_NAME: &str = "watchpost.db";

/// The SQLite store's schema, in order; a restore refuses a newer one.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Runs `$body` with `$pool` bound to the store's pool, whichever engine it
/// is: one query text, compiled against both drivers.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// The engine under the store.
#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// Every request reads its session and most read their project: with
    /// SQLite they are kept in memory once read, changed here with the
    /// table, so that a request does not wait for SQLite (measured by
    /// `scripts/bench`); that process is the store's only writer. With
    /// PostgreSQL other replicas write too, so every read asks the database.
    cache: Option<Cache>,
    /// Counts the changes to the list of projects (created, renamed,
    /// archived, any setting), for the open project lists to read again.
    projects_changed: Arc<watch::Sender<u64>>,
    /// What entries are stamped with.
    clock: Clock,
    /// Names this store's notifications to other replicas (PostgreSQL).
    writer: String,
}

/// The sessions and projects read so far (SQLite only).
#[derive(Debug, Clone, Default)]
struct Cache {
    sessions: Arc<Mutex<HashMap<Vec<u8>, StoredSession>>>,
    projects: Arc<Mutex<HashMap<i64, Project>>>,
}

impl Store {
    /// Opens (creating when needed) the store in `data_dir` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self, sqlx::Error> {
        std::fs::create_dir_all(data_dir)?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(FILE_NAME))
            .create_if_missing(true)
            // WAL lets readers proceed during a write; NORMAL keeps every committed
            // write across a crash of the process (only power loss can cost the last ones).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            // 128 KiB of page cache per connection instead of SQLite's 2 MB:
            // reading a day of samples for 50 projects kept 14 MB resident
            // with the default, and 1.8 MB more at 512 KiB than at 128
            // (measured by `scripts/bench`), for no gain in speed, as the OS
            // caches the file too.
            .pragma("cache_size", "-128")
            .foreign_keys(true);
        // Two connections: WAL lets one read while the other writes. Each
        // keeps its prepared statements and page cache; four held 1.7 MB
        // more after 50 snapshots, for no gain measured by `scripts/bench`.
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store::on(Db::Sqlite(pool), Some(Cache::default())))
    }

    fn on(db: Db, cache: Option<Cache>) -> Self {
        Store {
            db,
            cache,
            projects_changed: Arc::new(watch::Sender::new(0)),
            clock: Clock::default(),
            writer: postgres::writer_id(),
        }
    }

    /// Whether several replicas may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Marks a change to the projects made by another replica.
    pub fn projects_changed_elsewhere(&self) {
        self.projects_changed.send_modify(|changes| *changes += 1);
    }

    /// The store, stamping entries by `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Whether the store answers a query, for the health endpoint.
    pub async fn ping(&self) -> bool {
        let query = async {
            with_pool!(&self.db, |pool| sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(drop))
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), query).await,
            Ok(Ok(()))
        )
    }

    /// Closes every connection; later queries fail. Used at shutdown.
    pub async fn close(&self) {
        with_pool!(&self.db, |pool| pool.close().await);
    }

    pub async fn projects(&self) -> Result<Vec<Project>, sqlx::Error> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY archived, id");
        let rows: Vec<ProjectRow> = with_pool!(&self.db, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(ProjectRow::into_project).collect()
    }

    pub async fn project(&self, id: i64) -> Result<Option<Project>, sqlx::Error> {
        if let Some(project) = self.cached(|cache| lock(&cache.projects).get(&id).cloned()) {
            return Ok(Some(project));
        }
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1");
        let row: Option<ProjectRow> = with_pool!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        let project = row.map(ProjectRow::into_project).transpose()?;
        if let (Some(project), Some(cache)) = (&project, &self.cache) {
            lock(&cache.projects).insert(id, project.clone());
        }
        Ok(project)
    }

    /// What the SQLite cache holds, if the store keeps one.
    fn cached<T>(&self, read: impl FnOnce(&Cache) -> Option<T>) -> Option<T> {
        self.cache.as_ref().and_then(read)
    }

    /// Stores a new project; its `id` is assigned here.
    pub async fn create_project(&self, project: &Project) -> Result<Project, sqlx::Error> {
        let created_at = self.clock.now_rfc3339();
        let id: i64 = with_pool!(&self.db, |pool| {
            sqlx::query_scalar(
            "INSERT INTO projects (name, created_at, timezone) VALUES ($1, $2, 'UTC') RETURNING id"
        )
        .bind(&project.name)
        .bind(&created_at)
        .fetch_one(pool)
        .await?
        });
        let project = Project {
            id,
            ..project.clone()
        };
        self.update_project(&project).await?;
        Ok(project)
    }

    pub async fn update_project(&self, project: &Project) -> Result<(), sqlx::Error> {
        self.save_project(project, None).await
    }

    /// Stores `project`'s settings and, when given, its database's
    /// connection string (`Some(None)` forgets it), in one transaction.
    pub async fn save_project(
        &self,
        project: &Project,
        database_url: Option<Option<&Secret>>,
    ) -> Result<(), sqlx::Error> {
        let json = |value: Result<String, serde_json::Error>, empty: &str| {
            value.unwrap_or_else(|_| empty.to_owned())
        };
        let health_urls = json(serde_json::to_string(&project.health_urls), "[]");
        let transactions = json(serde_json::to_string(&project.transactions), "{}");
        let critical = json(serde_json::to_string(&project.critical), "[]");
        let conditions = json(serde_json::to_string(&project.health_conditions), "[]");
        let render_paths = json(serde_json::to_string(&project.render_paths), "{}");
        with_pool!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(url) = database_url {
                sqlx::query("UPDATE projects SET database_url = $1 WHERE id = $2")
                    .bind(url.map(Secret::expose))
                    .bind(project.id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE projects SET name = $1, archived = $2, sentry_org = $3, sentry_project = $4,
                    sentry_frontend_project = $5, render_service_id = $6, health_urls = $7,
                    platform = $8, slack_channel = $9, timezone = $10, sentry_team = $11,
                    transactions = $12, backup_status_url = $13, critical = $14,
                    health_conditions = $15, backup_min_mb = $16, sentry_environment = $17,
                    render_paths = $18, database_size_limit_mb = $19,
                    plan_errors_per_month = $20, plan_transactions_per_month = $21,
                    frontend_url = $22
                 WHERE id = $23",
            )
            .bind(&project.name)
            .bind(project.archived)
            .bind(&project.sentry_org)
            .bind(&project.sentry_project)
            .bind(&project.sentry_frontend_project)
            .bind(&project.render_service_id)
            .bind(&health_urls)
            .bind(project.platform.map(Platform::name))
            .bind(&project.slack_channel)
            .bind(&project.timezone)
            .bind(&project.sentry_team)
            .bind(&transactions)
            .bind(&project.backup_status_url)
            .bind(&critical)
            .bind(&conditions)
            .bind(project.backup_min_mb.map(i64::from))
            .bind(&project.sentry_environment)
            .bind(&render_paths)
            .bind(project.database_size_limit_mb.map(i64::from))
            .bind(project.plan_errors_per_month.map(i64::from))
            .bind(project.plan_transactions_per_month.map(i64::from))
            .bind(&project.frontend_url)
            .bind(project.id)
            .execute(&mut *tx)
            .await?;
            tx.notify(postgres::PROJECTS, &self.writer, project.id)
                .await?;
            tx.commit().await?;
        });
        if let Some(cache) = &self.cache {
            lock(&cache.projects).insert(project.id, project.clone());
        }
        self.projects_changed.send_modify(|changes| *changes += 1);
        Ok(())
    }

    /// The connection string of `project`'s database, whole: for the
    /// database checks alone.
    pub async fn database_url(&self, project: i64) -> Result<Option<Secret>, sqlx::Error> {
        let url: Option<Option<String>> = with_pool!(&self.db, |pool| sqlx::query_scalar(
            "SELECT database_url FROM projects WHERE id = $1"
        )
        .bind(project)
        .fetch_optional(pool)
        .await?);
        Ok(url.flatten().map(Secret::new))
    }

    /// Marks each change to the projects from now on.
    pub fn watch_projects(&self) -> watch::Receiver<u64> {
        self.projects_changed.subscribe()
    }

    /// Appends an entry unless the project already has one with its `op_id`.
    /// Returns the stored entry and whether it is new.
    pub async fn append(
        &self,
        project: i64,
        op_id: &str,
        change: &Change,
        actor: &str,
    ) -> Result<(Entry, bool), sqlx::Error> {
        let mut stored = self
            .append_many(&[NewRow {
                project,
                op_id,
                change,
                actor,
            }])
            .await?;
        stored
            .pop()
            .ok_or_else(|| sqlx::Error::Protocol("an append stored nothing".to_owned()))
    }

    /// Appends entries in one statement (a group commit: one write for every
    /// append waiting at once), each unless its project already has its
    /// `op_id`. Returns, in order, each stored entry and whether it is new.
    ///
    /// On PostgreSQL the transaction first takes each project's advisory
    /// lock, so that another replica's append to the same project commits
    /// wholly before or after it: a project's ids are committed in order,
    /// and a stream resuming after an id never skips one. It tells the
    /// other replicas with a notification as it commits.
    pub async fn append_many(
        &self,
        rows: &[NewRow<'_>],
    ) -> Result<Vec<(Entry, bool)>, sqlx::Error> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let at = self.clock.now_rfc3339();
        let sql = format!(
            "INSERT INTO entries (project_id, op_id, kind, payload, actor, at) VALUES {}
             ON CONFLICT (project_id, op_id) DO NOTHING
             RETURNING id, project_id, op_id",
            values(rows.len(), 6)
        );
        let payloads: Vec<String> = rows.iter().map(|row| payload_json(row.change)).collect();
        let mut projects: Vec<i64> = rows.iter().map(|row| row.project).collect();
        projects.sort_unstable();
        projects.dedup();
        let inserted: Vec<(i64, i64, String)> = with_pool!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            for project in &projects {
                tx.lock_log(*project).await?;
            }
            let mut insert = sqlx::query_as(&sql);
            for (row, payload) in rows.iter().zip(&payloads) {
                insert = insert
                    .bind(row.project)
                    .bind(row.op_id)
                    .bind(row.change.kind())
                    .bind(payload)
                    .bind(row.actor)
                    .bind(&at);
            }
            let inserted: Vec<(i64, i64, String)> = insert.fetch_all(&mut *tx).await?;
            let mut told: Vec<i64> = inserted.iter().map(|(_, project, _)| *project).collect();
            told.sort_unstable();
            told.dedup();
            for project in told {
                tx.notify(postgres::ENTRIES, &self.writer, project).await?;
            }
            tx.commit().await?;
            inserted
        });
        let inserted: HashMap<(i64, String), i64> = inserted
            .into_iter()
            .map(|(id, project, op_id)| ((project, op_id), id))
            .collect();
        let mut stored = Vec::with_capacity(rows.len());
        let mut claimed = std::collections::HashSet::new();
        for row in rows {
            let key = (row.project, row.op_id.to_owned());
            // The same op_id twice in one batch: the first is the new one.
            match inserted.get(&key).filter(|_| claimed.insert(key.clone())) {
                Some(id) => stored.push((
                    Entry {
                        id: *id as u64,
                        op_id: row.op_id.to_owned(),
                        actor: row.actor.to_owned(),
                        at: at.clone(),
                        change: row.change.clone(),
                    },
                    true,
                )),
                None => {
                    let sql = format!(
                        "SELECT {ENTRY_COLUMNS} FROM entries WHERE project_id = $1 AND op_id = $2"
                    );
                    let existing: EntryRow = with_pool!(&self.db, |pool| sqlx::query_as(&sql)
                        .bind(row.project)
                        .bind(row.op_id)
                        .fetch_one(pool)
                        .await?);
                    stored.push((existing.into_entry()?, false));
                }
            }
        }
        Ok(stored)
    }

    /// A project's entries after `after`, oldest first, at most `limit`.
    ///
    /// The database makes the page one JSON array in the API's entry form:
    /// one row instead of thousands keeps sqlx's per-row cost (about 10 µs)
    /// out of folding and replaying long logs.
    pub async fn entries(
        &self,
        project: i64,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let sql = match self.db {
            Db::Sqlite(_) => {
                "SELECT json_group_array(json_object(
                     'id', id, 'op_id', op_id, 'actor', actor, 'at', at,
                     'kind', kind, 'payload', json(payload)))
                 FROM (SELECT * FROM entries WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3)"
            }
            Db::Postgres(_) => {
                "SELECT coalesce(json_agg(json_build_object(
                     'id', id, 'op_id', op_id, 'actor', actor, 'at', at,
                     'kind', kind, 'payload', payload::json) ORDER BY id), '[]')::text
                 FROM (SELECT * FROM entries WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3) page"
            }
        };
        let json: String = with_pool!(&self.db, |pool| sqlx::query_scalar(sql)
            .bind(project)
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_one(pool)
            .await?);
        let mut entries: Vec<Entry> =
            serde_json::from_str(&json).map_err(|err| sqlx::Error::Decode(err.into()))?;
        // SQLite's aggregate keeps the subquery's order; do not rely on it.
        entries.sort_unstable_by_key(|entry| entry.id);
        Ok(entries)
    }

    /// Calls `visit` with each of a project's entries after `after`, oldest
    /// first, a page at a time: folding a long log at start-up.
    pub async fn each_entry(
        &self,
        project: i64,
        mut after: u64,
        mut visit: impl FnMut(Entry),
    ) -> Result<(), sqlx::Error> {
        loop {
            let page = self.entries(project, after, READ_PAGE).await?;
            let done = page.len() < READ_PAGE as usize;
            for entry in page {
                after = entry.id;
                visit(entry);
            }
            if done {
                return Ok(());
            }
        }
    }

    /// The id of a project's last entry (0 for none).
    pub async fn last_entry_id(&self, project: i64) -> Result<u64, sqlx::Error> {
        let id: Option<i64> = with_pool!(&self.db, |pool| sqlx::query_scalar(
            "SELECT max(id) FROM entries WHERE project_id = $1"
        )
        .bind(project)
        .fetch_one(pool)
        .await?);
        Ok(id.map_or(0, |id| id as u64))
    }

    /// Stores one round of health probes of a project.
    pub async fn add_samples(
        &self,
        project: i64,
        samples: &[(String, Sample)],
    ) -> Result<(), sqlx::Error> {
        if samples.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO health_samples (project_id, url, at, ok, status, latency_ms, uptime, failing) VALUES {}",
            values(samples.len(), 8)
        );
        with_pool!(&self.db, |pool| {
            let mut insert = sqlx::query(&sql);
            for (url, sample) in samples {
                insert = insert
                    .bind(project)
                    .bind(url)
                    .bind(sample.at)
                    .bind(sample.ok)
                    .bind(i64::from(sample.status))
                    .bind(sample.latency_ms.map(i64::from))
                    .bind(
                        sample
                            .uptime
                            .map(|uptime| uptime.min(i64::MAX as u64) as i64),
                    )
                    .bind(&sample.failing);
            }
            insert.execute(pool).await?;
        });
        Ok(())
    }

    /// A project's samples from `from` to `to` (Unix ms), oldest first, with
    /// their URL. One JSON row, as for entries: a day of samples is
    /// thousands of rows, and sqlx's per-row cost would dominate.
    pub async fn samples(
        &self,
        project: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, Sample)>, sqlx::Error> {
        let sql = match self.db {
            Db::Sqlite(_) => {
                "SELECT json_group_array(json_array(url, json_array(at, json(iif(ok, 'true', 'false')), status, latency_ms, uptime, failing)))
                 FROM (SELECT * FROM health_samples WHERE project_id = $1 AND at >= $2 AND at <= $3 ORDER BY at)"
            }
            Db::Postgres(_) => {
                "SELECT coalesce(json_agg(json_build_array(url, json_build_array(at, ok, status, latency_ms, uptime, failing)) ORDER BY at), '[]')::text
                 FROM health_samples WHERE project_id = $1 AND at >= $2 AND at <= $3"
            }
        };
        let json: String = with_pool!(&self.db, |pool| sqlx::query_scalar(sql)
            .bind(project)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?);
        let rows: Vec<(String, JsonSample)> =
            serde_json::from_str(&json).map_err(|err| sqlx::Error::Decode(err.into()))?;
        let mut samples: Vec<(String, Sample)> = rows
            .into_iter()
            .map(|(url, (at, ok, status, latency_ms, uptime, failing))| {
                (
                    url,
                    sample_of((
                        at,
                        ok,
                        status.into(),
                        latency_ms.map(i64::from),
                        uptime,
                        failing,
                    )),
                )
            })
            .collect();
        samples.sort_by_key(|(_, sample)| sample.at);
        Ok(samples)
    }

    /// The last `count` samples of one URL, oldest first: what the sampler
    /// resumes from after a restart.
    pub async fn last_samples(
        &self,
        project: i64,
        url: &str,
        count: u32,
    ) -> Result<Vec<Sample>, sqlx::Error> {
        let rows: Vec<SampleRow> = with_pool!(&self.db, |pool| sqlx::query_as(
            "SELECT at, ok, status, latency_ms, uptime, failing FROM health_samples
             WHERE project_id = $1 AND url = $2 ORDER BY at DESC LIMIT $3",
        )
        .bind(project)
        .bind(url)
        .bind(i64::from(count))
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().rev().map(sample_of).collect())
    }

    /// Stores one error-watch round's readings, one per project.
    pub async fn add_error_points(&self, points: &[(i64, ErrorPoint)]) -> Result<(), sqlx::Error> {
        if points.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO error_points (project_id, at, window_seconds, transactions, failure_percent, errors_this_hour) VALUES {}",
            values(points.len(), 6)
        );
        with_pool!(&self.db, |pool| {
            let mut insert = sqlx::query(&sql);
            for (project, point) in points {
                insert = insert
                    .bind(project)
                    .bind(point.at)
                    .bind(i64::from(point.window_seconds))
                    .bind(i64::try_from(point.transactions).unwrap_or(i64::MAX))
                    .bind(point.failure_percent)
                    .bind(
                        point
                            .errors_this_hour
                            .map(|errors| i64::try_from(errors).unwrap_or(i64::MAX)),
                    );
            }
            insert.execute(pool).await?;
        });
        Ok(())
    }

    /// The error watch's readings of a project from `from` to `to` (Unix
    /// seconds), oldest first.
    pub async fn error_points(
        &self,
        project: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<ErrorPoint>, sqlx::Error> {
        type Row = (i64, i64, i64, f64, Option<i64>);
        let rows: Vec<Row> = with_pool!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT at, window_seconds, transactions, failure_percent, errors_this_hour FROM error_points
             WHERE project_id = $1 AND at >= $2 AND at <= $3 ORDER BY at",
        )
        .bind(project)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(at, window_seconds, transactions, failure_percent, errors)| ErrorPoint {
                    at,
                    window_seconds: u32::try_from(window_seconds).unwrap_or(u32::MAX),
                    transactions: u64::try_from(transactions).unwrap_or(0),
                    failure_percent,
                    errors_this_hour: errors.and_then(|errors| u64::try_from(errors).ok()),
                },
            )
            .collect())
    }

    /// The projects whose log has started a watch.
    pub async fn watched_projects(&self) -> Result<Vec<i64>, sqlx::Error> {
        with_pool!(&self.db, |pool| sqlx::query_scalar(
            "SELECT DISTINCT project_id FROM entries WHERE kind = 'watch_scheduled'",
        )
        .fetch_all(pool)
        .await)
    }

    /// A project's entries of the given kinds, oldest first (the health
    /// changes of a window, for instance), read with an index on kind.
    pub async fn entries_of_kinds(
        &self,
        project: i64,
        kinds: &[&str],
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let marks: Vec<String> = (2..kinds.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE project_id = $1 AND kind IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let rows: Vec<EntryRow> = with_pool!(&self.db, |pool| {
            let mut query = sqlx::query_as(&sql).bind(project);
            for kind in kinds {
                query = query.bind(*kind);
            }
            query.fetch_all(pool).await?
        });
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    pub async fn create_session(
        &self,
        token_digest: &[u8],
        session: &StoredSession,
    ) -> Result<(), sqlx::Error> {
        // Each sign-in is a chance to forget sessions that have ended.
        let now = self.clock.real_now();
        with_pool!(&self.db, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_digest, name, role, expires_at, source) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_digest)
            .bind(&session.name)
            .bind(session.role.name())
            .bind(session.expires_at)
            .bind(&session.source)
            .execute(pool)
            .await?;
        });
        if let Some(cache) = &self.cache {
            let mut sessions = lock(&cache.sessions);
            sessions.retain(|_, session| session.expires_at > now);
            sessions.insert(token_digest.to_vec(), session.clone());
        }
        Ok(())
    }

    /// A session that has not expired.
    pub async fn session(&self, token_digest: &[u8]) -> Result<Option<StoredSession>, sqlx::Error> {
        let now = self.clock.real_now();
        if let Some(session) = self.cached(|cache| lock(&cache.sessions).get(token_digest).cloned())
        {
            return Ok((session.expires_at > now).then_some(session));
        }
        let row: Option<(String, String, i64, Option<String>)> =
            with_pool!(&self.db, |pool| sqlx::query_as(
                "SELECT name, role, expires_at, source FROM sessions
                 WHERE token_digest = $1 AND expires_at > $2",
            )
            .bind(token_digest)
            .bind(now)
            .fetch_optional(pool)
            .await?);
        let session = row.and_then(|(name, role, expires_at, source)| {
            Some(StoredSession {
                name,
                role: Role::from_name(&role)?,
                expires_at,
                source: source.unwrap_or_default(),
            })
        });
        if let (Some(session), Some(cache)) = (&session, &self.cache) {
            lock(&cache.sessions).insert(token_digest.to_vec(), session.clone());
        }
        Ok(session)
    }

    /// How many sessions have not expired.
    pub async fn live_sessions(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.real_now();
        let count: i64 = with_pool!(&self.db, |pool| sqlx::query_scalar(
            "SELECT count(*) FROM sessions WHERE expires_at > $1"
        )
        .bind(now)
        .fetch_one(pool)
        .await?);
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Every session's digest, name, grant source and role, ended ones included.
    pub async fn session_grants(&self) -> Result<Vec<SessionGrant>, sqlx::Error> {
        let rows: Vec<(Vec<u8>, String, Option<String>, String)> =
            with_pool!(&self.db, |pool| sqlx::query_as(
                "SELECT token_digest, name, source, role FROM sessions",
            )
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(digest, name, source, role)| {
                (
                    digest,
                    name,
                    source.unwrap_or_default(),
                    Role::from_name(&role),
                )
            })
            .collect())
    }

    pub async fn set_session_role(
        &self,
        token_digest: &[u8],
        role: Role,
    ) -> Result<(), sqlx::Error> {
        with_pool!(&self.db, |pool| sqlx::query(
            "UPDATE sessions SET role = $1 WHERE token_digest = $2"
        )
        .bind(role.name())
        .bind(token_digest)
        .execute(pool)
        .await
        .map(drop))?;
        if let Some(cache) = &self.cache
            && let Some(session) = lock(&cache.sessions).get_mut(token_digest)
        {
            session.role = role;
        }
        Ok(())
    }

    pub async fn delete_session(&self, token_digest: &[u8]) -> Result<(), sqlx::Error> {
        with_pool!(&self.db, |pool| sqlx::query(
            "DELETE FROM sessions WHERE token_digest = $1"
        )
        .bind(token_digest)
        .execute(pool)
        .await
        .map(drop))?;
        if let Some(cache) = &self.cache {
            lock(&cache.sessions).remove(token_digest);
        }
        Ok(())
    }
}

/// `rows` groups of `columns` numbered placeholders: `($1, $2), ($3, $4)`.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let marks: Vec<String> = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A session's token digest, name, grant source and role.
pub type SessionGrant = (Vec<u8>, String, String, Option<Role>);

/// An entry to append: to which project, under which op id, by whom.
#[derive(Debug, Clone, Copy)]
pub struct NewRow<'a> {
    pub project: i64,
    pub op_id: &'a str,
    pub change: &'a Change,
    pub actor: &'a str,
}

/// A signed-in person as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub name: String,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: i64,
    /// The grant it came from (see `auth`); empty for sessions older than grants.
    pub source: String,
}

/// A health sample as the table holds it: at, ok, status, latency_ms, uptime, failing.
type SampleRow = (i64, bool, i64, Option<i64>, Option<i64>, String);

/// The same, as a page of samples' JSON holds it.
type JsonSample = (i64, bool, u16, Option<u32>, Option<i64>, String);

fn sample_of((at, ok, status, latency_ms, uptime, failing): SampleRow) -> Sample {
    Sample {
        at,
        ok,
        status: u16::try_from(status).unwrap_or(0),
        latency_ms: latency_ms.and_then(|ms| u32::try_from(ms).ok()),
        uptime: uptime.and_then(|uptime| u64::try_from(uptime).ok()),
        failing,
    }
}

const PROJECT_COLUMNS: &str = "id, name, archived, sentry_org, sentry_project, \
    sentry_frontend_project, render_service_id, health_urls, platform, slack_channel, timezone, \
    sentry_team, transactions, backup_status_url, critical, health_conditions, backup_min_mb, \
    sentry_environment, render_paths, database_url, database_size_limit_mb, \
    plan_errors_per_month, plan_transactions_per_month, frontend_url";

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: i64,
    name: String,
    archived: bool,
    sentry_org: Option<String>,
    sentry_project: Option<String>,
    sentry_frontend_project: Option<String>,
    render_service_id: Option<String>,
    health_urls: String,
    platform: Option<String>,
    slack_channel: Option<String>,
    timezone: String,
    sentry_team: Option<String>,
    transactions: String,
    backup_status_url: Option<String>,
    critical: String,
    health_conditions: String,
    backup_min_mb: Option<i64>,
    sentry_environment: Option<String>,
    render_paths: String,
    database_url: Option<String>,
    database_size_limit_mb: Option<i64>,
    plan_errors_per_month: Option<i64>,
    plan_transactions_per_month: Option<i64>,
    frontend_url: Option<String>,
}

impl ProjectRow {
    fn into_project(self) -> Result<Project, sqlx::Error> {
        let json = |text: &str| -> Result<Vec<String>, sqlx::Error> {
            serde_json::from_str(text).map_err(|err| sqlx::Error::Decode(err.into()))
        };
        let health_urls = json(&self.health_urls)?;
        let mapping =
            |text: &str| serde_json::from_str(text).map_err(|err| sqlx::Error::Decode(err.into()));
        Ok(Project {
            id: self.id,
            name: self.name,
            archived: self.archived,
            sentry_org: self.sentry_org,
            sentry_project: self.sentry_project,
            sentry_frontend_project: self.sentry_frontend_project,
            render_service_id: self.render_service_id,
            health_urls,
            platform: self.platform.as_deref().and_then(Platform::from_name),
            slack_channel: self.slack_channel,
            timezone: self.timezone,
            sentry_team: self.sentry_team,
            sentry_environment: self.sentry_environment,
            transactions: mapping(&self.transactions)?,
            render_paths: mapping(&self.render_paths)?,
            // Only masked: the whole string is read by `database_url` alone.
            database: self.database_url.as_deref().map(domain::database::masked),
            database_size_limit_mb: self
                .database_size_limit_mb
                .and_then(|n| u32::try_from(n).ok()),
            plan_errors_per_month: self
                .plan_errors_per_month
                .and_then(|n| u32::try_from(n).ok()),
            plan_transactions_per_month: self
                .plan_transactions_per_month
                .and_then(|n| u32::try_from(n).ok()),
            frontend_url: self.frontend_url,
            backup_status_url: self.backup_status_url,
            backup_min_mb: self.backup_min_mb.and_then(|n| u32::try_from(n).ok()),
            critical: json(&self.critical)?,
            health_conditions: json(&self.health_conditions)?,
        })
    }
}

/// Entries per read when walking a whole log.
pub const READ_PAGE: u32 = 5_000;

const ENTRY_COLUMNS: &str = "id, op_id, kind, payload, actor, at";

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    op_id: String,
    kind: String,
    payload: String,
    actor: String,
    at: String,
}

impl EntryRow {
    fn into_entry(self) -> Result<Entry, sqlx::Error> {
        let tagged = format!(
            r#"{{"kind":{},"payload":{}}}"#,
            serde_json::Value::from(self.kind),
            self.payload
        );
        let change: Change =
            serde_json::from_str(&tagged).map_err(|err| sqlx::Error::Decode(err.into()))?;
        Ok(Entry {
            id: self.id as u64,
            op_id: self.op_id,
            actor: self.actor,
            at: self.at,
            change,
        })
    }
}

/// The `payload` half of a change's `{"kind","payload"}` form.
fn payload_json(change: &Change) -> String {
    serde_json::to_value(change)
        .ok()
        .and_then(|mut tagged| tagged.get_mut("payload").map(serde_json::Value::take))
        .unwrap_or_default()
        .to_string()
}
