//! Copies of the store: `watchpost backup` takes one while a server runs,
//! `watchpost restore` puts one back while none does.
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy
//! holds exactly the writes committed before it began, and writers go on
//! meanwhile (WAL). A server holds [`DataDirLock`] on its data directory for
//! its whole life; a restore takes it too, so it never replaces a store
//! under a running server.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::FILE_NAME;
use crate::clock::Clock;

const LOCK_NAME: &str = "watchpost.lock";

/// A data directory's exclusive lock, held while the value lives (and
/// released by the system if the process dies).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes `data_dir`'s lock, or says who holds it.
    pub fn take(data_dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(data_dir)
            .map_err(|err| format!("cannot create {}: {err}", data_dir.display()))?;
        let path = data_dir.join(LOCK_NAME);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|err| format!("cannot open {}: {err}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(format!(
                "a Watchpost server is using {}: stop it first",
                data_dir.display()
            )),
            Err(TryLockError::Error(err)) => Err(format!("cannot lock {}: {err}", path.display())),
        }
    }
}

/// What a backup or a restore holds, read back from the copy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub path: PathBuf,
    pub bytes: u64,
    pub projects: i64,
    pub entries: i64,
    /// The store's schema: its latest migration.
    pub schema: i64,
}

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} projects, {} log entries, {:.1} MB (schema {})",
            self.path.display(),
            self.projects,
            self.entries,
            self.bytes as f64 / 1_000_000.0,
            self.schema
        )
    }
}

/// Copies `data_dir`'s store to `to`, a new file, while a server may be
/// writing to it. The copy is written beside `to` and renamed when whole.
pub async fn backup(data_dir: &Path, to: &Path) -> Result<Copied, String> {
    let store = data_dir.join(FILE_NAME);
    if !store.is_file() {
        return Err(format!(
            "there is no Watchpost store in {}",
            data_dir.display()
        ));
    }
    if to.exists() {
        return Err(format!(
            "{} already exists: name a new file, a backup never overwrites one",
            to.display()
        ));
    }
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let mut connection = connect(&store, false).await?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut connection)
        .await;
    let _ = connection.close().await;
    if let Err(err) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("cannot write {}: {err}", to.display()));
    }
    let mut copied = match read_copy(&partial).await {
        Ok(copied) => copied,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    std::fs::rename(&partial, to)
        .map_err(|err| format!("cannot name the copy {}: {err}", to.display()))?;
    copied.path = to.to_owned();
    Ok(copied)
}

/// Puts the backup `from` back as `data_dir`'s store, refusing while a
/// server uses the directory, and a file that is not a whole Watchpost store
/// of this version or an older one. The store it replaces is kept beside it
/// (`watchpost.db.before-restore-<time>`, with its WAL), never deleted.
pub async fn restore(data_dir: &Path, from: &Path, clock: &Clock) -> Result<Restored, String> {
    let _lock = DataDirLock::take(data_dir)?;
    let backup = read_copy(from).await?;
    let known = super::MIGRATOR
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0);
    if backup.schema > known {
        return Err(format!(
            "{} is from a newer Watchpost (schema {}; this one knows up to {known}): restore it with that version",
            from.display(),
            backup.schema
        ));
    }
    let store = data_dir.join(FILE_NAME);
    let incoming = with_suffix(&store, ".restoring");
    std::fs::copy(from, &incoming)
        .and_then(|_| File::open(&incoming)?.sync_all())
        .map_err(|err| {
            format!(
                "cannot copy {} into {}: {err}",
                from.display(),
                data_dir.display()
            )
        })?;
    let kept = if store.exists() {
        let aside = with_suffix(
            &store,
            &format!(".before-restore-{}", clock.real_timestamp().as_second()),
        );
        // The WAL and its index go with their database, or its last
        // committed writes would be lost from the copy kept aside.
        for suffix in ["", "-wal", "-shm"] {
            let from = with_suffix(&store, suffix);
            if from.exists() {
                std::fs::rename(&from, with_suffix(&aside, suffix))
                    .map_err(|err| format!("cannot move {} aside: {err}", from.display()))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&incoming, &store)
        .map_err(|err| format!("cannot put the backup in place: {err}"))?;
    Ok(Restored {
        store: Copied {
            path: store,
            ..backup
        },
        kept,
    })
}

/// A restore: the store now in place, and where the one it replaced is.
#[derive(Debug, Clone)]
pub struct Restored {
    pub store: Copied,
    pub kept: Option<PathBuf>,
}

/// Opens a copy read-only and reads what it holds: a whole SQLite database
/// (`integrity_check`) with Watchpost's migrations and log.
async fn read_copy(path: &Path) -> Result<Copied, String> {
    let not_a_store = |why: String| {
        format!(
            "{} is not a Watchpost store a backup made ({why})",
            path.display()
        )
    };
    if !path.is_file() {
        return Err(format!("there is no file {}", path.display()));
    }
    let mut connection = connect(path, true).await.map_err(not_a_store)?;
    let read = async {
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut connection)
            .await?;
        let schema: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut connection)
                .await?;
        let projects: i64 = sqlx::query_scalar("SELECT count(*) FROM projects")
            .fetch_one(&mut connection)
            .await?;
        let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM entries")
            .fetch_one(&mut connection)
            .await?;
        Ok::<_, sqlx::Error>((check, schema, projects, entries))
    }
    .await;
    let _ = connection.close().await;
    let (check, schema, projects, entries) = read.map_err(|err| not_a_store(err.to_string()))?;
    if check != "ok" {
        return Err(not_a_store(format!("SQLite finds it damaged: {check}")));
    }
    let bytes = std::fs::metadata(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?
        .len();
    Ok(Copied {
        path: path.to_owned(),
        bytes,
        projects,
        entries,
        schema: schema.ok_or_else(|| not_a_store("no migration applied".into()))?,
    })
}

async fn connect(path: &Path, read_only: bool) -> Result<SqliteConnection, String> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .map_err(|err| err.to_string())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
