//! A database of its own for a test, on the PostgreSQL server the test
//! command starts (`scripts/test`, which exports its superuser's URL as
//! `WATCHPOST_TEST_POSTGRES`): with `pg_stat_statements` or without, and the
//! read-only user a team gives Watchpost (`pg_monitor`, nothing else).

use sqlx::{Connection, Executor, PgConnection};

/// The read-only user's password, as a team would choose one.
pub const READER_PASSWORD: &str = "ro-Secret-42";

#[derive(Debug)]
pub struct TestDatabase {
    /// The read-only user's connection string: what an admin enters.
    pub url: String,
    /// The superuser's, on the same database: what the test acts with.
    pub admin: String,
}

fn server() -> String {
    std::env::var("WATCHPOST_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "WATCHPOST_TEST_POSTGRES is not set: run scripts/test, which starts a PostgreSQL server for these tests (or set it to a superuser's postgres:// URL)"
        )
    })
}

/// A fresh database named after `test`, with `pg_stat_statements` when
/// `statements` is true.
pub async fn database(test: &str, statements: bool) -> TestDatabase {
    let server = server();
    let name = format!("t_{test}_{}", std::process::id());
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("the test server");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create");
    // Roles are the server's: made once, by whichever test comes first.
    let _ = admin
        .execute(
            format!(
                "CREATE ROLE watchpost_ro LOGIN PASSWORD '{READER_PASSWORD}' IN ROLE pg_monitor"
            )
            .as_str(),
        )
        .await;
    admin.close().await.expect("close");
    let (base, _) = server.rsplit_once('/').expect("a database in the URL");
    let on_it = format!("{base}/{name}");
    if statements {
        let mut admin = PgConnection::connect(&on_it).await.expect("the database");
        admin
            .execute("CREATE EXTENSION pg_stat_statements")
            .await
            .expect("the extension");
        admin.close().await.expect("close");
    }
    let host = base.rsplit_once('@').expect("a host").1;
    TestDatabase {
        url: format!("postgres://watchpost_ro:{READER_PASSWORD}@{host}/{name}"),
        admin: on_it,
    }
}
