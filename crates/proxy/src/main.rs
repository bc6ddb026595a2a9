use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use watchpost_proxy::config::Config;
use watchpost_proxy::store::Store;
use watchpost_proxy::web::WebApp;
use watchpost_proxy::{AppState, app, load_playbook};

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr; stdout carries only the URL, for scripts that read it.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    let started = Instant::now();
    let playbook = load_playbook(config.playbook.as_deref())?;
    let store = Store::open(&config.data_dir).await.map_err(|err| {
        format!(
            "cannot open the store in {}: {err}",
            config.data_dir.display()
        )
    })?;
    let web = WebApp::load(&config.dist);
    if !web.is_built() {
        tracing::warn!(dist = %config.dist.display(), "no built app found; only the API is served");
    }
    let state = AppState {
        store: store.clone(),
        playbook: Arc::new(playbook),
        web: Arc::new(web),
        started,
    };

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", config.addr))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    tracing::info!(data_dir = %config.data_dir.display(), "store ready");
    println!("Watchpost is running at http://{addr}");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| format!("the server stopped: {err}"))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight, close the store.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
