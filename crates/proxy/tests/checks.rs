//! Live checks through the proxy against fake Sentry, Render, Slack and
//! health servers: the setup turns green because the fakes say so, a broken
//! fake turns its step red with what to do, every result lands in the log
//! with who asked, and no secret ever leaves the proxy.

mod common;

use std::sync::Arc;

use common::fake_sentry;
use common::{Server, json};
use fakes::launch::{
    DATABASE_PASSWORD, DSN_RENDER_SECRET, RENDER_KEY, SENTRY_TOKEN, SERVICE, Stage,
};
use fakes::{Launch, slack};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn fakes() -> Launch {
    Launch::start(Stage::Ready).await
}

async fn server_with(fakes: &Launch) -> (Server, i64) {
    common::launch_server(fakes).await
}

/// Asks for `items`' checks; the reports by item id.
async fn run_checks(
    client: &common::Client,
    project: i64,
    items: &Value,
) -> std::collections::HashMap<String, Value> {
    let response = client
        .post(
            &format!("/api/projects/{project}/checks"),
            &items.to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|report| {
            (
                report["item"].as_str().unwrap_or_default().to_owned(),
                report.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn check_all_turns_the_configured_setup_green_from_what_the_services_say() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let reports = run_checks(&ana, project, &json!({})).await;
    for passed in [
        "sentry-backend-project-exists",
        "sentry-backend-dsn",
        "render-env-sentry-environment",
        "render-env-traces-sample-rate",
        "render-env-send-default-pii",
        "sentry-release-live",
        "sentry-backend-events",
        "render-service-exists",
        "render-dsn-matches",
        "render-env-node-env",
        "render-deploy-live",
        "health-endpoint-ok",
        "slack-webhook-works",
        "sentry-slack-installed",
        "alert-high-error-rate",
        "alert-new-issue",
        "alert-error-spike",
    ] {
        let report = &reports[passed];
        assert_eq!(report["status"], "passed", "{passed}: {report}");
    }
    assert_eq!(
        reports["sentry-backend-dsn"]["observed"]["public DSN"],
        fakes.public_dsn().as_str()
    );
    assert_eq!(
        reports["render-env-sentry-environment"]["observed"]["SENTRY_ENVIRONMENT"],
        "matches"
    );
    assert_eq!(
        reports["render-deploy-live"]["observed"]["commit"],
        "b2c3d4e Ship it"
    );
    assert_eq!(
        reports["sentry-backend-project-exists"]["observed"]["platform"],
        "node"
    );
    for frontend in ["sentry-frontend-project-exists", "sentry-frontend-dsn"] {
        assert_eq!(
            reports[frontend]["status"], "passed",
            "{}",
            reports[frontend]
        );
    }
    assert_eq!(
        reports["sentry-frontend-project-exists"]["observed"]["platform"],
        "javascript-nextjs"
    );
    assert_eq!(fakes.slack.messages().len(), 1, "one test message");

    // Every result is in the log, by the member who asked.
    let state = json(ana.get(&format!("/api/projects/{project}/state")).await).await;
    assert_eq!(state["checks"]["render-dsn-matches"]["status"], "passed");
    assert_eq!(state["checks"]["render-dsn-matches"]["by"], "Ana");
}

#[tokio::test]
async fn the_watch_items_measure_errors_and_list_issues() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let items = json!({ "items": ["h8-error-trend", "h12-error-patterns", "h4-new-critical"] });
    let reports = run_checks(&ana, project, &items).await;
    let count = &reports["h8-error-trend"];
    assert_eq!(count["status"], "passed", "{count}");
    assert!(
        count["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("2 errors in the last full hour"),
        "{count}"
    );
    assert_eq!(count["observed"]["last 24 hours"], "15");
    assert_eq!(count["observed"]["busiest hour"], "9");
    let top = &reports["h12-error-patterns"];
    assert_eq!(top["status"], "passed", "{top}");
    assert_eq!(
        top["observed"].as_object().map(|o| o.len()),
        Some(0),
        "no issues: {top}"
    );

    fakes.sentry.world.lock().expect("lock").issues =
        vec![fake_sentry::issue(11, "fatal", "TypeError: x is undefined")];
    fakes.sentry.world.lock().expect("lock").issue_tags =
        vec![("11".into(), "error_type".into(), "bolna_api_failure".into())];
    fakes.sentry.world.lock().expect("lock").hourly_errors = vec![Some(1), Some(12), Some(0)];
    // Results younger than 5 seconds are reused; these are new questions after that.
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let reports = run_checks(&ana, project, &items).await;
    assert_eq!(reports["h8-error-trend"]["status"], "failed");
    assert!(
        reports["h12-error-patterns"]["observed"]["VOX-11"]
            .as_str()
            .unwrap_or_default()
            .contains("TypeError")
    );
    let critical = &reports["h4-new-critical"];
    assert_eq!(critical["status"], "failed", "{critical}");
    // Critical is what seed 001 tags critical, or a crash: one query each.
    let asked = |term: &str| {
        fakes.sentry.requests().iter().any(|(path, query)| {
            path.ends_with("/issues/")
                && query
                    .iter()
                    .any(|(k, v)| k == "query" && v.split(' ').any(|t| t == term))
        })
    };
    assert!(asked("level:fatal") && asked("severity:critical"));
    assert_eq!(
        critical["observed"]["new issues"], "1",
        "one issue, found twice: {critical}"
    );
    assert!(
        critical["observed"]["VOX-11"]
            .as_str()
            .unwrap_or_default()
            .ends_with("; error_type bolna_api_failure"),
        "seed 001's error_type beside the issue: {critical}"
    );
    assert!(
        critical["message"]
            .as_str()
            .unwrap_or_default()
            .contains("(severity:critical or level:fatal)"),
        "{critical}"
    );

    // A project names its own markers.
    let admin = server.admin().await;
    let set = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "critical": ["error_type:bolna_api_failure"] }).to_string(),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    run_checks(&ana, project, &json!({ "items": ["h4-new-critical"] })).await;
    assert!(asked("error_type:bolna_api_failure"));
    let refused = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "critical": ["!severity:critical"] }).to_string(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn alert_rules_are_found_by_name_or_condition_through_either_api() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let rules =
        json!({ "items": ["alert-high-error-rate", "alert-new-issue", "alert-error-spike"] });
    {
        let mut world = fakes.sentry.world.lock().expect("lock");
        world.metric_rules = Some(vec![
            fake_sentry::metric_rule("High Error Rate Alert", "failure_rate()", 5, 0.05, None),
            fake_sentry::metric_rule("Errors jumping", "count()", 10, 50.0, Some(10)),
        ]);
        world.issue_rules = Some(vec![]);
    }
    let reports = run_checks(&ana, project, &rules).await;
    let high = &reports["alert-high-error-rate"];
    assert_eq!(high["status"], "passed", "{high}");
    assert_eq!(
        high["observed"]["condition"],
        "failure_rate() > 0.05 over 5 minutes"
    );
    let spike = &reports["alert-error-spike"];
    assert_eq!(spike["status"], "passed", "{spike}");
    assert!(
        spike["message"]
            .as_str()
            .unwrap_or_default()
            .contains("by its condition")
    );
    let new_issue = &reports["alert-new-issue"];
    assert_eq!(new_issue["status"], "failed", "{new_issue}");
    assert!(
        new_issue["message"]
            .as_str()
            .unwrap_or_default()
            .contains("New Production Issue")
    );

    // Named right is not enough: a rule must watch what the seed says and
    // notify someone.
    {
        let mut world = fakes.sentry.world.lock().expect("lock");
        let mut silent =
            fake_sentry::metric_rule("High Error Rate Alert", "failure_rate()", 5, 5.0, None);
        silent["triggers"][0]["actions"] = json!([]);
        world.metric_rules = Some(vec![silent]);
        let mut quiet =
            fake_sentry::issue_rule("New Production Issue", domain::alerts::FIRST_SEEN_CONDITION);
        quiet["actions"] = json!([]);
        world.issue_rules = Some(vec![quiet]);
    }
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let reports = run_checks(&ana, project, &rules).await;
    let high = &reports["alert-high-error-rate"];
    assert_eq!(high["status"], "failed", "{high}");
    assert!(
        message(high).contains(
            "its threshold is 5 (500%) where the Sentry alerts guide says 0.05 (5%); it exists but notifies nobody"
        ),
        "{high}"
    );
    let new_issue = &reports["alert-new-issue"];
    assert_eq!(new_issue["status"], "failed", "{new_issue}");
    assert!(
        message(new_issue).contains("notifies nobody"),
        "{new_issue}"
    );

    // A server with only the current API answers the legacy paths with a page.
    {
        let mut world = fakes.sentry.world.lock().expect("lock");
        world.metric_rules = None;
        world.issue_rules = None;
        world.workflows = vec![fake_sentry::workflow("Anything new", "first_seen_event")];
    }
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let reports = run_checks(&ana, project, &rules).await;
    assert_eq!(reports["alert-new-issue"]["status"], "passed");
    assert_eq!(
        reports["alert-new-issue"]["observed"]["via"],
        "monitors and alerts"
    );
    assert_eq!(reports["alert-high-error-rate"]["status"], "failed");
}

#[tokio::test]
async fn a_broken_service_turns_its_step_red_with_what_to_do() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    fakes.service.set_healthy(false);
    if let Some(env) = fakes
        .render
        .world
        .lock()
        .expect("lock")
        .env
        .get_mut(SERVICE)
    {
        env.retain(|(key, _)| key != "SENTRY_ENVIRONMENT");
        for (key, value) in env.iter_mut() {
            if key == "SENTRY_DSN" {
                *value = "https://otherkey@o1.ingest.us.sentry.io/9".into();
            }
        }
    }
    let items = json!({ "items": ["health-endpoint-ok", "render-dsn-matches", "render-env-sentry-environment"] });
    let reports = run_checks(&ana, project, &items).await;
    let health = &reports["health-endpoint-ok"];
    assert_eq!(health["status"], "failed");
    assert!(
        health["message"]
            .as_str()
            .unwrap_or_default()
            .contains("every services.* should be true (saw services.database: “false”)"),
        "the condition not met and the value seen: {health}"
    );
    let dsn = &reports["render-dsn-matches"];
    assert_eq!(dsn["status"], "failed");
    assert_eq!(
        dsn["observed"]["SENTRY_DSN"],
        "https://otherk…@o1.ingest.us.sentry.io/9"
    );
    let env = &reports["render-env-sentry-environment"];
    assert_eq!(env["status"], "failed");
    assert_eq!(env["observed"]["SENTRY_ENVIRONMENT"], "missing");
    assert!(
        env["message"]
            .as_str()
            .unwrap_or_default()
            .contains("set it from here")
    );
    // A missing project: failed, and it says how to fix it.
    fakes.sentry.world.lock().expect("lock").projects.clear();
    let report = json(
        ana.post(
            &format!("/api/projects/{project}/checks/sentry-backend-project-exists"),
            "",
        )
        .await,
    )
    .await;
    assert_eq!(report["status"], "failed", "{report}");
    assert!(
        report["message"]
            .as_str()
            .unwrap_or_default()
            .contains("create it")
    );
}

#[tokio::test]
async fn the_same_check_asked_for_at_once_runs_once() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let path = format!("/api/projects/{project}/checks/sentry-backend-project-exists");
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (ana, path) = (ana.clone(), path.clone());
        asks.spawn(async move { ana.post(&path, "").await.status() });
    }
    for status in asks.join_all().await {
        assert_eq!(status, StatusCode::OK);
    }
    let project_reads = fakes
        .sentry
        .requests()
        .iter()
        .filter(|(path, _)| path.ends_with("/projects/acme/voxanne/"))
        .count();
    assert_eq!(project_reads, 1, "ten asks, one call to Sentry");
}

/// Everything the proxy logs, at debug level, for the canary test.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_leaves_the_proxy() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber of this test binary");
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let mut bodies = Vec::new();
    let all = ana
        .post(&format!("/api/projects/{project}/checks"), "{}")
        .await;
    bodies.push(format!("{:?}", all.headers()));
    bodies.push(all.text().await.expect("body"));
    // Every action too; the test event's wait ends before the log is read.
    let admin = server.admin().await;
    for action in domain::action::ActionKind::ALL {
        let response = admin
            .post(
                &format!("/api/projects/{project}/actions/{}", action.name()),
                r#"{"seed_003_rules":true}"#,
            )
            .await;
        bodies.push(format!("{:?}", response.headers()));
        bodies.push(response.text().await.expect("body"));
    }
    let mut arrived = false;
    for _ in 0..50 {
        let state = json(ana.get(&format!("/api/projects/{project}/state")).await).await;
        arrived = state["actions"]["sentry.test_event"]["status"] == "done";
        if arrived {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(arrived, "the test event arrived");
    for path in [
        format!("/api/projects/{project}/state"),
        format!("/api/projects/{project}/log"),
        format!("/api/projects/{project}/export?format=markdown"),
        format!("/api/projects/{project}"),
    ] {
        let response = ana.get(&path).await;
        bodies.push(format!("{:?}", response.headers()));
        bodies.push(response.text().await.expect("body"));
    }
    bodies.push(String::from_utf8_lossy(&logs.0.lock().expect("lock")).into_owned());
    assert!(
        bodies.last().is_some_and(|log| log.contains("DEBUG")),
        "debug lines were captured"
    );
    let canaries = [
        SENTRY_TOKEN,
        RENDER_KEY,
        slack::WEBHOOK_PATH.rsplit('/').next().unwrap_or_default(),
        fake_sentry::DSN_SECRET,
        DSN_RENDER_SECRET,
        DATABASE_PASSWORD,
    ];
    for body in &bodies {
        for canary in canaries {
            assert!(!body.contains(canary), "{canary} leaked into:\n{body}");
        }
    }
}

fn message(report: &Value) -> &str {
    report["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_watch_measures_rates_latencies_logs_and_backups_against_the_targets() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let items = json!({ "items": [
        "h4-error-rate", "h20-performance", "calls-latency", "assistants-latency",
        "h0-render-logs", "routine-no-timeouts", "backup-verified"
    ] });
    let reports = run_checks(&ana, project, &items).await;
    let rate = &reports["h4-error-rate"];
    assert_eq!(rate["status"], "passed", "{rate}");
    assert_eq!(rate["observed"]["error rate"], "0.5%");
    assert_eq!(rate["observed"]["transactions"], "600");
    let p99 = &reports["h20-performance"];
    assert_eq!(p99["status"], "passed", "{p99}");
    assert_eq!(p99["observed"]["p99"], "409 ms");
    let calls = &reports["calls-latency"];
    assert_eq!(calls["status"], "passed", "{calls}");
    assert_eq!(calls["observed"]["transaction"], "POST /api/calls");
    assert_eq!(calls["observed"]["p99"], "129 ms");
    assert!(message(calls).contains("< 500 ms target"), "{calls}");
    assert_eq!(reports["h0-render-logs"]["status"], "passed");
    assert_eq!(reports["routine-no-timeouts"]["status"], "passed");
    let backup = &reports["backup-verified"];
    assert_eq!(backup["status"], "passed", "{backup}");
    assert_eq!(backup["observed"]["larger than 100 MB"], "met: 812.4 MB");
    let asked = fakes.render.requests();
    assert!(
        asked.iter().any(|(_, path, query, _)| path == "/v1/logs"
            && query.contains(&("level".into(), "warning".into()))
            && query.contains(&("text".into(), "timeout".into()))),
        "{asked:?}"
    );

    // Slow calls, failing transactions, timeouts in the logs, an old backup.
    {
        let mut world = fakes.sentry.world.lock().expect("lock");
        for transaction in &mut world.transactions {
            transaction.failed = transaction.duration_ms < 100.0;
            if transaction.name == "POST /api/calls" {
                transaction.duration_ms += 600.0;
            }
        }
    }
    fakes.render.world.lock().expect("lock").logs.push((
        SERVICE.into(),
        "warning".into(),
        "upstream timeout after 30 s".into(),
    ));
    fakes.service.state.lock().expect("lock").backup =
        fakes::service::backup_row("2026-01-01T05:00:00Z", "success");
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let reports = run_checks(&ana, project, &items).await;
    let rate = &reports["h4-error-rate"];
    assert_eq!(rate["status"], "failed", "{rate}");
    assert!(message(rate).contains("escalation"), "{rate}");
    assert_eq!(reports["calls-latency"]["status"], "failed");
    assert_eq!(reports["assistants-latency"]["status"], "passed");
    let timeouts = &reports["routine-no-timeouts"];
    assert_eq!(timeouts["status"], "failed", "{timeouts}");
    assert!(
        timeouts["observed"]
            .as_object()
            .is_some_and(|o| o.values().any(|v| v == "upstream timeout after 30 s")),
        "{timeouts}"
    );
    assert_eq!(
        reports["h0-render-logs"]["status"], "passed",
        "warnings are not errors"
    );
    let backup = &reports["backup-verified"];
    assert_eq!(backup["status"], "failed", "{backup}");
    assert!(
        message(backup).contains("verified within 24 h (saw "),
        "{backup}"
    );
}

#[tokio::test]
async fn without_transactions_the_rate_is_errors_per_hour_and_unmapped_endpoints_say_so() {
    let fakes = fakes().await;
    fakes
        .sentry
        .world
        .lock()
        .expect("lock")
        .transactions
        .clear();
    let (server, project) = server_with(&fakes).await;
    let admin = server.admin().await;
    let unmapped = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"transactions":{"calls":"POST /api/calls"}}"#,
        )
        .await;
    assert_eq!(unmapped.status(), StatusCode::OK);
    let ana = server.member("Ana").await;
    // Falling back to errors per hour asks for the project once, not again.
    run_checks(&ana, project, &json!({ "items": ["h4-error-rate"] })).await;
    let project_reads = fakes
        .sentry
        .requests()
        .iter()
        .filter(|(path, _)| path.ends_with("/projects/acme/voxanne/"))
        .count();
    assert_eq!(project_reads, 1);
    let items = json!({ "items": ["h4-error-rate", "webhooks-latency", "calls-latency"] });
    let reports = run_checks(&ana, project, &items).await;
    let rate = &reports["h4-error-rate"];
    assert_eq!(rate["status"], "passed", "{rate}");
    assert!(message(rate).contains("no error rate"), "{rate}");
    assert_eq!(
        rate["observed"]["measure"],
        "accepted error events per hour (Sentry stats)"
    );
    let webhooks = &reports["webhooks-latency"];
    assert_eq!(webhooks["status"], "not_configured", "{webhooks}");
    assert!(message(webhooks).contains("Transactions"), "{webhooks}");
    let calls = &reports["calls-latency"];
    assert_eq!(calls["status"], "failed", "{calls}");
    assert!(
        message(calls).contains("No transactions of POST /api/calls"),
        "{calls}"
    );

    // With Render paths, the endpoints Sentry cannot measure are measured
    // by the host, saying so; Sentry's reason stays beside.
    let mapped = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"render_paths":{"calls":"/api/calls","webhooks":"/api/webhooks"}}"#,
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::OK);
    let reports = run_checks(&ana, project, &items).await;
    let calls = &reports["calls-latency"];
    assert_eq!(calls["status"], "passed", "{calls}");
    assert_eq!(
        message(calls),
        "p99 of requests to /api/calls: 320 ms in the last hour by Render (< 500 ms target)."
    );
    assert_eq!(
        calls["observed"]["source"],
        "Render's response times, last hour"
    );
    assert!(
        calls["observed"]["Sentry"]
            .as_str()
            .unwrap_or_default()
            .contains("No transactions of POST /api/calls"),
        "{calls}"
    );
    assert_eq!(reports["webhooks-latency"]["status"], "passed");
    let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    let asked = fakes.render.requests();
    let (_, _, query, _) = asked
        .iter()
        .find(|(_, path, query, _)| {
            path.ends_with("/metrics/http-latency")
                && query.contains(&pair("path", "/api/webhooks"))
        })
        .expect("Render was asked");
    assert!(query.contains(&pair("quantile", "0.99")), "{query:?}");
    assert!(query.contains(&pair("quantile", "0.95")), "{query:?}");

    // A mapping to an endpoint the playbook does not have is refused.
    let wrong = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"transactions":{"checkout":"POST /api/checkout"}}"#,
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_unknown_item_is_refused_as_content_in_a_body_and_as_a_route_in_a_path() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let response = ana
        .post(
            &format!("/api/projects/{project}/checks"),
            &json!({ "items": ["no-such-item"] }).to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = json(response).await;
    assert!(
        said["message"]
            .as_str()
            .unwrap_or("")
            .contains("no item or target"),
        "{said}"
    );
    let path = ana
        .post(&format!("/api/projects/{project}/checks/no-such-item"), "")
        .await;
    assert_eq!(path.status(), StatusCode::NOT_FOUND);
}

/// The `check_result` entries of the project's log.
async fn check_entries(client: &common::Client, project: i64) -> Vec<Value> {
    let log = json(client.get(&format!("/api/projects/{project}/log")).await).await;
    log.as_array()
        .expect("a list")
        .iter()
        .filter(|entry| entry["kind"] == "check_result")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_check_asked_again_is_neither_run_nor_logged_nor_posted_again() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let path = format!("/api/projects/{project}/checks");

    // The same item three times is one check, one answer, one entry.
    let twice = json!({ "items": ["slack-webhook-works", "render-deploy-live", "slack-webhook-works", "slack-webhook-works"] });
    let reports = json(ana.post(&path, &twice.to_string()).await).await;
    assert_eq!(reports.as_array().map(Vec::len), Some(2), "{reports}");
    assert_eq!(check_entries(&ana, project).await.len(), 2);
    assert_eq!(fakes.slack.messages().len(), 1);

    // Asked again while fresh: the result comes back, the log keeps one entry.
    let again = json(ana.post(&path, &twice.to_string()).await).await;
    assert_eq!(again, reports, "the same entries, at the same time");
    assert_eq!(check_entries(&ana, project).await.len(), 2);

    // After the 5 seconds, Render is asked again; Slack is not posted to
    // again for minutes, and the answer says when it was.
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let later = run_checks(&ana, project, &twice).await;
    assert_eq!(check_entries(&ana, project).await.len(), 4);
    let slack = &later["slack-webhook-works"];
    assert_eq!(slack["status"], "passed", "{slack}");
    assert!(
        slack["message"]
            .as_str()
            .unwrap_or_default()
            .contains(" ago;"),
        "{slack}"
    );
    assert_eq!(fakes.slack.messages().len(), 1, "no second test message");

    // Once the test message is minutes old, asking again posts a new one.
    server
        .state
        .clock()
        .advance(watchpost_proxy::notify::TEST_REUSED_FOR);
    let slack = json!({ "items": ["slack-webhook-works"] });
    assert_eq!(
        run_checks(&ana, project, &slack).await["slack-webhook-works"]["status"],
        "passed"
    );
    assert_eq!(fakes.slack.messages().len(), 2, "a new test message");

    // More items than the playbook has checks is refused, and stores nothing.
    let flood = json!({ "items": vec!["render-deploy-live"; 2_500] });
    let refused = ana.post(&path, &flood.to_string()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(check_entries(&ana, project).await.len(), 5);
}

#[tokio::test]
async fn what_is_posted_to_slack_is_shown_as_typed_never_as_a_mention() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let admin = server.admin().await;
    let renamed = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "name": "Vox <!channel> & <@U024BE7LH>" }).to_string(),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let checked = admin
        .post(
            &format!("/api/projects/{project}/checks/slack-webhook-works"),
            "",
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let messages = fakes.slack.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("Vox &lt;!channel&gt; &amp; &lt;@U024BE7LH&gt;"),
        "{messages:?}"
    );
    assert!(!messages[0].contains('<'), "{messages:?}");
}

#[tokio::test]
async fn events_are_read_in_the_projects_environment_when_it_names_one() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let admin = server.admin().await;
    let saved = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"sentry_environment": "production"}"#,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let events = json!({ "items": ["sentry-backend-events"] });
    // The one recent issue is staging's, and the transactions count every
    // environment together: nothing shows production's events.
    {
        let mut world = fakes.sentry.world.lock().expect("lock");
        world
            .issues
            .push(fake_sentry::issue(21, "error", "ValueError: bad slot"));
        world
            .issue_environments
            .insert("21".into(), "staging".into());
    }
    let report = &run_checks(&admin, project, &events).await["sentry-backend-events"];
    assert_eq!(report["status"], "unsupported", "{report}");
    assert!(
        message(report).contains("do not tell which were in production"),
        "{report}"
    );
    assert!(
        fakes.sentry.requests().iter().any(|(path, query)| {
            path.ends_with("/issues/")
                && query
                    .iter()
                    .any(|(name, value)| name == "environment" && value == "production")
        }),
        "the issues are asked for in production only"
    );
    // Without transactions either, it failed: no event in the environment.
    // A result is reused for 5 seconds, but never across changed settings.
    fakes.sentry.world.lock().expect("lock").hourly_errors = vec![Some(0); 24];
    let saved = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"sentry_environment": "prod"}"#,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let report = &run_checks(&admin, project, &events).await["sentry-backend-events"];
    assert_eq!(report["status"], "failed", "{report}");
    assert!(message(report).contains("no event in prod in"), "{report}");
    // An issue seen in production passes, saying where.
    admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"sentry_environment": "production"}"#,
        )
        .await;
    fakes
        .sentry
        .world
        .lock()
        .expect("lock")
        .issue_environments
        .clear();
    let report = &run_checks(&admin, project, &events).await["sentry-backend-events"];
    assert_eq!(report["status"], "passed", "{report}");
    assert!(
        message(report).contains("an event in production"),
        "{report}"
    );
    assert_eq!(report["observed"]["environment"], "production");
}

#[tokio::test]
async fn a_check_missing_a_project_setting_is_the_one_the_app_links_to() {
    let fakes = fakes().await;
    let (server, _) = server_with(&fakes).await;
    let blank = server.project("Blank").await;
    let ana = server.member("Ana").await;
    let reports = run_checks(&ana, blank, &json!({})).await;
    assert!(reports.len() > 10, "{reports:?}");
    let playbook = domain::Playbook::default_launch().expect("the launch playbook");
    let project = domain::project::Project::blank(blank);
    for (item, report) in &reports {
        let checkable = playbook.checkable(item).expect("a playbook item");
        let check = checkable.verify.check().expect("a live check");
        let lacking = project.missing_for(check, &checkable.with);
        let message = report["message"].as_str().unwrap_or_default();
        let says = report["status"] == "not_configured" && message.contains("project's settings");
        assert_eq!(lacking.is_some(), says, "{item}: {lacking:?} {report}");
    }
}

/// "Memory usage stable" from Render's own metrics, by the rule it states:
/// a slow drift passes, a leak fails, a server without the metric is
/// unsupported, and what Render was asked fits its document.
#[tokio::test]
async fn memory_is_judged_stable_from_render_s_metrics_by_a_stated_rule() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let memory = json!({ "items": ["routine-memory-stable"] });
    let stable = &run_checks(&ana, project, &memory).await["routine-memory-stable"];
    assert_eq!(stable["status"], "passed", "{stable}");
    let said = stable["message"].as_str().unwrap_or_default();
    assert!(said.contains("180 MB → 183 MB over 6 h"), "{said}");
    assert!(
        said.contains("growing less than 2% of the 512 MB limit per hour"),
        "{said}"
    );
    assert_eq!(stable["observed"]["limit"], "512 MB");

    // The Watch tab's memory chart: Render's readings of the window under
    // the limit's line, read once for every viewer while fresh.
    let report = json(
        ana.get(&format!("/api/projects/{project}/health?window=24h"))
            .await,
    )
    .await;
    let caption = report["memory"]["caption"].as_str().unwrap_or_default();
    assert!(caption.starts_with("Memory: 1"), "{caption}");
    assert!(caption.ends_with("; the limit is 512 MB."), "{caption}");
    assert!(
        report["memory"]["svg"]
            .as_str()
            .unwrap_or_default()
            .contains(">limit 512 MB</text>")
    );
    let reads = || {
        fakes
            .render
            .requests()
            .iter()
            .filter(|(_, path, _, _)| path.ends_with("/metrics/memory"))
            .count()
    };
    let before = reads();
    json(
        ana.get(&format!("/api/projects/{project}/health?window=24h"))
            .await,
    )
    .await;
    assert_eq!(reads(), before, "a second viewer reuses the readings");

    // 20 MB an hour of 512 MB: a leak.
    fakes::lock(&fakes.render.world).memory.growth_mb_per_hour = 20.0;
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let leak = &run_checks(&ana, project, &memory).await["routine-memory-stable"];
    assert_eq!(leak["status"], "failed", "{leak}");
    assert!(
        leak["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Memory keeps growing: 180 MB → 300 MB over 6 h"),
        "{leak}"
    );

    let document = common::specs::document(common::specs::RENDER);
    for (_, path, query, _) in fakes.render.requests() {
        let Some(template) = path
            .strip_prefix("/v1")
            .filter(|p| p.starts_with("/metrics/"))
        else {
            continue;
        };
        let declared = common::specs::query_parameters(document, "get", template);
        for (name, _) in query {
            assert!(declared.contains(&name), "{path}: `{name}` is not declared");
        }
    }
}

/// The host's own error rate: the share of the last hour's requests Render
/// counted with a 5xx status, judged against the routine's 1% beside
/// Sentry's, whether or not the service sends transactions.
#[tokio::test]
async fn the_host_s_error_rate_is_the_share_of_requests_render_answered_5xx() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let host = json!({ "items": ["host-error-rate"] });
    let clean = &run_checks(&ana, project, &host).await["host-error-rate"];
    assert_eq!(clean["status"], "passed", "{clean}");
    assert_eq!(clean["observed"]["5xx"], "0");
    assert_eq!(clean["observed"]["requests"], "2600", "13 readings of 200");

    fakes::lock(&fakes.render.world).traffic =
        fakes::render::Traffic(vec![(200, 180.0), (503, 12.0), (500, 8.0)]);
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let failing = &run_checks(&ana, project, &host).await["host-error-rate"];
    assert_eq!(failing["status"], "failed", "{failing}");
    assert!(
        failing["message"].as_str().unwrap_or_default().starts_with(
            "10% of 2600 requests answered 5xx in the last hour, over the < 1% target"
        ),
        "{failing}"
    );
    let asked = fakes.render.requests();
    let (_, _, query, _) = asked
        .iter()
        .rev()
        .find(|(_, path, _, _)| path.ends_with("/metrics/http-requests"))
        .expect("Render was asked");
    assert!(query.contains(&("aggregateBy".to_owned(), "statusCode".to_owned())));
}

/// The host's own response time per endpoint, from the path an admin maps
/// it to: p95 and p99 of the last hour against the endpoint's target, and
/// the setting it lacks linked until it is mapped.
#[tokio::test]
async fn the_host_s_latency_per_endpoint_is_read_from_render_by_its_path() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let host = json!({ "items": ["assistants-latency-host"] });
    let unmapped = &run_checks(&ana, project, &host).await["assistants-latency-host"];
    assert_eq!(unmapped["status"], "not_configured", "{unmapped}");
    assert!(message(unmapped).contains("under Render paths in the project's settings"));

    let admin = server.admin().await;
    let mapped = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"render_paths":{"assistants":"/api/assistants"}}"#,
        )
        .await;
    assert_eq!(mapped.status(), StatusCode::OK);
    let slow = &run_checks(&ana, project, &host).await["assistants-latency-host"];
    assert_eq!(slow["status"], "passed", "{slow}");
    assert_eq!(slow["observed"]["p95"], "420 ms");
    assert_eq!(slow["observed"]["p99"], "780 ms");

    fakes::lock(&fakes.render.world).latency = vec![("/api/assistants".into(), 900.0, 1400.0)];
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let over = &run_checks(&ana, project, &host).await["assistants-latency-host"];
    assert_eq!(over["status"], "failed", "{over}");
    assert!(
        message(over).contains("1400 ms in the last hour by Render, over the < 1000 ms target")
    );

    // No request under the path: nothing was measured, neither green nor red.
    fakes::lock(&fakes.render.world).latency.clear();
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let quiet = &run_checks(&ana, project, &host).await["assistants-latency-host"];
    assert_eq!(quiet["status"], "error", "{quiet}");
    assert!(message(quiet).starts_with("Render counted no requests to /api/assistants"));
}

/// "No unexpected restarts" from Render's events, its instances and the
/// health endpoint's uptime together: a deploy's restart is expected, an
/// out-of-memory failure is not, nor a start that nothing explains.
#[tokio::test]
async fn restarts_are_judged_from_render_s_events_instances_and_the_uptime() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let restarts = json!({ "items": ["routine-no-restarts"] });
    let calm = &run_checks(&ana, project, &restarts).await["routine-no-restarts"];
    assert_eq!(calm["status"], "passed", "{calm}");
    assert_eq!(
        message(calm),
        "No unexpected restart in the last 24 hours (1 expected start)."
    );
    assert_eq!(calm["observed"]["instances"], "1");
    assert_eq!(calm["observed"]["uptime"], "1 h 00 min");

    let hours_ago =
        |hours: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours)).to_string();
    let failed = hours_ago(5);
    {
        let mut world = fakes::lock(&fakes.render.world);
        let oom =
            json!({ "reason": { "evicted": false, "oomKilled": { "memoryLimit": "512 MB" } } });
        let events = world.events.get_mut(SERVICE).expect("the service's events");
        events.insert(
            0,
            fakes::render::event(SERVICE, "server_failed", &failed, oom),
        );
    }
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let oom = &run_checks(&ana, project, &restarts).await["routine-no-restarts"];
    assert_eq!(oom["status"], "failed", "{oom}");
    assert!(
        message(oom).starts_with("1 unexpected restart in the last 24 hours, the last at "),
        "{oom}"
    );
    assert!(
        message(oom).contains(": it ran out of memory (limit 512 MB)."),
        "{oom}"
    );

    // The process restarted with nothing in Render's events: its uptime
    // tells, and the start is unexpected too.
    fakes::lock(&fakes.render.world).events.clear();
    fakes::lock(&fakes.render.world).instances.clear();
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let unexplained = &run_checks(&ana, project, &restarts).await["routine-no-restarts"];
    assert_eq!(unexplained["status"], "failed", "{unexplained}");
    assert!(
        message(unexplained).ends_with("the process started (its uptime) with no deploy or restart by a person. Read Render's events and logs around it; running out of memory is a leak to fix."),
        "{unexplained}"
    );
}

/// Seed 001's instrumentation by the playbook's names: the tags on the
/// week's errors with the values seen, and the spans of the last day; what
/// is missing is named, and what Sentry was asked fits its document.
#[tokio::test]
async fn the_instrumentation_s_tags_and_spans_are_read_by_their_names() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let items = json!({ "items": ["sentry-tags", "sentry-spans"] });
    let reports = run_checks(&ana, project, &items).await;
    let tags = &reports["sentry-tags"];
    assert_eq!(tags["status"], "passed", "{tags}");
    assert_eq!(
        tags["observed"]["error_type"],
        "5 of 7 errors: bolna_api_failure (3), webhook_processing_failed (2)"
    );
    let spans = &reports["sentry-spans"];
    assert_eq!(spans["status"], "passed", "{spans}");
    assert_eq!(
        message(spans),
        "Each named span arrived in the last 24 hours: call.initiate 40, webhook.process 120, queue.initiate_call 8."
    );

    {
        let mut world = fakes::lock(&fakes.sentry.world);
        world.error_tags.retain(|(key, _, _)| key != "severity");
        world.spans.retain(|(op, _)| op != "queue.initiate_call");
    }
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let reports = run_checks(&ana, project, &items).await;
    let tags = &reports["sentry-tags"];
    assert_eq!(tags["status"], "failed", "{tags}");
    assert!(
        message(tags).starts_with("None of the last 7 days' 7 errors carries severity"),
        "{tags}"
    );
    let spans = &reports["sentry-spans"];
    assert_eq!(spans["status"], "failed", "{spans}");
    assert!(
        message(spans).starts_with("No queue.initiate_call span arrived in the last 24 hours"),
        "{spans}"
    );

    // No error this week: nothing to read tags on, neither green nor red.
    fakes::lock(&fakes.sentry.world).errors_week = 0;
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let quiet =
        &run_checks(&ana, project, &json!({ "items": ["sentry-tags"] })).await["sentry-tags"];
    assert_eq!(quiet["status"], "error", "{quiet}");

    let document = common::specs::document(common::specs::SENTRY);
    for (path, query) in fakes.sentry.requests() {
        if !path.ends_with("/events/") {
            continue;
        }
        let template = "/api/0/organizations/{organization_id_or_slug}/events/";
        let declared = common::specs::query_parameters(document, "get", template);
        for (name, _) in query {
            assert!(declared.contains(&name), "{path}: `{name}` is not declared");
        }
    }
}

/// The month's quota: this month's accepted errors and transactions against
/// the plan (the free plan's by default), projected at the last day's pace,
/// and the traces sample rate that would fit, from the one on Render.
#[tokio::test]
async fn the_quota_is_projected_to_the_month_s_end_with_a_rate_that_fits() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let quota = json!({ "items": ["sentry-quota"] });
    // A server with no hourly errors yet still counts the month.
    fakes::lock(&fakes.sentry.world).hourly_errors.clear();
    let fits = &run_checks(&ana, project, &quota).await["sentry-quota"];
    assert_eq!(fits["status"], "passed", "{fits}");
    assert!(
        message(fits).starts_with("This month's use fits the plan: 300 of 5000 errors and 1500 of 10000 transactions so far"),
        "{fits}"
    );

    // 9,000 transactions already, 2,000 a day: the plan runs out.
    fakes::lock(&fakes.sentry.world).usage.transactions = (9_000, 2_000);
    fakes::lock(&fakes.render.world).env.insert(
        SERVICE.into(),
        vec![("SENTRY_TRACES_SAMPLE_RATE".into(), "0.2".into())],
    );
    server
        .state
        .clock()
        .advance(watchpost_proxy::services::FRESH_FOR);
    let short = &run_checks(&ana, project, &quota).await["sentry-quota"];
    assert_eq!(short["status"], "failed", "{short}");
    assert!(
        message(short).starts_with("Transactions will run out around "),
        "{short}"
    );
    assert!(
        message(short).contains("Lower SENTRY_TRACES_SAMPLE_RATE from 0.2 to "),
        "{short}"
    );
    let rate: f64 = short["observed"]["a rate that fits"]
        .as_str()
        .and_then(|rate| rate.parse().ok())
        .expect("a rate");
    assert!(rate > 0.0 && rate < 0.2, "{rate}");

    // Offered with the env var action: an admin sets the rate that fits.
    let admin = server.admin().await;
    let acted = admin
        .post(
            &format!("/api/projects/{project}/actions/render.fit_sample_rate"),
            "{}",
        )
        .await;
    assert_eq!(acted.status(), StatusCode::OK);
    let acted = json(acted).await;
    assert_eq!(acted["status"], "done", "{acted}");
    let set = fakes::lock(&fakes.render.world).env[SERVICE]
        .iter()
        .find(|(key, _)| key == "SENTRY_TRACES_SAMPLE_RATE")
        .map(|(_, value)| value.clone());
    assert_eq!(set, Some(rate.to_string()), "{acted}");

    // A larger plan of the project's own: it fits again.
    let plan = admin
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"plan_transactions_per_month": 500000}"#,
        )
        .await;
    assert_eq!(plan.status(), StatusCode::OK);
    let fits = &run_checks(&ana, project, &quota).await["sentry-quota"];
    assert_eq!(fits["status"], "passed", "{fits}");
    let asked: Vec<_> = fakes
        .sentry
        .requests()
        .into_iter()
        .filter(|(path, query)| {
            path.ends_with("/stats_v2/") && query.iter().any(|(name, _)| name == "category")
        })
        .collect();
    assert!(
        asked
            .iter()
            .any(|(_, query)| query.contains(&("category".to_owned(), "transaction".to_owned())))
    );
}

/// The frontend watched too: its Sentry project's errors and new issues,
/// and its page sampled with the health URLs and judged on its status and
/// load time against seed 003's 2 s.
#[tokio::test]
async fn the_frontend_s_errors_issues_and_page_are_checked() {
    let fakes = fakes().await;
    let (server, project) = server_with(&fakes).await;
    let ana = server.member("Ana").await;
    let items = json!({ "items": ["frontend-error-count", "routine-frontend-new-issues", "frontend-load"] });
    let reports = run_checks(&ana, project, &items).await;
    assert_eq!(
        reports["frontend-error-count"]["status"], "passed",
        "{reports:?}"
    );
    assert_eq!(
        reports["routine-frontend-new-issues"]["status"], "passed",
        "{reports:?}"
    );
    let page = &reports["frontend-load"];
    assert_eq!(page["status"], "not_configured", "{page}");
    assert!(message(page).contains("under Frontend URL in the project's settings"));
    assert!(
        fakes
            .sentry
            .requests()
            .iter()
            .any(|(path, _)| path.contains(fakes::launch::FRONTEND)),
        "the frontend's project was asked for"
    );

    let admin = server.admin().await;
    let set = admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "frontend_url": fakes.service.page.as_str() }).to_string(),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let page =
        &run_checks(&ana, project, &json!({ "items": ["frontend-load"] })).await["frontend-load"];
    assert_eq!(page["status"], "passed", "{page}");
    assert!(
        message(page).starts_with("The frontend's page loaded in "),
        "{page}"
    );
    assert!(message(page).ends_with(" ms (< 2000 ms target)."), "{page}");

    let missing = fakes.service.page.join("gone").expect("url");
    admin
        .patch(
            &format!("/api/projects/{project}"),
            &json!({ "frontend_url": missing.as_str() }).to_string(),
        )
        .await;
    let page =
        &run_checks(&ana, project, &json!({ "items": ["frontend-load"] })).await["frontend-load"];
    assert_eq!(page["status"], "failed", "{page}");
    assert!(
        message(page).starts_with("The frontend's page answered 404"),
        "{page}"
    );
}
