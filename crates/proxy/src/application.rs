//! The one place a Watchpost server is put together: `main.rs` builds it
//! from the command line, the tests from their options, and the benchmarks
//! run the binary that `main.rs` makes. What it starts in the background
//! (the watcher, and what the watcher and handlers spawn) is owned by the
//! state's task tracker and stopped before the store closes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use domain::Playbook;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::ServiceSettings;
use crate::net::Network;
use crate::secret::Secret;
use crate::serve::{ConnectionLimits, serve};
use crate::store::Store;
use crate::store::copy::DataDirLock;
use crate::watcher::Watcher;
use crate::web::WebApp;
use crate::{AppState, MAX_STREAMS, REQUEST_TIMEOUT, app};

/// Everything a server is built from.
#[derive(Debug)]
pub struct Settings {
    /// Where to listen: `127.0.0.1:0` picks a free port (tests).
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The PostgreSQL store several replicas share; `None` keeps the
    /// SQLite store in `data_dir`.
    pub database_url: Option<Secret>,
    /// How the timeline names this replica; `None` picks one.
    pub replica_name: Option<String>,
    /// Where `/metrics` is served; `None` serves none.
    pub metrics_addr: Option<SocketAddr>,
    /// The built app (Trunk's dist/ directory).
    pub dist: PathBuf,
    pub auth: Auth,
    pub playbook: Playbook,
    pub services: ServiceSettings,
    pub clock: Clock,
    pub public_origins: Vec<String>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub max_streams: usize,
    pub connections: ConnectionLimits,
    pub request_timeout: Duration,
    /// How often the watcher probes health URLs; `None` keeps the watcher
    /// off (tests that drive a watch by hand).
    pub sample_interval: Option<Duration>,
    /// How often the error watch reads Sentry.
    pub error_watch_interval: Duration,
}

impl Settings {
    /// Defaults for everything but what only the caller knows.
    pub fn new(data_dir: PathBuf, dist: PathBuf, auth: Auth, playbook: Playbook) -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            database_url: None,
            replica_name: None,
            metrics_addr: None,
            dist,
            auth,
            playbook,
            services: ServiceSettings::default(),
            clock: Clock::default(),
            public_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            max_streams: MAX_STREAMS,
            connections: ConnectionLimits::default(),
            request_timeout: REQUEST_TIMEOUT,
            sample_interval: Some(crate::watcher::DEFAULT_SAMPLE_INTERVAL),
            error_watch_interval: crate::watcher::DEFAULT_ERROR_INTERVAL,
        }
    }
}

/// A built server: listening, its store open, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    /// `/metrics`' own listener, when asked for.
    metrics: Option<(TcpListener, SocketAddr)>,
    state: AppState,
    connections: ConnectionLimits,
    watch: bool,
    /// Held until the store is closed: no restore, and no second server,
    /// replaces the SQLite store under this one.
    data_dir: Option<DataDirLock>,
}

impl Application {
    /// Opens the store, binds the address and brings the sessions in line
    /// with the sign-in configuration (a restart applies it as a reload does).
    pub async fn build(settings: Settings) -> Result<Self, String> {
        let data_dir = match settings.database_url {
            Some(_) => None,
            None => Some(DataDirLock::take(&settings.data_dir)?),
        };
        let web = WebApp::load(&settings.dist);
        if !web.is_built() {
            tracing::warn!(dist = %settings.dist.display(), "no built app found; only the API is served");
        }
        let listener = TcpListener::bind(settings.addr)
            .await
            .map_err(|err| format!("cannot listen on {}: {err}", settings.addr))?;
        let addr = listener.local_addr().map_err(|err| err.to_string())?;
        let metrics = match settings.metrics_addr {
            Some(at) => {
                let listener = TcpListener::bind(at)
                    .await
                    .map_err(|err| format!("cannot serve metrics on {at}: {err}"))?;
                let bound = listener.local_addr().map_err(|err| err.to_string())?;
                Some((listener, bound))
            }
            None => None,
        };
        let replica = settings
            .replica_name
            .clone()
            .or_else(|| std::env::var("RENDER_INSTANCE_ID").ok())
            .unwrap_or_else(|| format!("{}:{}", host_name(), addr.port()));
        let store = match &settings.database_url {
            Some(url) => Store::connect(url, &replica).await.map_err(|err| {
                format!("cannot open the store in PostgreSQL (--database-url): {err}")
            })?,
            None => Store::open(&settings.data_dir).await.map_err(|err| {
                format!(
                    "cannot open the store in {}: {err}",
                    settings.data_dir.display()
                )
            })?,
        }
        .with_clock(settings.clock);
        let network = Network::new(
            &settings.public_origins,
            addr.port(),
            settings.trusted_proxies,
        )?;
        if settings.public_origins.is_empty() && !addr.ip().is_loopback() {
            tracing::warn!(
                "listening on {addr} without --public-origin: only this machine's loopback names are accepted; \
                 name the address people use with --public-origin"
            );
        }
        let mut state = AppState::new(store, settings.auth, network, settings.playbook, web)
            .with_replica(replica)
            .with_max_streams(settings.max_streams)
            .with_services(&settings.services)?
            .with_request_timeout(settings.request_timeout);
        if let Some(interval) = settings.sample_interval {
            state = state.with_watch_intervals(interval, settings.error_watch_interval);
        }
        state
            .sessions
            .reconcile(&state.auth)
            .await
            .map_err(|err| format!("cannot update the sessions: {err}"))?;
        Ok(Application {
            listener,
            addr,
            metrics,
            state,
            connections: settings.connections,
            watch: settings.sample_interval.is_some(),
            data_dir,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, addr)| *addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes; then ends the live streams, stops
    /// the background tasks, waits for them (up to the connections' grace
    /// period) and closes the store.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let (state, grace) = (self.state, self.connections.shutdown_grace);
        if state.store.is_shared() {
            state.spawn(state.runs.clone().follow_other_replicas());
        }
        if let Some((listener, _)) = self.metrics {
            state.spawn(serve_metrics(listener, state.clone()));
        }
        if self.watch {
            // Resumes sampling and scheduling for every running watch (on a
            // shared store, once this replica holds the watcher's lock).
            state.spawn(Watcher::run(state.clone()));
        }
        let stopping = state.clone();
        serve(
            self.listener,
            app(state.clone()),
            self.connections,
            async move {
                shutdown.await;
                stopping.sessions.close_all();
                stopping.stopping.cancel();
            },
        )
        .await;
        state.stopping.cancel();
        state.tasks.close();
        if tokio::time::timeout(grace, state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("stopped waiting for background work");
        }
        state.store.close().await;
        drop(self.data_dir);
    }
}

/// This machine's name, for naming the replica.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `GET /metrics` on its own listener, until the server stops.
async fn serve_metrics(listener: TcpListener, state: AppState) {
    let router = axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(state);
    if let Err(err) = axum::serve(listener, router).await {
        tracing::error!(%err, "the metrics listener stopped");
    }
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    let sessions = state.store.live_sessions().await.unwrap_or(0);
    let text = state.metrics.encode(state.sessions.streams(), sessions);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}
