//! The `/api` routes. Each module owns its `router()`.

mod health;
mod playbook;
mod projects;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};

use crate::AppState;
use crate::error::Error;

/// Request bodies are small JSON documents; anything larger is a mistake or an attack.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(playbook::router())
        .merge(projects::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn not_found(uri: Uri) -> Error {
    Error::NotFound(format!(
        "there is no API route {}; the routes are listed in ARCHITECTURE.md",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Error {
    Error::MethodNotAllowed(format!("{} does not accept {method}", uri.path()))
}
