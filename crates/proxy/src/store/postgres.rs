//! What the PostgreSQL store adds for several replicas: connecting, the
//! log's per-project lock, notifications between replicas, and the
//! watcher's lock.
//!
//! Notifications carry the writing replica's id, so that a replica skips
//! its own: it already told its streams.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, SqliteConnection};

use super::{Cache, Db, Store};
use crate::secret::Secret;

/// The PostgreSQL store's schema, numbered as SQLite's is.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// New entries of a project: its id.
pub const ENTRIES: &str = "watchpost_entries";
/// A project created or changed: its id.
pub const PROJECTS: &str = "watchpost_projects";

/// The advisory lock keys' first half: appends to a project's log (with the
/// project's id), and named locks (with the name's `hashtext`): the watcher,
/// an action under way, a sign-off being judged.
const LOG_LOCKS: i32 = 0x5750_0001;
const NAMED_LOCKS: i32 = 0x5750_0002;

/// The watcher's lock: one replica at a time samples, snapshots and posts.
pub const WATCHER: &str = "watcher";

/// What a replica's connections are named (`application_name`), before its name.
const APPLICATION: &str = "watchpost ";

/// Which replica keeps the watch, as PostgreSQL sees it: the one whose
/// connection holds the watcher's lock (`None` when none does). For
/// operators' scripts, the tests and the benchmark.
pub async fn watcher_holder(connection: &mut PgConnection) -> Result<Option<String>, sqlx::Error> {
    let holder: Option<String> = sqlx::query_scalar(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.classid::bigint = $1 AND l.objid::bigint = hashtext($2)::oid::bigint",
    )
    .bind(i64::from(NAMED_LOCKS))
    .bind(WATCHER)
    .fetch_optional(connection)
    .await?;
    Ok(holder.map(|name| name.strip_prefix(APPLICATION).unwrap_or(&name).to_owned()))
}

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
            .application_name(&format!("{APPLICATION}{replica}"));
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

/// A lock across replicas, named: held by a connection of its own (a
/// PostgreSQL session lock), so that it is released when this is dropped
/// (the connection closes) or the moment its process dies. On SQLite there
/// is one process, whose own claims suffice: it holds nothing.
#[derive(Debug)]
pub struct HeldLock {
    connection: Option<PgConnection>,
}

impl HeldLock {
    /// Whether the lock is still held: its connection answers.
    pub async fn held(&mut self) -> bool {
        match &mut self.connection {
            Some(connection) => connection.ping().await.is_ok(),
            None => true,
        }
    }
}

impl Store {
    /// Takes the lock `name` if no replica holds it.
    pub async fn try_lock(&self, name: &str) -> Result<Option<HeldLock>, sqlx::Error> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(Some(HeldLock { connection: None }));
        };
        let mut connection = pool.acquire().await?.detach();
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(NAMED_LOCKS)
            .bind(name)
            .fetch_one(&mut connection)
            .await?;
        if taken {
            Ok(Some(HeldLock {
                connection: Some(connection),
            }))
        } else {
            connection.close().await?;
            Ok(None)
        }
    }

    /// Waits for the lock `name`, however long another replica holds it.
    pub async fn lock(&self, name: &str) -> Result<HeldLock, sqlx::Error> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(HeldLock { connection: None });
        };
        let mut connection = pool.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock($1, hashtext($2))")
            .bind(NAMED_LOCKS)
            .bind(name)
            .execute(&mut connection)
            .await?;
        Ok(HeldLock {
            connection: Some(connection),
        })
    }
}

impl Store {
    /// Takes an attempt from the bucket `key` shared by the replicas, which
    /// allows `burst` attempts, then one more `every` (GCRA, as the
    /// in-memory limits). `Ok(Err(wait))` when it is empty. SQLite: always
    /// taken, for one process's limits in memory are the whole story.
    pub async fn take_attempt(
        &self,
        key: &str,
        (burst, every): (u32, Duration),
    ) -> Result<Result<(), Duration>, sqlx::Error> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(Ok(()));
        };
        let now = self.clock.real_now_ms();
        let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX / 4);
        let ahead = every.saturating_mul(i64::from(burst.saturating_sub(1)));
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sign_in_buckets (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = greatest(sign_in_buckets.tat, $2) + $3
                 WHERE greatest(sign_in_buckets.tat, $2) - $2 <= $4
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(every)
        .bind(ahead)
        .fetch_optional(pool)
        .await?;
        if taken.is_some() {
            return Ok(Ok(()));
        }
        let tat: i64 = sqlx::query_scalar("SELECT tat FROM sign_in_buckets WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?;
        let wait_ms = u64::try_from(tat - now - ahead).unwrap_or(0);
        // Whole seconds, rounded up: what `Retry-After` says.
        Ok(Err(Duration::from_secs(wait_ms.div_ceil(1000).max(1))))
    }
}
