//! The checks and actions against a real Sentry-compatible server, as it
//! answered: GlitchTip 5.1's recorded answers (`crates/fakes/fixtures`)
//! replayed. What it has gives real passed and failed answers with what was
//! seen; what it lacks (Sentry's alert rules, monitors, integrations and
//! events queries) is unsupported, naming the step to do by hand; nothing is
//! an error, and Watchpost asks nothing that was not recorded.

mod common;

use std::collections::HashMap;

use common::{Options, Server, json};
use fakes::recorded::{GLITCHTIP, Recorded};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use watchpost_proxy::config::ServiceSettings;
use watchpost_proxy::secret::Secret;

async fn against_glitchtip() -> (Recorded, Server) {
    let glitchtip = Recorded::start(GLITCHTIP).await;
    let services = ServiceSettings {
        sentry_base_url: glitchtip.base.clone(),
        sentry_auth_token: Some(Secret::new("glitchtip-token")),
        sentry_org: Some("acme".into()),
        ..ServiceSettings::default()
    };
    let server = Server::start_configured(
        TempDir::new().expect("dir"),
        |_| {},
        Options {
            services,
            ..Options::default()
        },
    )
    .await;
    (glitchtip, server)
}

async fn project(server: &Server, settings: Value) -> i64 {
    let admin = server.admin().await;
    let created = admin.post("/api/projects", &settings.to_string()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    json(created).await["id"].as_i64().expect("an id")
}

#[tokio::test]
async fn every_check_against_glitchtip_is_passed_failed_or_unsupported_with_what_it_saw() {
    let (glitchtip, server) = against_glitchtip().await;
    let voxanne = project(
        &server,
        json!({ "name": "Voxanne", "sentry_project": "voxanne", "sentry_team": "backend", "platform": "node" }),
    )
    .await;
    let ana = server.member("Ana").await;
    let items = json!({ "items": [
        "sentry-backend-project-exists", "sentry-backend-dsn", "sentry-backend-events",
        "alert-high-error-rate", "alert-new-issue", "alert-error-spike", "sentry-slack-installed",
        "h4-error-rate", "h4-new-critical", "h8-error-trend", "h12-error-patterns",
        "h20-performance", "new-issues"
    ] });
    let answered = ana
        .post(
            &format!("/api/projects/{voxanne}/checks"),
            &items.to_string(),
        )
        .await;
    assert_eq!(answered.status(), StatusCode::OK);
    let reports: HashMap<String, Value> = json(answered)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| (r["item"].as_str().unwrap_or_default().to_owned(), r.clone()))
        .collect();
    let said = |item: &str| {
        reports[item]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    for (item, status, words) in [
        (
            "sentry-backend-project-exists",
            "passed",
            "Sentry has the project acme/voxanne",
        ),
        ("sentry-backend-dsn", "passed", "an active client key"),
        // Its latest event is Watchpost's own, and says so.
        ("sentry-backend-events", "passed", "Watchpost's test event"),
        (
            "alert-high-error-rate",
            "unsupported",
            "in the server's own alert settings",
        ),
        (
            "alert-new-issue",
            "unsupported",
            "in the server's own alert settings",
        ),
        (
            "alert-error-spike",
            "unsupported",
            "in the server's own alert settings",
        ),
        ("sentry-slack-installed", "unsupported", "verify it by hand"),
        // No events query: errors per hour stand in, and say why.
        ("h4-error-rate", "passed", "errors per hour instead"),
        // Seed 001's severity:critical at level error, and a fatal one.
        (
            "h4-new-critical",
            "failed",
            "2 new critical issues (severity:critical or level:fatal)",
        ),
        ("h8-error-trend", "passed", "errors in the last full hour"),
        ("h12-error-patterns", "passed", "with the most events"),
        ("h20-performance", "unsupported", "verify it by hand"),
        // Three of the app's own: the test events are not counted.
        ("new-issues", "failed", "3 new unresolved issues"),
    ] {
        let report = &reports[item];
        assert_eq!(report["status"], status, "{item}: {report}");
        assert!(said(item).contains(words), "{item}: {report}");
    }
    assert!(
        reports.values().all(|report| report["status"] != "error"),
        "{reports:?}"
    );
    let critical = &reports["h4-new-critical"]["observed"];
    let seen = |id: &str| critical[id].as_str().unwrap_or_default().to_owned();
    // Seed 001's error_type beside each, from GlitchTip's own tags path.
    assert!(seen("VOXANNE-2").contains("BolnaApiError"), "{critical}");
    assert!(
        seen("VOXANNE-2").ends_with("; error_type bolna_api_failure"),
        "{critical}"
    );
    assert!(seen("VOXANNE-4").contains("fatal"), "{critical}");
    assert!(
        seen("VOXANNE-4").ends_with("; error_type memory"),
        "{critical}"
    );
    assert!(
        !reports["new-issues"]
            .to_string()
            .contains("Watchpost test event"),
        "the test events are left out"
    );
    let errors = json(
        ana.get(&format!("/api/projects/{voxanne}/errors?window=24h"))
            .await,
    )
    .await;
    assert_eq!(errors["problem"], Value::Null, "{errors}");
    let total: u64 = errors["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .filter_map(|hour| hour[1].as_u64())
        .sum();
    assert_eq!(
        total, 3,
        "the app's three errors, without the two test events: {errors}"
    );
    assert_eq!(glitchtip.unmatched(), Vec::<String>::new());
}

#[tokio::test]
async fn the_setup_actions_against_glitchtip_create_what_it_can_and_name_the_rest() {
    let (glitchtip, server) = against_glitchtip().await;
    let web = project(
        &server,
        json!({ "name": "Voxanne web", "sentry_project": "voxanne-web", "sentry_team": "backend", "platform": "nextjs" }),
    )
    .await;
    let admin = server.admin().await;
    let act = |action: &'static str| {
        let admin = &admin;
        async move {
            json(
                admin
                    .post(&format!("/api/projects/{web}/actions/{action}"), "{}")
                    .await,
            )
            .await
        }
    };
    let created = act("sentry.create_project").await;
    assert_eq!(created["status"], "done", "{created}");
    assert_eq!(created["changed"]["platform"], "javascript-nextjs");
    assert_eq!(act("sentry.create_project").await["status"], "unchanged");
    let rules = act("sentry.create_alert_rules").await;
    assert_eq!(rules["status"], "failed", "{rules}");
    assert!(
        rules["message"]
            .as_str()
            .unwrap_or_default()
            .contains("in its own alert settings"),
        "{rules}"
    );
    assert_eq!(glitchtip.unmatched(), Vec::<String>::new());
}
