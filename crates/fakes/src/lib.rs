//! Fake Sentry, Render, Slack and service (health and backup status) servers
//! on 127.0.0.1, whose routes and answers follow the services' OpenAPI
//! documents in ../shared/specs. The proxy's tests drive them one by one;
//! [`Launch`] starts all four as one launch that passes every check, for the
//! tests that walk the whole setup and for the browser journeys.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::Uri;
use url::Url;

pub mod launch;
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

/// A fake's state, shared with the test that set it up. A test that panicked
/// while holding it has already failed; its poison is ignored.
pub fn lock<T>(shared: &Arc<Mutex<T>>) -> MutexGuard<'_, T> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
