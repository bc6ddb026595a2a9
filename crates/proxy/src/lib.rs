//! Watchpost's proxy: serves the app, keeps the team's shared progress, and is
//! the only holder of API tokens. `main.rs` wires configuration to [`app`].

pub mod auth;
pub mod config;
pub mod error;
mod extract;
mod guard;
mod routes;
pub mod runs;
pub mod secret;
pub mod store;
pub mod web;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use domain::Playbook;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::runs::Runs;
use crate::store::Store;
use crate::web::WebApp;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub runs: Runs,
    pub auth: Arc<Auth>,
    pub playbook: Arc<Playbook>,
    pub web: Arc<WebApp>,
    pub started: Instant,
}

impl AppState {
    pub fn new(store: Store, auth: Auth, playbook: Playbook, web: WebApp) -> Self {
        AppState {
            runs: Runs::new(store.clone()),
            store,
            auth: Arc::new(auth),
            playbook: Arc::new(playbook),
            web: Arc::new(web),
            started: Instant::now(),
        }
    }
}

/// The whole HTTP surface: `/api/...` and the app.
pub fn app(state: AppState) -> Router {
    let csp = state.web.csp();
    let web = state.web.clone().router();
    Router::new()
        .nest("/api", routes::router(state.clone()))
        .with_state(state)
        .fallback_service(web)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// The team's playbook file, or the one that ships with Watchpost.
pub fn load_playbook(path: Option<&Path>) -> Result<Playbook, String> {
    let Some(path) = path else {
        return Playbook::default_launch()
            .map_err(|err| format!("the built-in playbook is invalid: {err}"));
    };
    let source = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read the playbook {}: {err}", path.display()))?;
    Playbook::from_toml(&source).map_err(|err| format!("{}: {err}", path.display()))
}
