//! What a team's own monitoring reads: `/metrics` on its own address
//! (`--metrics-addr`), and log lines as JSON (`--log-format json`).

mod common;

use std::time::Duration;

use common::postgres::database;
use common::process::Running;
use common::sse::EventStream;
use common::{Options, Server, launch_server_in};
use fakes::Launch;
use fakes::launch::{RENDER_KEY, SENTRY_TOKEN, Stage};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

async fn scrape(server: &Server) -> String {
    let url = server.metrics.as_ref().expect("metrics are served");
    let response = reqwest::get(url).await.expect("metrics answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/openmetrics-text")),
    );
    response.text().await.expect("text")
}

/// The value of the one sample whose line starts with `series`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_upstream_calls_checks_appends_streams_and_sessions() {
    let launch = Launch::start(Stage::Ready).await;
    let options = Options {
        metrics: true,
        ..Options::default()
    };
    let (server, project) = launch_server_in(TempDir::new().expect("dir"), &launch, options).await;
    let ana = server.member("Ana").await;
    let _stream = EventStream::new(ana.get(&format!("/api/projects/{project}/stream")).await);
    let (status, _) = ana
        .append(
            project,
            "op-1",
            "note",
            serde_json::json!({ "text": "hello" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let checked = ana
        .post(
            &format!("/api/projects/{project}/checks"),
            r#"{"items":["sentry-backend-project-exists"]}"#,
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);

    let text = scrape(&server).await;
    assert_eq!(
        value(
            &text,
            r#"watchpost_http_requests_total{route="/api/projects/{id}/log",method="POST",status="201"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.lines().any(
            |line| line.starts_with(r#"watchpost_upstream_calls_total{service="sentry",endpoint=""#)
            // The region's path, then the project's endpoint.
            && line.contains(r#"/api/0/projects/{}/{}/",status="200"} 1"#)
        ),
        "{text}"
    );
    assert!(text.contains(r#"watchpost_upstream_call_duration_seconds_count{service="sentry""#));
    assert_eq!(
        value(
            &text,
            r#"watchpost_check_duration_seconds_count{name="sentry.project"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value(&text, "watchpost_store_append_duration_seconds_count").is_some_and(|n| n >= 2.0)
    );
    assert_eq!(value(&text, "watchpost_open_streams"), Some(1.0));
    // The admins who set the project up, and Ana.
    assert!(value(&text, "watchpost_sessions").is_some_and(|n| n >= 2.0));
    // No token, project name or URL of a service in any label.
    for secret in [SENTRY_TOKEN, RENDER_KEY, "voxanne", "127.0.0.1"] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} in:\n{text}"
        );
    }
    // It is not on the app's address (whose unknown paths are the app's page).
    let on_app = ana.get("/metrics").await.text().await.expect("text");
    assert!(!on_app.contains("watchpost_"), "{on_app}");
}

#[tokio::test]
async fn without_the_flag_no_metrics_are_served() {
    let server = Server::start().await;
    assert!(server.metrics.is_none());
}

#[tokio::test]
async fn each_replica_says_whether_it_keeps_the_watch() {
    let db = database("metrics_watcher", false).await;
    let replica = || {
        Server::with_options(Options {
            database_url: Some(db.admin.clone()),
            sample_interval: Some(Duration::from_millis(100)),
            metrics: true,
            ..Options::default()
        })
    };
    let (a, b) = (replica().await, replica().await);
    let held = |text: &str| value(text, "watchpost_watcher_held");
    let mut seen = (None, None);
    for _ in 0..50 {
        seen = (held(&scrape(&a).await), held(&scrape(&b).await));
        if matches!(seen, (Some(x), Some(y)) if x + y == 1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (Some(x), Some(y)) = seen else {
        panic!("both report it: {seen:?}")
    };
    assert_eq!(x + y, 1.0, "exactly one keeps the watch");
    let leader = if x == 1.0 { &a } else { &b };
    assert!(
        value(&scrape(leader).await, "watchpost_sampler_rounds_total").is_some_and(|n| n >= 1.0)
    );
}

#[tokio::test]
async fn log_lines_are_json_objects_when_asked() {
    let dir = TempDir::new().expect("dir");
    let running = Running::start_with(dir.path(), &["--log-format", "json"]).await;
    running.signal("-TERM");
    let (status, log) = running.wait().await;
    assert!(status.success());
    let lines: Vec<&str> = log.lines().filter(|line| !line.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let object: Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert!(
            object["level"].is_string() && object["fields"]["message"].is_string(),
            "{line}"
        );
    }
}
