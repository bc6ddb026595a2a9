//! A team's own database (seed 004's Supabase, or any PostgreSQL): its
//! connection string as a secret the settings show masked, and the bounds
//! its checks judge by.
//!
//! The connection string carries a password: the proxy stores it, and every
//! answer, log line and export shows [`masked`] instead.

/// Seed 004's slow query: a statement over 1,000 ms.
pub const SLOW_STATEMENT_MS: f64 = 1000.0;

/// A statement running longer than this is stuck, not slow.
pub const LONG_RUNNING_SECONDS: i64 = 60;

/// The share of `max_connections` in use above which the pool is not
/// healthy: the last fifth is kept for bursts and for people connecting
/// by hand to repair.
pub const CONNECTIONS_HIGH_PERCENT: f64 = 80.0;

/// The share of the plan's database size above which the disk is not
/// "normal" (seed 004's "disk usage normal").
pub const SIZE_HIGH_PERCENT: f64 = 80.0;

/// Supabase's free plan: a 500 MB database.
pub const DEFAULT_SIZE_LIMIT_MB: u32 = 500;

const URL_MAX: usize = 500;

/// A connection string on its way to the proxy: `Debug` hides it, so a
/// patch logged by accident carries no password.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct ConnectionString(String);

impl ConnectionString {
    pub fn new(url: impl Into<String>) -> Self {
        ConnectionString(url.into())
    }

    /// The whole string, for the one place that stores or sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&masked(&self.0))
    }
}

/// What is wrong with `url` as a PostgreSQL connection string, in words;
/// `None` when it can be used.
pub fn url_problem(url: &str) -> Option<String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Some(
            "a database connection string starts with postgres:// or postgresql://".to_owned(),
        );
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if url.len() > URL_MAX {
        Some(format!(
            "the connection string is longer than {URL_MAX} characters"
        ))
    } else if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("the connection string contains spaces".to_owned())
    } else if host.is_empty() || host.starts_with(':') {
        Some(
            "the connection string has no host: postgres://user:password@host:5432/postgres"
                .to_owned(),
        )
    } else if !authority.contains('@') {
        Some("the connection string has no user: use the read-only user's, as in postgres://watchpost_ro:password@host:5432/postgres".to_owned())
    } else {
        None
    }
}

/// `url` with its password (and any `password=` parameter) replaced, for
/// showing: `postgres://watchpost_ro:••••@db.example.co:5432/postgres`.
pub fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "••••".to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{user}:••••@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        None => tail.to_owned(),
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=••••")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_string_is_checked_and_shown_without_its_password() {
        let url = "postgres://watchpost_ro:s3cr:et@db.abc.supabase.co:5432/postgres?sslmode=require&password=again";
        assert_eq!(url_problem(url), None);
        let shown = masked(url);
        assert_eq!(
            shown,
            "postgres://watchpost_ro:••••@db.abc.supabase.co:5432/postgres?sslmode=require&password=••••"
        );
        assert!(!shown.contains("s3cr") && !shown.contains("again"));
        assert_eq!(
            masked("postgresql://ro@host/db"),
            "postgresql://ro:••••@host/db"
        );
        assert_eq!(masked("not a url"), "••••");
        let debug = format!("{:?}", ConnectionString::new(url));
        assert!(!debug.contains("s3cr"), "{debug}");

        for (bad, says) in [
            ("mysql://u:p@host/db", "starts with postgres://"),
            ("postgres://u:p@/db", "no host"),
            ("postgres://host:5432/db", "no user"),
            ("postgres://u:p@host/d b", "spaces"),
        ] {
            let problem = url_problem(bad).unwrap_or_default();
            assert!(problem.contains(says), "{bad}: {problem}");
        }
    }
}
