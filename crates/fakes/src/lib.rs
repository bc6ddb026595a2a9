//! Fake Sentry, Render, Slack and service (health and backup status) servers
//! on 127.0.0.1, whose routes and answers follow the services' OpenAPI
//! documents in `specs/` (copies of ../shared/specs). The proxy's tests drive them one by one;
//! [`Launch`] starts all four as one launch that passes every check, for the
//! tests that walk the whole setup and for the browser journeys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::{self, Next};
use url::Url;

pub mod launch;
pub mod recorded;
pub mod render;
pub mod sentry;
pub mod service;
pub mod slack;
pub mod specs;

pub use launch::Launch;

/// Serves `app` on 127.0.0.1 at a free port, for the life of the runtime; its base URL.
pub async fn serve_on_loopback(app: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let url = Url::parse(&format!(
        "http://{}/",
        listener.local_addr().expect("a bound address")
    ))
    .expect("a URL");
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// How long the fakes of a launch wait before they answer, as a real
/// service's network and work would: none in tests; the benchmark sets it.
#[derive(Debug, Clone, Default)]
pub struct Latency(Arc<AtomicU64>);

impl Latency {
    pub fn set(&self, latency: Duration) {
        self.0.store(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// `router`, answering after the latency.
    pub fn delay(&self, router: Router) -> Router {
        let latency = self.clone();
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let micros = latency.0.load(Ordering::Relaxed);
            async move {
                if micros > 0 {
                    tokio::time::sleep(Duration::from_micros(micros)).await;
                }
                next.run(request).await
            }
        }))
    }
}

/// A request's query, as name and value pairs.
pub fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Every value `pairs` (a [`query_pairs`] answer) gives `name`, in order.
pub fn query_values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .collect()
}

/// A fake's state, shared with the test that set it up. A test that panicked
/// while holding it has already failed; its poison is ignored.
pub fn lock<T>(shared: &Arc<Mutex<T>>) -> MutexGuard<'_, T> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
