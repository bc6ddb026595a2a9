//! The `/api` routes. Each module owns its `router()`.

mod health;
mod log;
mod openapi;
mod playbook;
mod projects;
mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;

use crate::AppState;
use crate::error::Error;
use crate::guard;

/// Request bodies are small JSON documents; anything larger is a mistake or an attack.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(session::router())
        .merge(playbook::router())
        .merge(projects::router())
        .merge(log::router())
        .merge(openapi::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost first: a cross-site request is refused before its session is looked up.
        .layer(middleware::from_fn_with_state(
            state,
            guard::require_session,
        ))
        .layer(middleware::from_fn(guard::same_origin))
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
