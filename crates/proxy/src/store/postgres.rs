//! What the PostgreSQL store adds for several replicas: connecting, the
//! log's per-project lock, notifications between replicas, and the
//! watcher's lock.
//!
//! Notifications carry the writing replica's id, so that a replica skips
//! its own: it already told its streams.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, SqliteConnection};

use super::{Cache, Db, Store};
use crate::secret::Secret;

/// The PostgreSQL store's schema, numbered as SQLite's is.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// New entries of a project: its id.
pub const ENTRIES: &str = "watchpost_entries";
/// A project created or changed: its id.
pub const PROJECTS: &str = "watchpost_projects";

/// The advisory lock keys' first half: appends to a project's log (with the
/// project's id), and the watcher (with 0).
const LOG_LOCKS: i32 = 0x5750_0001;
const WATCHER_LOCK: i32 = 0x5750_0002;

/// Which store wrote a notification: random per store opened, so that two
/// replicas in one process (the tests) tell each other too.
pub(super) fn writer_id() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    format!("{:016x}", OsRng.next_u64())
}

impl Store {
    /// Connects to the PostgreSQL database at `url` and brings its schema
    /// up to date; several replicas may share it.
    /// Its connections carry the replica's name (`application_name`), so
    /// that `pg_stat_activity` says which replica holds what.
    pub async fn connect(url: &Secret, replica: &str) -> Result<Self, sqlx::Error> {
        let options = url
            .expose()
            .parse::<PgConnectOptions>()?
            .application_name(&format!("watchpost {replica}"));
        // Two connections, as for SQLite, and one more for the listener.
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // Migrations take a lock of their own: two replicas starting at once
        // run each migration once.
        MIGRATOR.run(&pool).await?;
        Ok(Store::on(Db::Postgres(pool), None::<Cache>))
    }
}

/// What each engine adds to a write transaction for other replicas: with
/// SQLite there are none, so both are nothing.
pub(super) trait Engine {
    /// Holds `project`'s log lock until the transaction ends.
    async fn lock_log(&mut self, project: i64) -> Result<(), sqlx::Error>;
    /// Tells the other replicas of a change to `project` by `writer`, when
    /// the transaction commits.
    async fn notify(
        &mut self,
        channel: &str,
        writer: &str,
        project: i64,
    ) -> Result<(), sqlx::Error>;
}

impl Engine for SqliteConnection {
    async fn lock_log(&mut self, _project: i64) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn notify(&mut self, _: &str, _: &str, _: i64) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl Engine for PgConnection {
    async fn lock_log(&mut self, project: i64) -> Result<(), sqlx::Error> {
        let project = i32::try_from(project)
            .map_err(|_| sqlx::Error::Protocol(format!("project id {project} out of range")))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(LOG_LOCKS)
            .bind(project)
            .execute(self)
            .await?;
        Ok(())
    }

    async fn notify(
        &mut self,
        channel: &str,
        writer: &str,
        project: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(format!("{writer} {project}"))
            .execute(self)
            .await?;
        Ok(())
    }
}

/// What another replica changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// New entries in a project's log.
    Entries(i64),
    /// A project created or changed.
    Project(i64),
    /// The connection was lost and is back: notifications may have been
    /// missed, so everything should be read again.
    Reconnected,
}

/// Another replica's changes, as they commit.
#[derive(Debug)]
pub struct Notices {
    listener: PgListener,
    /// The store listening, whose own notifications are skipped.
    own: String,
}

impl Store {
    /// Listens for what other replicas change.
    pub async fn notices(&self) -> Result<Notices, sqlx::Error> {
        let Db::Postgres(pool) = &self.db else {
            return Err(sqlx::Error::Configuration(
                "only a PostgreSQL store has other replicas".into(),
            ));
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen_all([ENTRIES, PROJECTS]).await?;
        Ok(Notices {
            listener,
            own: self.writer.clone(),
        })
    }
}

impl Notices {
    /// The next change made by another replica. On a lost connection it
    /// reconnects (sqlx does, on the next call) and says so.
    pub async fn next(&mut self) -> Result<Notice, sqlx::Error> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Notice::Reconnected);
            };
            let Some((writer, project)) = notification.payload().split_once(' ') else {
                continue;
            };
            if writer == self.own {
                continue;
            }
            let Ok(project) = project.parse() else {
                continue;
            };
            match notification.channel() {
                ENTRIES => return Ok(Notice::Entries(project)),
                PROJECTS => return Ok(Notice::Project(project)),
                _ => continue,
            }
        }
    }
}

/// The watcher's lock: one replica at a time samples, snapshots and posts.
/// It is held by a connection of its own, so that it is released the
/// moment this process dies (PostgreSQL ends the session).
#[derive(Debug)]
pub struct WatcherLock {
    connection: PgConnection,
}

impl WatcherLock {
    /// Takes the lock if no other replica holds it, on a connection taken
    /// out of the pool for good.
    pub async fn try_take(pool: &PgPool) -> Result<Option<Self>, sqlx::Error> {
        let mut connection = pool.acquire().await?.detach();
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, 0)")
            .bind(WATCHER_LOCK)
            .fetch_one(&mut connection)
            .await?;
        if taken {
            Ok(Some(WatcherLock { connection }))
        } else {
            connection.close().await?;
            Ok(None)
        }
    }

    /// Whether the lock is still held: its connection answers.
    pub async fn held(&mut self) -> bool {
        self.connection.ping().await.is_ok()
    }
}
