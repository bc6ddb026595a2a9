//! The database checks against a real PostgreSQL server (the one the test
//! command starts): what they see, what they send, and that the connection
//! string never comes back.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::postgres::{READER_PASSWORD, TestDatabase, database};
use common::{Server, json};
use fakes::launch::{Launch, Stage};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};
use watchpost_proxy::secret::Secret;
use watchpost_proxy::upstream::postgres::{DatabaseError, Postgres};

async fn run_checks(client: &common::Client, project: i64, items: &[&str]) -> Vec<Value> {
    let response = client
        .post(
            &format!("/api/projects/{project}/checks"),
            &json!({ "items": items }).to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await.as_array().expect("a list").clone()
}

/// A launch project whose database is `db`.
async fn server_with(db: &TestDatabase) -> (Server, i64, Launch) {
    let fakes = Launch::start(Stage::Ready).await;
    let (server, project) = common::launch_server(&fakes).await;
    let set = server
        .admin()
        .await
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "database_url": db.url }).to_string(),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    (server, project, fakes)
}

fn by_item<'a>(reports: &'a [Value], item: &str) -> &'a Value {
    reports
        .iter()
        .find(|report| report["item"] == item)
        .unwrap_or_else(|| panic!("no report of {item}: {reports:?}"))
}

/// The five checks of a healthy database, over TLS, each saying what it
/// saw; then the same database made slow on purpose (`pg_sleep`) turns the
/// slow-statement check red, and only read-only statements were sent.
#[tokio::test]
async fn a_healthy_database_passes_and_a_slow_one_turns_red() {
    let db = database("healthy", true).await;
    let (server, project, _fakes) = server_with(&db).await;
    let ana = server.member("Ana").await;
    let items = [
        "routine-db-online",
        "routine-db-pool",
        "routine-db-slow-queries",
        "routine-db-long-running",
        "routine-db-disk",
    ];
    let reports = run_checks(&ana, project, &items).await;
    for item in items {
        assert_eq!(by_item(&reports, item)["status"], "passed", "{reports:?}");
    }
    let online = by_item(&reports, "routine-db-online");
    assert!(
        online["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("The database is online: it answered SELECT 1 in "),
        "{online}"
    );
    assert_eq!(
        online["observed"]["TLS"], "yes",
        "prefer: TLS where offered"
    );
    let pool = by_item(&reports, "routine-db-pool");
    assert!(
        pool["observed"]["limit"]
            .as_str()
            .unwrap_or_default()
            .starts_with("97 "),
        "{pool}"
    );
    let disk = by_item(&reports, "routine-db-disk");
    assert!(
        disk["observed"]["plan"] == "500 MB (Supabase's free plan)",
        "{disk}"
    );

    // Slow on purpose: a statement that takes 1.1 s each time.
    let mut admin = PgConnection::connect(&db.admin).await.expect("admin");
    for _ in 0..2 {
        admin.execute("SELECT pg_sleep(1.1)").await.expect("sleep");
    }
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let slow = run_checks(&ana, project, &["routine-db-slow-queries"]).await;
    let slow = by_item(&slow, "routine-db-slow-queries");
    assert_eq!(slow["status"], "failed", "{slow}");
    let said = slow["message"].as_str().unwrap_or_default();
    assert!(
        said.starts_with("1 statement take over 1000 ms on average since "),
        "{said}"
    );
    assert!(said.contains("SELECT pg_sleep($1)"), "{said}");

    // What Watchpost's user sent: reads, in transactions it rolled back.
    let sent: Vec<String> = sqlx::query_scalar(
        "SELECT query FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
         WHERE r.rolname = 'watchpost_ro'",
    )
    .fetch_all(&mut admin)
    .await
    .expect("statements");
    assert!(!sent.is_empty());
    for query in &sent {
        let verb = query
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_uppercase();
        assert!(
            ["SELECT", "SET", "BEGIN", "ROLLBACK"].contains(&verb.as_str()),
            "not a read: {query}"
        );
    }
}

/// The connection string is write-only: answers, the project list and the
/// log show it masked, and a wrong one is refused beside its field with
/// nothing stored.
#[tokio::test]
async fn the_connection_string_is_never_shown_and_a_bad_one_changes_nothing() {
    let db = database("secret", false).await;
    let (server, project, _fakes) = server_with(&db).await;
    let admin = server.admin().await;
    let shown = json(admin.get(&format!("/api/projects/{project}")).await).await;
    let masked = shown["database"].as_str().unwrap_or_default();
    assert!(
        masked.starts_with("postgres://watchpost_ro:••••@127.0.0.1:"),
        "{masked}"
    );
    for path in [
        format!("/api/projects/{project}"),
        "/api/projects".to_owned(),
        format!("/api/projects/{project}/log"),
    ] {
        let body = admin.get(&path).await.text().await.expect("text");
        assert!(!body.contains(READER_PASSWORD), "{path} shows the password");
    }

    let refused = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "database_url": "mysql://root:pw@host/db", "name": "Renamed" }).to_string(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = json(refused).await;
    assert!(said["fields"]["database_url"].is_string(), "{said}");
    let after = json(admin.get(&format!("/api/projects/{project}")).await).await;
    assert_eq!(after, shown, "a refused change changes nothing");

    // Forgotten: the checks link to the setting again.
    let forgot = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "database_url": null }).to_string(),
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::OK);
    let ana = server.member("Ana").await;
    let reports = run_checks(&ana, project, &["routine-db-online"]).await;
    assert_eq!(reports[0]["status"], "not_configured", "{reports:?}");
}

/// Without pg_stat_statements the slow-statement check says what it lacks
/// (unsupported, neither green nor red); a plan smaller than the database
/// fails the size check; a wrong password is an error that says which.
#[tokio::test]
async fn what_the_checks_cannot_see_they_say() {
    let db = database("lacking", false).await;
    let (server, project, _fakes) = server_with(&db).await;
    let admin = server.admin().await;
    let small = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "database_size_limit_mb": 5 }).to_string(),
        )
        .await;
    assert_eq!(small.status(), StatusCode::OK);
    let ana = server.member("Ana").await;
    let reports = run_checks(
        &ana,
        project,
        &["routine-db-slow-queries", "routine-db-disk"],
    )
    .await;
    let slow = by_item(&reports, "routine-db-slow-queries");
    assert_eq!(slow["status"], "unsupported", "{slow}");
    assert!(
        slow["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("The database has no pg_stat_statements extension"),
        "{slow}"
    );
    let disk = by_item(&reports, "routine-db-disk");
    assert_eq!(disk["status"], "failed", "{disk}");
    assert!(
        disk["message"]
            .as_str()
            .unwrap_or_default()
            .contains("MB of the plan's 5 MB"),
        "{disk}"
    );

    let wrong = db.url.replace(READER_PASSWORD, "not-it");
    admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "database_url": wrong }).to_string(),
        )
        .await;
    let reports = run_checks(&ana, project, &["routine-db-online"]).await;
    assert_eq!(reports[0]["status"], "error", "{reports:?}");
    let said = reports[0]["message"].as_str().unwrap_or_default();
    assert!(
        said.starts_with("The database refused the user or password"),
        "{said}"
    );
    assert!(!said.contains("not-it"), "{said}");
}

/// A statement running past the bound is listed with how long and by whom;
/// TLS is used unless the connection string turns it off.
#[tokio::test]
async fn the_client_sees_long_running_statements_and_uses_tls_where_offered() {
    let db = database("running", false).await;
    let postgres = Postgres::default();
    let admin = db.admin.clone();
    let sleeper = tokio::spawn(async move {
        let mut admin = PgConnection::connect(&admin).await.expect("admin");
        admin.execute("SELECT pg_sleep(2)").await.expect("sleep");
    });
    // The server's clock, not ours: the statement must really run.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut session = postgres
        .connect(&Secret::new(db.url.clone()))
        .await
        .expect("connect");
    let running = session.running_longer_than(0.5).await.expect("activity");
    assert_eq!(running.len(), 1, "{running:?}");
    assert!(running[0].query.contains("pg_sleep"), "{running:?}");
    assert_eq!(running[0].user, "postgres");
    assert!(running[0].seconds >= 0.5);
    assert!(session.tls().await.expect("tls"));
    session.close().await;
    sleeper.await.expect("slept");

    let plain = Secret::new(format!("{}?sslmode=disable", db.url));
    let mut session = postgres.connect(&plain).await.expect("connect");
    assert!(!session.tls().await.expect("tls"));
    session.close().await;

    let nowhere = Secret::new("postgres://watchpost_ro:pw@127.0.0.1:1/postgres".to_owned());
    let err = postgres.connect(&nowhere).await.expect_err("refused");
    assert!(matches!(err, DatabaseError::Unreachable(_)), "{err:?}");
    assert!(!err.to_string().contains("pw"), "{err}");
}
