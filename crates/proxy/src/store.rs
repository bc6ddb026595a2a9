//! The embedded SQLite store under the data directory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::api::Role;
use domain::errors::ErrorPoint;
use domain::health::Sample;
use domain::project::{Platform, Project};
use domain::run::{Change, Entry};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::lock;
use crate::secret::Secret;

pub mod copy;

const FILE_NAME: &str = "watchpost.db";

/// The store's schema, in order; a restore refuses a newer one.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Every request reads its session and most read their project: kept in
    /// memory once read, changed here with the table, so that a request
    /// does not wait for SQLite (measured by `scripts/bench`). This process
    /// is the store's only writer.
    sessions: Arc<Mutex<HashMap<Vec<u8>, StoredSession>>>,
    projects: Arc<Mutex<HashMap<i64, Project>>>,
    /// Counts the changes to the list of projects (created, renamed,
    /// archived, any setting), for the open project lists to read again.
    projects_changed: Arc<watch::Sender<u64>>,
    /// What entries are stamped with.
    clock: Clock,
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
        Ok(Store {
            pool,
            sessions: Arc::default(),
            projects: Arc::default(),
            projects_changed: Arc::new(watch::Sender::new(0)),
            clock: Clock::default(),
        })
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
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), query).await,
            Ok(Ok(_))
        )
    }

    /// Closes every connection; later queries fail. Used at shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn projects(&self) -> Result<Vec<Project>, sqlx::Error> {
        let rows = sqlx::query_as::<_, ProjectRow>(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects ORDER BY archived, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ProjectRow::into_project).collect()
    }

    pub async fn project(&self, id: i64) -> Result<Option<Project>, sqlx::Error> {
        if let Some(project) = lock(&self.projects).get(&id) {
            return Ok(Some(project.clone()));
        }
        let row = sqlx::query_as::<_, ProjectRow>(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let project = row.map(ProjectRow::into_project).transpose()?;
        if let Some(project) = &project {
            lock(&self.projects).insert(id, project.clone());
        }
        Ok(project)
    }

    /// Stores a new project; its `id` is assigned here.
    pub async fn create_project(&self, project: &Project) -> Result<Project, sqlx::Error> {
        let id =
            sqlx::query("INSERT INTO projects (name, created_at, timezone) VALUES (?, ?, 'UTC')")
                .bind(&project.name)
                .bind(self.clock.now_rfc3339())
                .execute(&self.pool)
                .await?
                .last_insert_rowid();
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
        let mut tx = self.pool.begin().await?;
        if let Some(url) = database_url {
            sqlx::query("UPDATE projects SET database_url = ? WHERE id = ?")
                .bind(url.map(Secret::expose))
                .bind(project.id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE projects SET name = ?, archived = ?, sentry_org = ?, sentry_project = ?,
                sentry_frontend_project = ?, render_service_id = ?, health_urls = ?,
                platform = ?, slack_channel = ?, timezone = ?, sentry_team = ?,
                transactions = ?, backup_status_url = ?, critical = ?,
                health_conditions = ?, backup_min_mb = ?, sentry_environment = ?,
                render_paths = ?, database_size_limit_mb = ?,
                plan_errors_per_month = ?, plan_transactions_per_month = ?, frontend_url = ?
             WHERE id = ?",
        )
        .bind(&project.name)
        .bind(project.archived)
        .bind(&project.sentry_org)
        .bind(&project.sentry_project)
        .bind(&project.sentry_frontend_project)
        .bind(&project.render_service_id)
        .bind(serde_json::to_string(&project.health_urls).unwrap_or_else(|_| "[]".into()))
        .bind(project.platform.map(Platform::name))
        .bind(&project.slack_channel)
        .bind(&project.timezone)
        .bind(&project.sentry_team)
        .bind(serde_json::to_string(&project.transactions).unwrap_or_else(|_| "{}".into()))
        .bind(&project.backup_status_url)
        .bind(serde_json::to_string(&project.critical).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&project.health_conditions).unwrap_or_else(|_| "[]".into()))
        .bind(project.backup_min_mb)
        .bind(&project.sentry_environment)
        .bind(serde_json::to_string(&project.render_paths).unwrap_or_else(|_| "{}".into()))
        .bind(project.database_size_limit_mb)
        .bind(project.plan_errors_per_month)
        .bind(project.plan_transactions_per_month)
        .bind(&project.frontend_url)
        .bind(project.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        lock(&self.projects).insert(project.id, project.clone());
        self.projects_changed.send_modify(|changes| *changes += 1);
        Ok(())
    }

    /// The connection string of `project`'s database, whole: for the
    /// database checks alone.
    pub async fn database_url(&self, project: i64) -> Result<Option<Secret>, sqlx::Error> {
        let url: Option<Option<String>> =
            sqlx::query_scalar("SELECT database_url FROM projects WHERE id = ?")
                .bind(project)
                .fetch_optional(&self.pool)
                .await?;
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
    pub async fn append_many(
        &self,
        rows: &[NewRow<'_>],
    ) -> Result<Vec<(Entry, bool)>, sqlx::Error> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let at = self.clock.now_rfc3339();
        let values = vec!["(?, ?, ?, ?, ?, ?)"; rows.len()].join(", ");
        let sql = format!(
            "INSERT INTO entries (project_id, op_id, kind, payload, actor, at) VALUES {values}
             ON CONFLICT (project_id, op_id) DO NOTHING
             RETURNING id, project_id, op_id"
        );
        let mut insert = sqlx::query_as::<_, (i64, i64, String)>(&sql);
        for row in rows {
            insert = insert
                .bind(row.project)
                .bind(row.op_id)
                .bind(row.change.kind())
                .bind(payload_json(row.change))
                .bind(row.actor)
                .bind(&at);
        }
        let inserted: HashMap<(i64, String), i64> = insert
            .fetch_all(&self.pool)
            .await?
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
                    let existing = sqlx::query_as::<_, EntryRow>(&format!(
                        "SELECT {ENTRY_COLUMNS} FROM entries WHERE project_id = ? AND op_id = ?"
                    ))
                    .bind(row.project)
                    .bind(row.op_id)
                    .fetch_one(&self.pool)
                    .await?;
                    stored.push((existing.into_entry()?, false));
                }
            }
        }
        Ok(stored)
    }

    /// A project's entries after `after`, oldest first, at most `limit`.
    ///
    /// SQLite makes the page one JSON array in the API's entry form: one row
    /// instead of thousands keeps sqlx's per-row cost (about 10 µs) out of
    /// folding and replaying long logs.
    pub async fn entries(
        &self,
        project: i64,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let (json,): (String,) = sqlx::query_as(
            "SELECT json_group_array(json_object(
                 'id', id, 'op_id', op_id, 'actor', actor, 'at', at,
                 'kind', kind, 'payload', json(payload)))
             FROM (SELECT * FROM entries WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?)",
        )
        .bind(project)
        .bind(after as i64)
        .bind(limit)
        .fetch_one(&self.pool)
        .await?;
        let mut entries: Vec<Entry> =
            serde_json::from_str(&json).map_err(|err| sqlx::Error::Decode(err.into()))?;
        // The aggregate keeps the subquery's order in SQLite; do not rely on it.
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

    /// Stores one round of health probes of a project.
    pub async fn add_samples(
        &self,
        project: i64,
        samples: &[(String, Sample)],
    ) -> Result<(), sqlx::Error> {
        if samples.is_empty() {
            return Ok(());
        }
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; samples.len()].join(", ");
        let sql = format!(
            "INSERT INTO health_samples (project_id, url, at, ok, status, latency_ms, uptime, failing) VALUES {values}"
        );
        let mut insert = sqlx::query(&sql);
        for (url, sample) in samples {
            insert = insert
                .bind(project)
                .bind(url)
                .bind(sample.at)
                .bind(sample.ok)
                .bind(sample.status)
                .bind(sample.latency_ms)
                .bind(
                    sample
                        .uptime
                        .map(|uptime| uptime.min(i64::MAX as u64) as i64),
                )
                .bind(&sample.failing);
        }
        insert.execute(&self.pool).await?;
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
        let (json,): (String,) = sqlx::query_as(
            "SELECT json_group_array(json_array(url, json_array(at, json(iif(ok, 'true', 'false')), status, latency_ms, uptime, failing)))
             FROM (SELECT * FROM health_samples WHERE project_id = ? AND at >= ? AND at <= ? ORDER BY at)",
        )
        .bind(project)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let rows: Vec<(String, SampleRow)> =
            serde_json::from_str(&json).map_err(|err| sqlx::Error::Decode(err.into()))?;
        let mut samples: Vec<(String, Sample)> = rows
            .into_iter()
            .map(|(url, row)| (url, sample_of(row)))
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
        let rows: Vec<SampleRow> = sqlx::query_as(
            "SELECT at, ok, status, latency_ms, uptime, failing FROM health_samples
             WHERE project_id = ? AND url = ? ORDER BY at DESC LIMIT ?",
        )
        .bind(project)
        .bind(url)
        .bind(count)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().rev().map(sample_of).collect())
    }

    /// Stores one error-watch round's readings, one per project.
    pub async fn add_error_points(&self, points: &[(i64, ErrorPoint)]) -> Result<(), sqlx::Error> {
        if points.is_empty() {
            return Ok(());
        }
        let values = vec!["(?, ?, ?, ?, ?, ?)"; points.len()].join(", ");
        let sql = format!(
            "INSERT INTO error_points (project_id, at, window_seconds, transactions, failure_percent, errors_this_hour) VALUES {values}"
        );
        let mut insert = sqlx::query(&sql);
        for (project, point) in points {
            insert = insert
                .bind(project)
                .bind(point.at)
                .bind(point.window_seconds)
                .bind(i64::try_from(point.transactions).unwrap_or(i64::MAX))
                .bind(point.failure_percent)
                .bind(
                    point
                        .errors_this_hour
                        .map(|errors| i64::try_from(errors).unwrap_or(i64::MAX)),
                );
        }
        insert.execute(&self.pool).await?;
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
        type Row = (i64, u32, i64, f64, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT at, window_seconds, transactions, failure_percent, errors_this_hour FROM error_points
             WHERE project_id = ? AND at >= ? AND at <= ? ORDER BY at",
        )
        .bind(project)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(at, window_seconds, transactions, failure_percent, errors)| ErrorPoint {
                    at,
                    window_seconds,
                    transactions: u64::try_from(transactions).unwrap_or(0),
                    failure_percent,
                    errors_this_hour: errors.and_then(|errors| u64::try_from(errors).ok()),
                },
            )
            .collect())
    }

    /// The projects whose log has started a watch.
    pub async fn watched_projects(&self) -> Result<Vec<i64>, sqlx::Error> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT DISTINCT project_id FROM entries WHERE kind = 'watch_scheduled'",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// A project's entries of the given kinds, oldest first (the health
    /// changes of a window, for instance), read with an index on kind.
    pub async fn entries_of_kinds(
        &self,
        project: i64,
        kinds: &[&str],
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let marks = vec!["?"; kinds.len()].join(", ");
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE project_id = ? AND kind IN ({marks}) ORDER BY id"
        );
        let mut query = sqlx::query_as::<_, EntryRow>(&sql).bind(project);
        for kind in kinds {
            query = query.bind(*kind);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(EntryRow::into_entry)
            .collect()
    }

    pub async fn create_session(
        &self,
        token_digest: &[u8],
        session: &StoredSession,
    ) -> Result<(), sqlx::Error> {
        // Each sign-in is a chance to forget sessions that have ended.
        let now = self.clock.real_now();
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        lock(&self.sessions).retain(|_, session| session.expires_at > now);
        sqlx::query(
            "INSERT INTO sessions (token_digest, name, role, expires_at, source) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_digest)
        .bind(&session.name)
        .bind(session.role.name())
        .bind(session.expires_at)
        .bind(&session.source)
        .execute(&self.pool)
        .await?;
        lock(&self.sessions).insert(token_digest.to_vec(), session.clone());
        Ok(())
    }

    /// A session that has not expired.
    pub async fn session(&self, token_digest: &[u8]) -> Result<Option<StoredSession>, sqlx::Error> {
        let now = self.clock.real_now();
        if let Some(session) = lock(&self.sessions).get(token_digest) {
            return Ok((session.expires_at > now).then(|| session.clone()));
        }
        let row = sqlx::query_as::<_, (String, String, i64, Option<String>)>(
            "SELECT name, role, expires_at, source FROM sessions
             WHERE token_digest = ? AND expires_at > ?",
        )
        .bind(token_digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let session = row.and_then(|(name, role, expires_at, source)| {
            Some(StoredSession {
                name,
                role: Role::from_name(&role)?,
                expires_at,
                source: source.unwrap_or_default(),
            })
        });
        if let Some(session) = &session {
            lock(&self.sessions).insert(token_digest.to_vec(), session.clone());
        }
        Ok(session)
    }

    /// Every session's digest, name, grant source and role, ended ones included.
    pub async fn session_grants(&self) -> Result<Vec<SessionGrant>, sqlx::Error> {
        let rows = sqlx::query_as::<_, (Vec<u8>, String, Option<String>, String)>(
            "SELECT token_digest, name, source, role FROM sessions",
        )
        .fetch_all(&self.pool)
        .await?;
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
        sqlx::query("UPDATE sessions SET role = ? WHERE token_digest = ?")
            .bind(role.name())
            .bind(token_digest)
            .execute(&self.pool)
            .await?;
        if let Some(session) = lock(&self.sessions).get_mut(token_digest) {
            session.role = role;
        }
        Ok(())
    }

    pub async fn delete_session(&self, token_digest: &[u8]) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE token_digest = ?")
            .bind(token_digest)
            .execute(&self.pool)
            .await?;
        lock(&self.sessions).remove(token_digest);
        Ok(())
    }
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
type SampleRow = (i64, bool, u16, Option<u32>, Option<i64>, String);

fn sample_of((at, ok, status, latency_ms, uptime, failing): SampleRow) -> Sample {
    Sample {
        at,
        ok,
        status,
        latency_ms,
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
    backup_min_mb: Option<u32>,
    sentry_environment: Option<String>,
    render_paths: String,
    database_url: Option<String>,
    database_size_limit_mb: Option<u32>,
    plan_errors_per_month: Option<u32>,
    plan_transactions_per_month: Option<u32>,
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
            database_size_limit_mb: self.database_size_limit_mb,
            plan_errors_per_month: self.plan_errors_per_month,
            plan_transactions_per_month: self.plan_transactions_per_month,
            frontend_url: self.frontend_url,
            backup_status_url: self.backup_status_url,
            backup_min_mb: self.backup_min_mb,
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
