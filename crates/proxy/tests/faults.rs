//! Every fault of every service, through the proxy: Sentry, Render, Slack
//! and a health endpoint that time out, refuse the connection, answer 401,
//! 403, 404, 405 (a missing endpoint), 429 with Retry-After, 500, an HTML
//! page, malformed JSON, an oversized body or a Link header that does not
//! parse. Each becomes a check result with a status and what to do next:
//! never a failed request, a panic or a token in the answer.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::Options;
use serde_json::Value;
use tempfile::TempDir;
use url::Url;
use watchpost_proxy::config::ServiceSettings;
use watchpost_proxy::secret::Secret;
use watchpost_proxy::upstream::CallLimits;

const TOKEN: &str = "sntrys_fault_canary_91c2";

/// What the fault server answers, to every request.
type Fault = Arc<Mutex<&'static str>>;

async fn answer(fault: Fault, uri: axum::http::Uri) -> Response {
    let name = *fault.lock().expect("lock");
    let json = |body: &str| {
        (
            [(header::CONTENT_TYPE, "application/json")],
            body.to_owned(),
        )
    };
    match name {
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json("{}").into_response()
        }
        "401" => StatusCode::UNAUTHORIZED.into_response(),
        "403" => StatusCode::FORBIDDEN.into_response(),
        "404" => StatusCode::NOT_FOUND.into_response(),
        "405" => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        "429" => (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "60")]).into_response(),
        "500" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html")],
            "<!doctype html><title>Not the API</title>",
        )
            .into_response(),
        "malformed" => json("{\"id\": ").into_response(),
        "huge" => json(&format!("[\"{}\"]", "x".repeat(64 * 1024))).into_response(),
        // The organization answers, so that a listing is reached.
        "bad-link" if uri.path().ends_with("/organizations/acme/") => {
            json(r#"{"slug": "acme", "links": {}}"#).into_response()
        }
        "bad-link" => ([(header::LINK, "next page, maybe")], json("[]")).into_response(),
        _ => StatusCode::IM_A_TEAPOT.into_response(),
    }
}

/// A proxy whose four services are one fault server (or, for `refused`,
/// an address nothing listens on), with short call limits.
async fn proxy(base: &Url) -> common::Server {
    let services = ServiceSettings {
        sentry_base_url: base.clone(),
        sentry_auth_token: Some(Secret::new(TOKEN)),
        sentry_org: Some("acme".into()),
        render_base_url: base.join("v1").expect("url"),
        render_api_key: Some(Secret::new(TOKEN)),
        slack_webhook_url: Some(Secret::new(base.join("hook").expect("url").to_string())),
        allow_private_targets: true,
        call_limits: CallLimits {
            deadline: Duration::from_secs(1),
            first_backoff: Duration::from_millis(20),
            max_body: 16 * 1024,
            ..CallLimits::default()
        },
    };
    common::Server::start_configured(
        TempDir::new().expect("dir"),
        |_| {},
        Options {
            services,
            ..Options::default()
        },
    )
    .await
}

/// A project for the fault server: a new one per fault, so that no result
/// of the one before is reused.
async fn project(server: &common::Server, base: &Url, name: &str) -> i64 {
    let project = server.project(name).await;
    let settings = serde_json::json!({
        "sentry_project": "voxanne",
        "render_service_id": "srv-d4voxanne",
        "health_urls": [base.join("health").expect("url").as_str()],
    });
    let admin = server.admin().await;
    let response = admin
        .patch(&format!("/api/projects/{project}"), &settings.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    project
}

/// The items that ask each client: Sentry (a read, and a listing), Render
/// (a read, and a listing), Slack, the health endpoint.
const ITEMS: [&str; 6] = [
    "sentry-backend-project-exists",
    "sentry-backend-dsn",
    "render-service-exists",
    "render-env-node-env",
    "slack-webhook-works",
    "health-endpoint-ok",
];

async fn reports(server: &common::Server, project: i64) -> Vec<Value> {
    let ana = server.member("Ana").await;
    let response = ana
        .post(
            &format!("/api/projects/{project}/checks"),
            &serde_json::json!({ "items": ITEMS }).to_string(),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a fault is a result, not a failed request"
    );
    let body = response.text().await.expect("body");
    assert!(!body.contains(TOKEN), "the token leaked: {body}");
    serde_json::from_str::<Value>(&body)
        .expect("JSON")
        .as_array()
        .expect("a list")
        .clone()
}

/// `(fault, [(status, what the message says)] per item of ITEMS)`.
fn expectations() -> Vec<(&'static str, [(&'static str, &'static str); 6])> {
    vec![
        (
            "slow",
            [
                ("error", "did not answer within 1s"),
                ("error", "did not answer within 1s"),
                ("error", "did not answer within 1s"),
                ("error", "did not answer within 1s"),
                ("error", "did not answer within 1s"),
                // An endpoint too slow to answer is an unhealthy one.
                ("failed", "did not answer within 1s"),
            ],
        ),
        (
            "401",
            [
                ("error", "refused the token (401)"),
                ("error", "Check the token in Watchpost's configuration"),
                ("error", "refused the token (401)"),
                ("error", "refused the token (401)"),
                ("error", "refused the token (401)"),
                ("failed", "the status code should be below 300 (saw 401)"),
            ],
        ),
        (
            "403",
            [
                ("error", "refused access (403)"),
                ("error", "lacks the scope org:read"),
                ("error", "refused access (403)"),
                ("error", "refused access (403)"),
                ("error", "refused access (403)"),
                ("failed", "the status code should be below 300 (saw 403)"),
            ],
        ),
        (
            "404",
            [
                ("failed", "Sentry has no project"),
                ("error", "has no such resource (404)"),
                ("failed", "Render has no service"),
                ("error", "has no such resource (404)"),
                ("error", "has no such resource (404)"),
                ("failed", "the status code should be below 300 (saw 404)"),
            ],
        ),
        (
            "405",
            [
                ("unsupported", "does not offer this endpoint (405)"),
                ("unsupported", "verify it by hand"),
                ("unsupported", "does not offer this endpoint (405)"),
                ("unsupported", "does not offer this endpoint (405)"),
                ("unsupported", "does not offer this endpoint (405)"),
                ("failed", "the status code should be below 300 (saw 405)"),
            ],
        ),
        (
            "429",
            [
                ("error", "limiting requests (429); it asks to wait 60 s"),
                ("error", "limiting requests (429)"),
                ("error", "limiting requests (429)"),
                ("error", "limiting requests (429)"),
                ("error", "limiting requests (429)"),
                ("failed", "the status code should be below 300 (saw 429)"),
            ],
        ),
        (
            "500",
            [
                ("error", "failed (500)"),
                ("error", "Check again in a minute"),
                ("error", "failed (500)"),
                ("error", "failed (500)"),
                ("error", "failed (500)"),
                ("failed", "the status code should be below 300 (saw 500)"),
            ],
        ),
        (
            "html",
            [
                (
                    "unsupported",
                    "answered an HTML page where JSON was expected",
                ),
                ("unsupported", "not supported by this server"),
                ("unsupported", "an HTML page"),
                ("unsupported", "an HTML page"),
                // Slack answers text, not JSON: anything but `ok` is a failure to post.
                ("failed", "Slack refused it"),
                // A 200 without the seeds' JSON meets the default conditions.
                ("passed", "meets its conditions"),
            ],
        ),
        (
            "malformed",
            [
                // An answer without what Watchpost reads: this server
                // differs from Sentry's, so it is verified by hand.
                ("unsupported", "JSON that Watchpost cannot read"),
                ("unsupported", "JSON that Watchpost cannot read"),
                ("unsupported", "JSON that Watchpost cannot read"),
                ("unsupported", "JSON that Watchpost cannot read"),
                ("failed", "Slack refused it"),
                ("passed", "meets its conditions"),
            ],
        ),
        (
            "huge",
            [
                ("error", "more than 16384 bytes"),
                ("error", "more than 16384 bytes"),
                ("error", "more than 16384 bytes"),
                ("error", "more than 16384 bytes"),
                ("error", "more than 16384 bytes"),
                ("passed", "meets its conditions"),
            ],
        ),
        (
            "bad-link",
            [
                // A single object where one was asked for, with a header it does not need.
                ("unsupported", "JSON that Watchpost cannot read"),
                ("unsupported", "pagination Watchpost cannot follow"),
                ("unsupported", "JSON that Watchpost cannot read"),
                // Render pages by cursor, not by Link: an empty listing.
                ("failed", "NODE_ENV is not set"),
                ("failed", "Slack refused it"),
                ("passed", "meets its conditions"),
            ],
        ),
    ]
}

#[tokio::test]
async fn every_fault_of_every_service_is_a_status_with_what_to_do() {
    let fault: Fault = Arc::new(Mutex::new("ok"));
    let shared = fault.clone();
    let base =
        common::serve_on_loopback(Router::new().fallback(move |uri| answer(shared.clone(), uri)))
            .await;
    let server = proxy(&base).await;
    for (name, expected) in expectations() {
        *fault.lock().expect("lock") = name;
        let project = project(&server, &base, name).await;
        let got = reports(&server, project).await;
        for ((item, report), (status, said)) in ITEMS.iter().zip(&got).zip(expected) {
            assert_eq!(report["item"], *item);
            let message = report["message"].as_str().unwrap_or_default();
            assert!(
                report["status"] == status && message.contains(said),
                "{name} at {item}: expected {status} saying {said:?}, got {report}"
            );
        }
    }
}

#[tokio::test]
async fn a_service_that_refuses_connections_is_an_error_that_says_so() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = Url::parse(&format!("http://{}/", closed.local_addr().expect("addr"))).expect("url");
    drop(closed);
    let server = proxy(&base).await;
    let project = project(&server, &base, "refused").await;
    for report in reports(&server, project).await {
        let message = report["message"].as_str().unwrap_or_default();
        assert!(
            ["error", "failed"].contains(&report["status"].as_str().unwrap_or_default())
                && message.contains("connection refused"),
            "{report}"
        );
    }
}
