//! Watchpost's proxy: serves the app, keeps the team's shared progress, and is
//! the only holder of API tokens. `main.rs` turns configuration into
//! [`application::Settings`]; [`application::Application`] builds the server
//! around [`app`], the HTTP surface.

pub mod actions;
pub mod alert_rules;
pub mod application;
pub mod auth;
pub mod charts;
pub mod clock;
pub mod config;
pub mod error;
mod extract;
mod guard;
pub mod live;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod report;
pub(crate) mod routes;
pub mod runs;
pub mod secret;
pub mod serve;
pub mod services;
pub mod sessions;
pub mod store;
pub mod upstream;
pub mod watcher;
pub mod web;

/// Every path the API serves, from its routers: the API test tries them all.
pub use routes::paths as api_paths;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use domain::Playbook;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::ServiceSettings;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::net::Network;
use crate::runs::Runs;
use crate::services::Services;
use crate::sessions::Sessions;
use crate::store::Store;
use crate::watcher::Watcher;
use crate::web::WebApp;

/// How long a request may take to produce its answer's head. A live stream
/// answers at once and then streams, so it is not cut by this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Live streams the whole server holds open at most, by default.
pub const MAX_STREAMS: usize = 2_000;

/// What every handler can reach, behind one `Arc`: axum clones the state for
/// each extractor and middleware of every request, and a clone of the fields
/// themselves was some thirty reference counts and four allocations (the
/// clients' URLs and secrets). Found with `perf` during `scripts/bench`: a
/// project read at 50 at once took 2.1 ms at p50, 0.6-1.0 ms like this.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The state's fields, read through [`AppState`]'s `Deref`.
#[derive(Debug, Clone)]
pub struct Shared {
    pub store: Store,
    pub services: Services,
    pub runs: Runs,
    pub sessions: Sessions,
    pub auth: Arc<Auth>,
    pub network: Arc<Network>,
    pub playbook: Arc<Playbook>,
    pub web: Arc<WebApp>,
    /// The sampler's and the scheduler's memory; [`watcher::Watcher::run`] drives it.
    pub watcher: Watcher,
    pub started: Instant,
    /// This replica's name, for the timeline when it takes over the watch.
    pub replica: String,
    /// What `/metrics` reports (`--metrics-addr`).
    pub metrics: Metrics,
    /// Held while a sign-off is judged and stored: one at a time.
    pub sign_offs: Arc<tokio::sync::Mutex<()>>,
    /// How long an answer may take to start; see [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// The work started in the background, waited for before the store
    /// closes; see [`AppState::spawn`].
    pub tasks: TaskTracker,
    /// Cancelled when the server stops: loops end at their next turn.
    pub stopping: CancellationToken,
}

impl AppState {
    pub fn new(
        store: Store,
        auth: Auth,
        network: Network,
        playbook: Playbook,
        web: WebApp,
    ) -> Self {
        let metrics = Metrics::default();
        AppState(Arc::new(Shared {
            services: Services::new(&ServiceSettings::default(), store.clone(), &metrics)
                .unwrap_or_else(|err| unreachable!("the default clients build: {err}")),
            runs: Runs::new(store.clone()).measured(&metrics),
            sessions: Sessions::new(store.clone(), MAX_STREAMS),
            store,
            auth: Arc::new(auth),
            network: Arc::new(network),
            playbook: Arc::new(playbook),
            web: Arc::new(web),
            watcher: Watcher::default(),
            started: Instant::now(),
            replica: "this server".to_owned(),
            metrics,
            sign_offs: Arc::default(),
            request_timeout: REQUEST_TIMEOUT,
            tasks: TaskTracker::new(),
            stopping: CancellationToken::new(),
        }))
    }

    /// Starts `work` in the background, owned by the server: a stop
    /// cancels it and waits for it to end before the store closes. What it
    /// had not stored is redone after a restart (a due snapshot, a sample)
    /// or is a wait whose end nobody is left to hear.
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output: Send> + Send + 'static,
    {
        let stopping = self.stopping.clone();
        self.tasks.spawn(async move {
            let _ = stopping.run_until_cancelled(work).await;
        });
    }

    /// The fields, to change while the state is built (a copy if it is
    /// already shared, which it is not then).
    fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// The state, naming this replica `replica`.
    pub fn with_replica(mut self, replica: String) -> Self {
        self.shared_mut().replica = replica;
        self
    }

    /// Live checks against the configured services.
    pub fn with_services(mut self, services: &ServiceSettings) -> Result<Self, String> {
        let store = self.store.clone();
        let metrics = self.metrics.clone();
        self.shared_mut().services = Services::new(services, store, &metrics)?;
        Ok(self)
    }

    /// The server's clock, which the store stamps entries with.
    pub fn clock(&self) -> &Clock {
        self.store.clock()
    }

    /// Health URLs probed every `sample` while a watch runs, and Sentry's
    /// error rate read every `errors`.
    pub fn with_watch_intervals(mut self, sample: Duration, errors: Duration) -> Self {
        let mut watcher = Watcher::new(sample);
        watcher.error_interval = errors;
        self.shared_mut().watcher = watcher;
        self
    }

    /// At most `max` live streams for the whole server.
    pub fn with_max_streams(mut self, max: usize) -> Self {
        self.shared_mut().sessions = Sessions::new(self.store.clone(), max);
        self
    }

    /// How long an answer may take to start.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.shared_mut().request_timeout = timeout;
        self
    }

    /// Re-reads `auth.toml` and brings every session in line with it.
    pub async fn reload_auth(&self) -> Result<(), String> {
        for warning in self.auth.reload()? {
            tracing::warn!("{warning}");
        }
        let (changed, ended) = self
            .sessions
            .reconcile(&self.auth)
            .await
            .map_err(|err| format!("cannot update the sessions: {err}"))?;
        tracing::info!(changed, ended, "sign-in configuration reloaded");
        Ok(())
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole HTTP surface: `/api/...` and the app.
pub fn app(state: AppState) -> Router {
    let web = state.web.clone().router();
    let timeout = state.request_timeout;
    let layers = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::known_host,
        ))
        // A page of the proxy's own (the printable report) sets a stricter one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            {
                let csp = state.web.csp();
                move |response: &axum::response::Response| {
                    (!web::is_subresource(response)).then(|| csp.clone())
                }
            },
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
        .layer(HandleErrorLayer::new(move |_| async move {
            Error::Timeout(format!(
                "the request took longer than {} seconds; try again",
                timeout.as_secs_f64()
            ))
        }))
        .timeout(timeout);
    Router::new()
        // The app's files come compressed from the build; answers per request.
        .nest(
            "/api",
            routes::router(state.clone())
                .route_layer(middleware::from_fn_with_state(
                    state.metrics.clone(),
                    metrics::count_request,
                ))
                .layer(CompressionLayer::new()),
        )
        .with_state(state)
        .fallback_service(web)
        .layer(layers)
}

/// Takes the lock even when a panicking holder poisoned it, as every shared
/// table here (caches, counters, channels) stays usable after a panic.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
