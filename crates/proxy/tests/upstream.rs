//! The upstream call rules against a fake service on 127.0.0.1: every fault
//! a real or Sentry-compatible server shows, and what Watchpost makes of it.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, post};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;
use watchpost_proxy::secret::Secret;
use watchpost_proxy::upstream::{CallLimits, Paging, Upstream, UpstreamError};

const TOKEN: &str = "canary-7d1e9b";

#[derive(Clone, Default)]
struct Fake {
    calls: Arc<Mutex<HashMap<String, usize>>>,
    /// The last request's headers, to see what was (not) sent.
    seen: Arc<Mutex<Option<HeaderMap>>>,
}

impl Fake {
    fn count(&self, name: &str) -> usize {
        let mut calls = self.calls.lock().expect("lock");
        let count = calls.entry(name.to_owned()).or_default();
        *count += 1;
        *count
    }

    fn calls(&self, name: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}

fn json_answer(value: Value) -> Response {
    axum::Json(value).into_response()
}

async fn fault(State(fake): State<Fake>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    *fake.seen.lock().expect("lock") = Some(headers);
    let call = fake.count(&name);
    match name.as_str() {
        "ok" => json_answer(json!({ "ok": true })),
        "delayed" => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            json_answer(json!({ "call": call }))
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json_answer(json!({}))
        }
        "401" => StatusCode::UNAUTHORIZED.into_response(),
        "403" => StatusCode::FORBIDDEN.into_response(),
        "404" => StatusCode::NOT_FOUND.into_response(),
        "405" => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        "429-once" if call == 1 => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response()
        }
        "sentry-reset-once" if call == 1 => {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_secs()
                + 1;
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("x-sentry-rate-limit-reset", reset.to_string())],
            )
                .into_response()
        }
        "500-once" if call == 1 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "429-once" | "sentry-reset-once" | "500-once" => json_answer(json!({ "ok": true })),
        "429-long" => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "60")]).into_response()
        }
        "500" => StatusCode::BAD_GATEWAY.into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><title>Sentry</title>",
        )
            .into_response(),
        "malformed" => {
            ([(header::CONTENT_TYPE, "application/json")], "{\"ok\": tru").into_response()
        }
        "huge" => json_answer(json!({ "blob": "x".repeat(64 * 1024) })),
        "bad-link" => ([(header::LINK, "next page, maybe")], axum::Json(json!([]))).into_response(),
        _ => StatusCode::IM_A_TEAPOT.into_response(),
    }
}

/// Sentry-style pages: `?cursor=N`, three pages of two items.
async fn sentry_pages(
    State(fake): State<Fake>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    *fake.seen.lock().expect("lock") = Some(headers.clone());
    let page: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let base = "http://placeholder/pages";
    let link = format!(
        "<{base}?cursor={prev}>; rel=\"previous\"; results=\"{has_prev}\"; cursor=\"{prev}\", <{base}?cursor={next}>; rel=\"next\"; results=\"{has_next}\"; cursor=\"{next}\"",
        prev = page.saturating_sub(1),
        has_prev = page > 0,
        next = page + 1,
        has_next = page < 2,
    );
    let host = format!(
        "http://{}",
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
    );
    (
        [(header::LINK, link.replace("http://placeholder", &host))],
        axum::Json(json!([{ "n": page * 2 }, { "n": page * 2 + 1 }])),
    )
        .into_response()
}

/// Render-style pages: `[{cursor, item}]`, 5 items in pages of `limit`.
async fn render_pages(Query(query): Query<HashMap<String, String>>) -> Response {
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20);
    let after: usize = query
        .get("cursor")
        .and_then(|c| c.strip_prefix('c')?.parse().ok())
        .map_or(0, |c: usize| c + 1);
    let page: Vec<Value> = (after..5.min(after + limit))
        .map(|n| json!({ "cursor": format!("c{n}"), "service": { "n": n } }))
        .collect();
    json_answer(Value::Array(page))
}

async fn change(State(fake): State<Fake>) -> Response {
    fake.count("change");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

async fn start() -> (Url, Fake) {
    let fake = Fake::default();
    let app = Router::new()
        .route("/fault/{name}", routing::get(fault))
        .route("/pages", routing::get(sentry_pages))
        .route("/render", routing::get(render_pages))
        .route("/change", post(change))
        .with_state(fake.clone());
    let url = common::serve_on_loopback(app).await;
    (url, fake)
}

fn upstream() -> Upstream {
    Upstream::new(CallLimits {
        deadline: Duration::from_secs(3),
        first_backoff: Duration::from_millis(10),
        max_body: 16 * 1024,
        max_pages: 10,
        ..CallLimits::default()
    })
    .expect("client")
}

async fn get(base: &Url, path: &str) -> Result<Value, UpstreamError> {
    upstream()
        .get(&base.join(path).expect("url"), Some(&Secret::new(TOKEN)))
        .await
}

#[tokio::test]
async fn every_fault_becomes_a_clear_error() {
    let (base, _) = start().await;
    assert_eq!(get(&base, "fault/ok").await, Ok(json!({ "ok": true })));
    let cases = [
        ("fault/401", UpstreamError::Unauthorized),
        ("fault/403", UpstreamError::Forbidden(None)),
        ("fault/404", UpstreamError::NotFound),
        ("fault/405", UpstreamError::Unsupported(405)),
        (
            "fault/html",
            UpstreamError::NotJson("an HTML page".to_owned()),
        ),
        ("fault/huge", UpstreamError::TooLarge(16 * 1024)),
        ("fault/500", UpstreamError::Server(502)),
    ];
    for (path, expected) in cases {
        assert_eq!(get(&base, path).await, Err(expected), "{path}");
    }
    assert!(matches!(
        get(&base, "fault/malformed").await,
        Err(UpstreamError::Malformed(_))
    ));
    let started = Instant::now();
    assert!(matches!(
        get(&base, "fault/slow").await,
        Err(UpstreamError::Timeout(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the deadline holds"
    );

    // Nothing listens: refused at once.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let gone =
        Url::parse(&format!("http://{}/x", closed.local_addr().expect("addr"))).expect("url");
    drop(closed);
    assert!(matches!(
        upstream().get::<Value>(&gone, None).await,
        Err(UpstreamError::Unreachable(_))
    ));
}

#[tokio::test]
async fn reads_are_retried_as_the_service_asks_and_changes_never() {
    let (base, fake) = start().await;
    let started = Instant::now();
    assert_eq!(
        get(&base, "fault/429-once").await,
        Ok(json!({ "ok": true }))
    );
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(fake.calls("429-once"), 2);

    assert_eq!(
        get(&base, "fault/sentry-reset-once").await,
        Ok(json!({ "ok": true }))
    );
    assert_eq!(
        get(&base, "fault/500-once").await,
        Ok(json!({ "ok": true }))
    );
    assert_eq!(fake.calls("500-once"), 2);

    // A wait beyond the deadline is not waited for.
    let started = Instant::now();
    assert_eq!(
        get(&base, "fault/429-long").await,
        Err(UpstreamError::RateLimited(Some(Duration::from_secs(60))))
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(fake.calls("429-long"), 1);

    // Server failures: the first attempt and 3 retries.
    let _ = get(&base, "fault/500").await;
    assert_eq!(fake.calls("500"), 4);

    let change = upstream()
        .send::<Value>(
            Method::POST,
            &base.join("change").expect("url"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(change, Err(UpstreamError::Server(500)));
    assert_eq!(fake.calls("change"), 1, "a change is sent once");
}

#[tokio::test]
async fn listings_follow_their_pages_up_to_the_cap() {
    let (base, _) = start().await;
    let token = Secret::new(TOKEN);
    let sentry: Vec<Value> = upstream()
        .get_all(
            &base.join("pages").expect("url"),
            Some(&token),
            Paging::LinkHeader,
        )
        .await
        .expect("pages");
    let numbers: Vec<u64> = sentry
        .iter()
        .filter_map(|item| item["n"].as_u64())
        .collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);

    let capped = Upstream::new(CallLimits {
        max_pages: 2,
        ..CallLimits::default()
    })
    .expect("client")
    .get_all::<Value>(
        &base.join("pages").expect("url"),
        Some(&token),
        Paging::LinkHeader,
    )
    .await
    .expect("pages");
    assert_eq!(capped.len(), 4);

    let render: Vec<Value> = upstream()
        .get_all(
            &base.join("render").expect("url"),
            Some(&token),
            Paging::Cursor { limit: 2 },
        )
        .await
        .expect("pages");
    let numbers: Vec<u64> = render
        .iter()
        .filter_map(|item| item["service"]["n"].as_u64())
        .collect();
    assert_eq!(numbers, [0, 1, 2, 3, 4]);

    assert!(matches!(
        upstream()
            .get_all::<Value>(
                &base.join("fault/bad-link").expect("url"),
                None,
                Paging::LinkHeader
            )
            .await,
        Err(UpstreamError::Pagination(_))
    ));
}

#[tokio::test]
async fn the_token_goes_as_a_bearer_and_nothing_else_is_sent() {
    let (base, fake) = start().await;
    get(&base, "fault/ok").await.expect("ok");
    let seen = fake.seen.lock().expect("lock").clone().expect("a request");
    assert_eq!(
        seen.get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(seen.get(header::COOKIE).is_none());
    assert!(
        seen.get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|agent| agent.starts_with("watchpost/"))
    );
    let errors = [
        UpstreamError::Unauthorized.to_string(),
        UpstreamError::NotJson("an HTML page".into()).to_string(),
        UpstreamError::RateLimited(Some(Duration::from_secs(60))).to_string(),
    ];
    for text in errors {
        assert!(
            !text.contains(TOKEN) && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_same_read_under_way_is_shared_and_a_finished_one_is_not_reused() {
    let (base, fake) = start().await;
    let client = upstream();
    let url = base.join("fault/delayed").expect("url");
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (client, url) = (client.clone(), url.clone());
        reads.spawn(async move { client.get::<Value>(&url, Some(&Secret::new(TOKEN))).await });
    }
    for answer in reads.join_all().await {
        assert_eq!(answer, Ok(json!({ "call": 1 })));
    }
    assert_eq!(fake.calls("delayed"), 1, "ten reads at once, one call");
    // Another token is another read; a read after the first finished asks again.
    let (other, token) = (Secret::new("another"), Secret::new(TOKEN));
    let answer = client.get::<Value>(&url, Some(&other)).await;
    assert_eq!(answer, Ok(json!({ "call": 2 })));
    let answer = client.get::<Value>(&url, Some(&token)).await;
    assert_eq!(answer, Ok(json!({ "call": 3 })));
}
