use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use watchpost_proxy::auth::{self, Auth};
use watchpost_proxy::config::{Command, Config};
use watchpost_proxy::secret::Secret;
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
    let result = match config.command {
        Some(Command::HashPasscode) => hash_passcode(),
        None => run(config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
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
    let key = store
        .key_or_insert("session", || auth::new_key().expose().to_owned())
        .await
        .map_err(|err| format!("cannot read the session key: {err}"))?;
    let (auth, generated) = Auth::load(
        &config.auth_file(),
        config.team_passcode.as_ref(),
        Secret::new(key),
        Duration::from_secs(config.session_hours * 3600),
    )?;
    if let Some(generated) = generated {
        // Shown once, on the first start; only the hashes are kept.
        println!(
            "No passcode was configured, so Watchpost made two. They are shown only now:\n  \
             team passcode (member): {}\n  admin passcode:         {}\n\
             Their hashes are in {}. Set WATCHPOST_TEAM_PASSCODE or edit that file to change them.",
            generated.member.expose(),
            generated.admin.expose(),
            generated.file.display()
        );
    }
    let state = AppState::new(store.clone(), auth, playbook, web);

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", config.addr))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    tracing::info!(data_dir = %config.data_dir.display(), "store ready");
    println!("Watchpost is running at http://{addr}");
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|err| format!("the server stopped: {err}"))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn hash_passcode() -> Result<(), String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|err| format!("cannot read the passcode: {err}"))?;
    let passcode = line.trim_end_matches(['\r', '\n']);
    if passcode.is_empty() {
        return Err("type the passcode on standard input".to_owned());
    }
    println!("{}", auth::hash_passcode(&Secret::new(passcode))?);
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
