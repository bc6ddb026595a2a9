//! Health probes: the seeds' JSON read and judged, and the SSRF rules: every
//! internal address class refused before anything is sent, a name that
//! resolves to loopback refused, redirects kept on their host.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use domain::condition::{Condition, conditions};
use serde_json::json;
use url::Url;
use watchpost_proxy::upstream::UpstreamError;
use watchpost_proxy::upstream::health::{HealthProber, Refused};

/// A team's service on 127.0.0.1; returns its base URL and a request counter.
async fn service() -> (Url, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = |hits: Arc<AtomicUsize>| {
        move || {
            hits.fetch_add(1, Ordering::SeqCst);
            async {}
        }
    };
    let app = Router::new()
        .route(
            "/health",
            get({
                let count = counted(hits.clone());
                move || async move {
                    count().await;
                    axum::Json(json!({
                        "status": "ok",
                        "services": { "database": true, "supabase": true },
                        "timestamp": "2026-11-22T12:00:00Z",
                        "uptime": 3600
                    }))
                }
            }),
        )
        .route(
            "/degraded",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({ "status": "degraded", "services": { "database": false, "vapi": true } })),
                )
            }),
        )
        .route("/page", get(|| async { "<html>fine</html>" }))
        .route(
            "/agent",
            get(|headers: axum::http::HeaderMap| async move {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|agent| agent.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                axum::Json(json!({ "status": "ok", "agent": agent }))
            }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/health")]).into_response() }),
        )
        .route(
            "/elsewhere",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://other.example/health")],
                )
                    .into_response()
            }),
        );
    let url = common::serve_on_loopback(app).await;
    (url, hits)
}

/// The conditions a project without its own is judged by.
fn defaults() -> Vec<Condition> {
    conditions(&[])
}

fn prober(allow_private: bool) -> HealthProber {
    HealthProber::new(Duration::from_secs(2), allow_private).expect("prober")
}

#[tokio::test]
async fn a_healthy_endpoint_and_a_degraded_one_are_told_apart() {
    let (base, _) = service().await;
    let probe = prober(true)
        .probe(&base.join("health").unwrap(), &defaults())
        .await
        .expect("probe");
    assert!(probe.is_healthy(), "{probe:?}");
    assert_eq!(probe.uptime(), Some(3600.0));
    assert!(probe.latency < Duration::from_secs(1));

    let degraded = prober(true)
        .probe(&base.join("degraded").unwrap(), &defaults())
        .await
        .expect("probe");
    assert!(!degraded.is_healthy());
    assert_eq!(degraded.status, 503);
    let unmet: Vec<String> = degraded.unmet.iter().map(ToString::to_string).collect();
    assert_eq!(
        unmet,
        [
            "the status code should be below 300 (saw 503)",
            "status should be ok, healthy, up or pass (saw “degraded”)",
            "every services.* should be true (saw services.database: “false”)",
        ]
    );

    // A plain 200 page passes the defaults; a team that asks for its JSON
    // says so in its conditions.
    let page = prober(true)
        .probe(&base.join("page").unwrap(), &defaults())
        .await
        .expect("probe");
    assert!(page.is_healthy(), "{page:?}");
    let strict = conditions(&["[BODY].status == ok".to_owned()]);
    let page = prober(true)
        .probe(&base.join("page").unwrap(), &strict)
        .await
        .expect("probe");
    assert_eq!(
        page.unmet
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["status should be ok (saw a body that is not JSON)"]
    );

    let moved = prober(true)
        .probe(&base.join("moved").unwrap(), &defaults())
        .await
        .expect("probe");
    assert!(
        moved.is_healthy(),
        "a redirect on the same host is followed"
    );
    let elsewhere = prober(true)
        .probe(&base.join("elsewhere").unwrap(), &defaults())
        .await;
    assert!(
        matches!(elsewhere, Err(Err(UpstreamError::Unreachable(ref why))) if why.contains("another host")),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn internal_addresses_are_refused_before_anything_is_sent() {
    let (base, hits) = service().await;
    let port = base.port().expect("port");
    let prober = prober(false);
    for url in [
        format!("http://127.0.0.1:{port}/health"),
        format!("http://[::1]:{port}/health"),
        format!("http://[::ffff:127.0.0.1]:{port}/health"),
        "http://10.0.0.7/health".to_owned(),
        "http://172.20.0.1/health".to_owned(),
        "http://192.168.0.10/health".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fe80::1]/health".to_owned(),
        "http://[fd00::1]/health".to_owned(),
        "http://0.0.0.0/health".to_owned(),
        "http://100.64.0.1/health".to_owned(),
    ] {
        let refused = prober.probe(&Url::parse(&url).unwrap(), &defaults()).await;
        assert!(
            matches!(refused, Err(Ok(Refused::Internal(_)))),
            "{url}: {refused:?}"
        );
    }
    // A name that resolves to loopback: refused on the resolved address.
    let by_name = prober
        .probe(
            &Url::parse(&format!("http://localhost:{port}/health")).unwrap(),
            &defaults(),
        )
        .await;
    assert!(
        matches!(by_name, Err(Ok(Refused::Internal(ip))) if ip.is_loopback()),
        "{by_name:?}"
    );
    assert_eq!(
        prober
            .probe(
                &Url::parse("ftp://example.com/health").unwrap(),
                &defaults()
            )
            .await,
        Err(Ok(Refused::Scheme))
    );
    assert_eq!(
        prober
            .probe(&Url::parse("file:///etc/passwd").unwrap(), &defaults())
            .await,
        Err(Ok(Refused::Scheme))
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the service"
    );
    let refusal = Refused::Internal("127.0.0.1".parse().unwrap()).to_string();
    assert!(
        refusal.contains("WATCHPOST_ALLOW_PRIVATE_TARGETS"),
        "{refusal}"
    );
}

/// The probes name Watchpost, so that a team's SDK or logs can leave them
/// out (seed 003: ignore health checks).
#[tokio::test]
async fn a_probe_names_watchpost_in_its_user_agent() {
    let (url, _) = service().await;
    let probe = prober(true)
        .probe(&url.join("agent").expect("url"), &defaults())
        .await
        .expect("probe");
    let agent = probe.body.as_ref().expect("a body")["agent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(agent.starts_with("Watchpost/"), "{agent}");
    assert!(agent.ends_with("(health check)"), "{agent}");
}
