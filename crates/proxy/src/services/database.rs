//! The database checks (seed 004's "Database Status"): reachable and how
//! fast, the connections against the server's limit, slow statements,
//! statements stuck running, and the size against the plan's. Each opens
//! one read-only connection with the project's connection string, which
//! the store alone gives, and closes it.

use domain::database::{
    CONNECTIONS_HIGH_PERCENT, DEFAULT_SIZE_LIMIT_MB, LONG_RUNNING_SECONDS, SIZE_HIGH_PERCENT,
    SLOW_STATEMENT_MS,
};

use super::*;
use crate::upstream::postgres::{DatabaseError, Session};

impl Services {
    pub(super) async fn database(&self, project: &Project, kind: CheckKind) -> Outcome {
        let url = match self.store.database_url(project.id).await {
            Ok(Some(url)) => url,
            Ok(None) => {
                return Outcome::not_configured(
                    "No database connection string is set: an admin enters one for a user that can only read, under Database connection in the project's settings.",
                );
            }
            Err(_) => {
                return Outcome::new(
                    CheckStatus::Error,
                    "Watchpost could not read the project's settings: check again in a minute.",
                );
            }
        };
        let mut session = match self.postgres.connect(&url).await {
            Ok(session) => session,
            Err(err) => return database_error(&err),
        };
        let outcome = match kind {
            CheckKind::DatabaseReachable => reachable(&mut session).await,
            CheckKind::DatabaseConnections => connections(&mut session).await,
            CheckKind::DatabaseSlowQueries => slow_queries(&mut session).await,
            CheckKind::DatabaseLongRunning => long_running(&mut session).await,
            _ => size(&mut session, project).await,
        };
        session.close().await;
        outcome.unwrap_or_else(|err| database_error(&err))
    }
}

/// What went wrong, and what to do, in the checks' words.
fn database_error(err: &DatabaseError) -> Outcome {
    use DatabaseError as E;
    let next = match err {
        E::Invalid => {
            " Correct the connection string under Database connection in the project's settings."
        }
        E::Timeout(_) | E::Unreachable(_) => {
            " Check the database provider's status page (Supabase: status.supabase.com), then check again in a minute."
        }
        E::Cancelled => " The database is slow: look at its load, then check again.",
        E::Refused(_) => {
            " Check the user and password of the connection string in the project's settings."
        }
        E::Forbidden(_) => {
            " Give the read-only user the pg_monitor role (GRANT pg_monitor TO watchpost_ro;)."
        }
        E::MissingExtension(_) => {
            return Outcome::new(
                CheckStatus::Unsupported,
                format!(
                    "The database {err}, which counts each statement's time: an admin enables it (Supabase: Database → Extensions, or CREATE EXTENSION pg_stat_statements;), or a person reads slow queries in the database's dashboard."
                ),
            );
        }
        E::Failed(_) => " Verify it by hand with the query beside this check.",
    };
    Outcome::new(CheckStatus::Error, format!("The database {err}.{next}"))
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

async fn reachable(session: &mut Session) -> Result<Outcome, DatabaseError> {
    let answered = session.ping().await?;
    let version = session.version().await?;
    let tls = session.tls().await?;
    let (connect, query) = (ms(session.connected_in), ms(answered));
    Ok(Outcome::passed(format!(
        "The database is online: it answered SELECT 1 in {} ms (connecting took {} ms).",
        Decimal(query),
        Decimal(connect)
    ))
    .saw("SELECT 1", format!("{} ms", Decimal(query)))
    .saw("connect", format!("{} ms", Decimal(connect)))
    .saw("server", version)
    .saw(
        "TLS",
        if tls {
            "yes"
        } else {
            "no: the server did not offer it, or the connection string turned it off"
        },
    )
    .measured(query, Unit::Ms, "SELECT 1, the database's answer time"))
}

async fn connections(session: &mut Session) -> Result<Outcome, DatabaseError> {
    let seen = session.connections().await?;
    if seen.available <= 0 {
        return Ok(Outcome::new(
            CheckStatus::Error,
            "The database reports no connection slots for clients: verify max_connections by hand.",
        ));
    }
    let percent = seen.in_use as f64 / seen.available as f64 * 100.0;
    let shown = format!(
        "{} of {} connections in use ({}%)",
        seen.in_use,
        seen.available,
        Decimal(percent.round())
    );
    let outcome = if percent < CONNECTIONS_HIGH_PERCENT {
        Outcome::passed(format!(
            "The connection pool is healthy: {shown}, under {CONNECTIONS_HIGH_PERCENT}%."
        ))
    } else {
        Outcome::failed(format!(
            "The connection pool is nearly full: {shown}, {CONNECTIONS_HIGH_PERCENT}% or more. Look for connections left open (a pool per request, a missing release), or use the provider's pooler."
        ))
    };
    Ok(outcome
        .saw("in use", seen.in_use.to_string())
        .saw(
            "limit",
            format!("{} (max_connections less reserved)", seen.available),
        )
        .saw("this database", seen.this_database.to_string())
        .measured(percent, Unit::Percent, "connections in use, of the limit"))
}

async fn slow_queries(session: &mut Session) -> Result<Outcome, DatabaseError> {
    let (statements, since) = session.slow_statements(SLOW_STATEMENT_MS).await?;
    let counted = since.map_or_else(
        || "since the statistics were last reset".to_owned(),
        |at| format!("since {at}"),
    );
    let slow: Vec<_> = statements
        .iter()
        .filter(|statement| statement.mean_ms > SLOW_STATEMENT_MS)
        .collect();
    let bound = Decimal(SLOW_STATEMENT_MS);
    let mut outcome = match (slow.first(), statements.first()) {
        (Some(slowest), _) => Outcome::failed(format!(
            "{} statement{} take over {bound} ms on average {counted}; the slowest, {} ms: {}. Add an index or rewrite it (Supabase: Database → Query Performance).",
            slow.len(),
            if slow.len() == 1 { "" } else { "s" },
            Decimal(slowest.mean_ms.round()),
            slowest.query
        )),
        (None, Some(_)) => Outcome::passed(format!(
            "No statement takes over {bound} ms on average {counted}; {} sometimes did (their longest run is shown).",
            statements.len()
        )),
        (None, None) => Outcome::passed(format!("No statement took over {bound} ms {counted}.")),
    };
    for statement in &statements {
        outcome = outcome.saw(
            &statement.query,
            format!(
                "mean {} ms, longest {} ms, {} calls",
                Decimal(statement.mean_ms.round()),
                Decimal(statement.max_ms.round()),
                statement.calls
            ),
        );
    }
    Ok(outcome.saw("measure", format!("pg_stat_statements {counted}")))
}

async fn long_running(session: &mut Session) -> Result<Outcome, DatabaseError> {
    let running = session
        .running_longer_than(LONG_RUNNING_SECONDS as f64)
        .await?;
    let mut outcome = match running.first() {
        None => Outcome::passed(format!(
            "No statement has been running longer than {LONG_RUNNING_SECONDS} s."
        )),
        Some(longest) => Outcome::failed(format!(
            "{} statement{} running longer than {LONG_RUNNING_SECONDS} s; the longest, {}, for {}: {}. A stuck statement holds its locks: end it from the database's dashboard (pg_cancel_backend) if it should not run that long.",
            running.len(),
            if running.len() == 1 { " is" } else { "s are" },
            longest.user,
            span(longest.seconds as i64),
            longest.query
        )),
    };
    for statement in &running {
        outcome = outcome.saw(
            &statement.query,
            format!("{} by {}", span(statement.seconds as i64), statement.user),
        );
    }
    Ok(outcome)
}

async fn size(session: &mut Session, project: &Project) -> Result<Outcome, DatabaseError> {
    let bytes = session.size().await?;
    let limit_mb = project
        .database_size_limit_mb
        .unwrap_or(DEFAULT_SIZE_LIMIT_MB);
    let mb = bytes as f64 / 1_048_576.0;
    let percent = mb / f64::from(limit_mb) * 100.0;
    let shown = format!(
        "{} MB of the plan's {limit_mb} MB ({}%)",
        Decimal(mb.round()),
        Decimal(percent.round())
    );
    let outcome = if percent < SIZE_HIGH_PERCENT {
        Outcome::passed(format!("Disk usage is normal: {shown}."))
    } else {
        Outcome::failed(format!(
            "The database is nearly full: {shown}, {SIZE_HIGH_PERCENT}% or more. Delete what is not needed, or move to a larger plan before writes fail."
        ))
    };
    Ok(outcome
        .saw("size", format!("{} MB", Decimal(mb.round())))
        .saw(
            "plan",
            match project.database_size_limit_mb {
                Some(_) => format!("{limit_mb} MB (the project's setting)"),
                None => format!("{limit_mb} MB (Supabase's free plan)"),
            },
        )
        .measured(percent, Unit::Percent, "database size, of the plan's"))
}
