//! The `/api` routes. Each module owns its `router()`.

mod actions;
pub(crate) mod checks;
mod health;
mod log;
mod openapi;
mod playbook;
mod projects;
mod session;
mod sign_off;
mod watch;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::routing::MethodRouter;
use tower::ServiceBuilder;

use crate::AppState;
use crate::error::Error;
use crate::guard;

/// Request bodies are small JSON documents; anything larger is a mistake or an attack.
const BODY_LIMIT: usize = 64 * 1024;

/// A router that remembers the paths it was given: axum cannot list its
/// routes, and the API test tries every method on every path served.
pub(crate) struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }

    pub(crate) fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.paths.push(path);
        self
    }

    fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }
}

/// The public routes and the private ones. Public routes are marked where
/// they are defined (`public_router`); every other route is behind the
/// session guard, so a new route is private unless it says otherwise.
fn routes() -> (Routes, Routes) {
    let public = Routes::new()
        .merge(health::public_router())
        .merge(session::public_router());
    let private = Routes::new()
        .merge(session::router())
        .merge(playbook::router())
        .merge(projects::router())
        .merge(log::router())
        .merge(checks::router())
        .merge(actions::router())
        .merge(watch::router())
        .merge(sign_off::router())
        .merge(openapi::router());
    (public, private)
}

/// Every path the API serves (as `/api/projects/{id}`), once each.
pub fn paths() -> Vec<String> {
    let (public, private) = routes();
    let mut paths: Vec<String> = public
        .paths
        .into_iter()
        .chain(private.paths)
        .map(|path| format!("/api{path}"))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

pub fn router(state: AppState) -> Router<AppState> {
    let (public, private) = routes();
    let private = private.router.route_layer(middleware::from_fn_with_state(
        state.clone(),
        guard::require_session,
    ));
    public
        .router
        .merge(private)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                // A cross-site request is refused before its session is looked up.
                .layer(middleware::from_fn_with_state(state, guard::same_origin)),
        )
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
