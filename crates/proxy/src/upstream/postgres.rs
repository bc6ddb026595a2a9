//! A team's own PostgreSQL database (Supabase's, or any), read the way a
//! careful person with a read-only role would:
//! - TLS where the server offers it (`sslmode=prefer` unless the connection
//!   string says otherwise; `verify-full` checks the certificate);
//! - every statement inside a `READ ONLY` transaction that is rolled back,
//!   with a statement timeout, so nothing Watchpost sends can write or hang
//!   (`SET LOCAL`, which poolers such as Supavisor and PgBouncer keep);
//! - only the fixed statements of this file, never text from a request;
//! - unnamed statements, which poolers in transaction mode accept;
//! - a connect timeout, and one connection per check, closed after it.
//!
//! The connection string is a [`Secret`]: no error here carries it.

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{ConnectOptions, Connection, Row};

use crate::secret::Secret;

/// What went wrong, in words that never carry the connection string.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("the connection string cannot be read")]
    Invalid,
    #[error("did not answer within {0:?}")]
    Timeout(Duration),
    #[error("ended a statement that ran past Watchpost's timeout")]
    Cancelled,
    #[error("cannot be reached ({0})")]
    Unreachable(String),
    #[error("refused the user or password ({0})")]
    Refused(String),
    #[error("does not let this user read {0}")]
    Forbidden(String),
    /// An extension a check needs is not installed.
    #[error("has no {0} extension")]
    MissingExtension(&'static str),
    #[error("answered with an error ({0})")]
    Failed(String),
}

/// The connection bounds: how long to connect, and how long one statement
/// may run.
#[derive(Debug, Clone, Copy)]
pub struct Postgres {
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for Postgres {
    fn default() -> Self {
        Postgres {
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// A statement in `pg_stat_statements`: its text (cut short), how often it
/// ran, and its mean and longest time.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub query: String,
    pub calls: i64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

/// A statement running now, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub query: String,
    pub seconds: f64,
    pub user: String,
}

/// The connections the server counts against its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Connections {
    /// Client backends connected now, to every database of the server.
    pub in_use: i64,
    /// `max_connections` less the slots kept for superusers.
    pub available: i64,
    /// `numbackends` of this database, as seed 004's query reads it.
    pub this_database: i64,
}

/// One connection, for one check.
#[derive(Debug)]
pub struct Session {
    connection: PgConnection,
    statement_timeout: Duration,
    /// How long connecting took.
    pub connected_in: Duration,
}

/// Characters of a statement's text shown: enough to recognize it.
const QUERY_CHARS: i32 = 160;

impl Postgres {
    /// Connects to `url`'s database.
    pub async fn connect(&self, url: &Secret) -> Result<Session, DatabaseError> {
        let options: PgConnectOptions = url.expose().parse().map_err(|_| DatabaseError::Invalid)?;
        let options = options
            .application_name("watchpost")
            .disable_statement_logging();
        let started = Instant::now();
        let connection = tokio::time::timeout(self.connect_timeout, options.connect())
            .await
            .map_err(|_| DatabaseError::Timeout(self.connect_timeout))?
            .map_err(|err| classify(&err))?;
        Ok(Session {
            connection,
            statement_timeout: self.statement_timeout,
            connected_in: started.elapsed(),
        })
    }
}

impl Session {
    /// Runs `read` in a read-only transaction with the statement timeout,
    /// and rolls it back.
    async fn read<T>(
        &mut self,
        read: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, DatabaseError> {
        let timeout = self.statement_timeout;
        let work = async {
            let mut tx = self.connection.begin().await?;
            sqlx::query("SET TRANSACTION READ ONLY")
                .persistent(false)
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "SET LOCAL statement_timeout = {}",
                timeout.as_millis()
            ))
            .persistent(false)
            .execute(&mut *tx)
            .await?;
            let value = read(&mut tx).await?;
            tx.rollback().await?;
            Ok::<T, sqlx::Error>(value)
        };
        // The server's timeout ends a statement; this one ends a server
        // that stopped answering.
        tokio::time::timeout(timeout + Duration::from_secs(2), work)
            .await
            .map_err(|_| DatabaseError::Timeout(timeout))?
            .map_err(|err| classify(&err))
    }

    /// `SELECT 1`, timed.
    pub async fn ping(&mut self) -> Result<Duration, DatabaseError> {
        self.read(async |connection| {
            let started = Instant::now();
            sqlx::query("SELECT 1")
                .persistent(false)
                .execute(connection)
                .await?;
            Ok(started.elapsed())
        })
        .await
    }

    /// Whether this connection is encrypted.
    pub async fn tls(&mut self) -> Result<bool, DatabaseError> {
        self.read(async |connection| {
            sqlx::query_scalar::<_, Option<bool>>(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            )
            .persistent(false)
            .fetch_optional(connection)
            .await
            .map(|ssl| ssl.flatten().unwrap_or(false))
        })
        .await
    }

    /// The server's version, as it says it (`PostgreSQL 15.8 on …`).
    pub async fn version(&mut self) -> Result<String, DatabaseError> {
        self.read(async |connection| {
            sqlx::query_scalar("SELECT split_part(version(), ' on ', 1)")
                .persistent(false)
                .fetch_one(connection)
                .await
        })
        .await
    }

    pub async fn connections(&mut self) -> Result<Connections, DatabaseError> {
        self.read(async |connection| {
            let row = sqlx::query(
                "SELECT
                    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::bigint,
                    (current_setting('max_connections')::bigint
                        - current_setting('superuser_reserved_connections')::bigint),
                    (SELECT numbackends FROM pg_stat_database WHERE datname = current_database())::bigint",
            )
            .persistent(false)
            .fetch_one(connection)
            .await?;
            Ok(Connections {
                in_use: row.try_get(0)?,
                available: row.try_get(1)?,
                this_database: row.try_get::<Option<i64>, _>(2)?.unwrap_or_default(),
            })
        })
        .await
    }

    /// The statements of this database whose mean or longest time is over
    /// `bound_ms`, slowest first (at most 5), and since when the server has
    /// counted (`None` where it does not say). [`DatabaseError::MissingExtension`]
    /// without `pg_stat_statements`.
    pub async fn slow_statements(
        &mut self,
        bound_ms: f64,
    ) -> Result<(Vec<Statement>, Option<String>), DatabaseError> {
        let installed = self
            .read(async |connection| {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')",
                )
                .persistent(false)
                .fetch_one(connection)
                .await
            })
            .await?;
        if !installed {
            return Err(DatabaseError::MissingExtension("pg_stat_statements"));
        }
        // PostgreSQL 13 renamed the columns; 14 added the reset time.
        let (mean, max) = match self.server_version().await? {
            version if version >= 130_000 => ("mean_exec_time", "max_exec_time"),
            _ => ("mean_time", "max_time"),
        };
        let statements = self
            .read(async |connection| {
                let rows: Vec<PgRow> = sqlx::query(&format!(
                    "SELECT left(query, {QUERY_CHARS}), calls, {mean}, {max}
                     FROM pg_stat_statements
                     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND ({mean} > $1 OR {max} > $1)
                     ORDER BY {mean} DESC
                     LIMIT 5"
                ))
                .bind(bound_ms)
                .persistent(false)
                .fetch_all(connection)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(Statement {
                            query: row.try_get::<Option<String>, _>(0)?.unwrap_or_default(),
                            calls: row.try_get(1)?,
                            mean_ms: row.try_get(2)?,
                            max_ms: row.try_get(3)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            })
            .await?;
        let since = self
            .read(async |connection| {
                sqlx::query_scalar::<_, Option<String>>(
                    "SELECT to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')
                     FROM pg_stat_statements_info",
                )
                .persistent(false)
                .fetch_one(connection)
                .await
            })
            .await
            .ok()
            .flatten();
        Ok((statements, since))
    }

    /// Statements running longer than `seconds`, the longest first (at
    /// most 5), this session's own left out.
    pub async fn running_longer_than(
        &mut self,
        seconds: f64,
    ) -> Result<Vec<Running>, DatabaseError> {
        self.read(async |connection| {
            let rows: Vec<PgRow> = sqlx::query(&format!(
                "SELECT coalesce(left(query, {QUERY_CHARS}), ''),
                        extract(epoch FROM clock_timestamp() - query_start)::float8,
                        coalesce(usename::text, '')
                 FROM pg_stat_activity
                 WHERE state = 'active' AND backend_type = 'client backend'
                   AND pid <> pg_backend_pid()
                   AND clock_timestamp() - query_start > make_interval(secs => $1)
                 ORDER BY query_start
                 LIMIT 5"
            ))
            .bind(seconds)
            .persistent(false)
            .fetch_all(connection)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(Running {
                        query: row.try_get(0)?,
                        seconds: row.try_get(1)?,
                        user: row.try_get(2)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// The size of this database, in bytes.
    pub async fn size(&mut self) -> Result<i64, DatabaseError> {
        self.read(async |connection| {
            sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .persistent(false)
                .fetch_one(connection)
                .await
        })
        .await
    }

    async fn server_version(&mut self) -> Result<i64, DatabaseError> {
        self.read(async |connection| {
            sqlx::query_scalar::<_, String>("SELECT current_setting('server_version_num')")
                .persistent(false)
                .fetch_one(connection)
                .await
        })
        .await
        .map(|text| text.parse().unwrap_or_default())
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        let _ = self.connection.close().await;
    }
}

/// An error of the driver in this module's words: the server's own message
/// where it gave one (it names no password), never the connection string.
fn classify(err: &sqlx::Error) -> DatabaseError {
    match err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let message = db.message().to_owned();
            match &*code {
                // invalid_password, invalid_authorization_specification
                "28P01" | "28000" => DatabaseError::Refused(message),
                // insufficient_privilege
                "42501" => DatabaseError::Forbidden(message),
                // query_canceled: the statement timeout
                "57014" => DatabaseError::Cancelled,
                _ => DatabaseError::Failed(message),
            }
        }
        sqlx::Error::Io(io) => DatabaseError::Unreachable(io.kind().to_string()),
        sqlx::Error::Tls(_) => DatabaseError::Unreachable("TLS could not be set up".to_owned()),
        sqlx::Error::Configuration(_) => DatabaseError::Invalid,
        _ => DatabaseError::Failed("the driver could not read the answer".to_owned()),
    }
}
