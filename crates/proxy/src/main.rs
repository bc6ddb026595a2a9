use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use domain::api::{Role, validated_display_name};
use tracing_subscriber::EnvFilter;
use watchpost_proxy::application::{Application, Settings};
use watchpost_proxy::auth::{self, Auth};
use watchpost_proxy::clock::Clock;
use watchpost_proxy::config::{Command, Config, LogFormat};
use watchpost_proxy::secret::Secret;
use watchpost_proxy::serve::ConnectionLimits;
use watchpost_proxy::store::copy;
use watchpost_proxy::{AppState, load_playbook};

/// glibc's malloc kept the memory of closed streams in its per-thread arenas
/// (3,000 streams: 109 MB resident, and still 107 MB 20 s after they closed);
/// jemalloc's background thread returns freed pages. Measured by `scripts/bench`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    // Logs go to stderr; stdout carries only the URL, for scripts that read it.
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        );
    match config.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let result = match &config.command {
        Some(Command::HashPasscode) => hash_passcode(),
        Some(Command::Person {
            name,
            role,
            generate,
        }) => set_person(&config, name, *role, *generate),
        Some(Command::Backup { path }) => backup(&config, path).await,
        Some(Command::Restore { path }) => restore(&config, path).await,
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
    // Refuse a broken --config before anything starts.
    let services = config.services()?;
    let playbook = load_playbook(config.playbook.as_deref())?;
    if config.test_clock_speed > 1 {
        tracing::warn!(
            speed = config.test_clock_speed,
            "the clock runs faster than real time: for tests only, never for a real watch"
        );
    }
    let loaded = Auth::load_with(
        &config.auth_file(),
        config.team_passcode.as_ref(),
        config.admin_passcode.as_ref(),
        Duration::from_secs(config.session_hours * 3600),
    )?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    if let Some(generated) = loaded.generated {
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
    let settings = Settings {
        addr: config.addr,
        services,
        clock: Clock::faster(config.test_clock_speed),
        public_origins: config.public_origins.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        max_streams: config.max_streams as usize,
        connections: ConnectionLimits {
            max_connections: config.max_connections as usize,
            ..ConnectionLimits::default()
        },
        database_url: config.database_url.clone(),
        metrics_addr: config.metrics_addr,
        replica_name: config.replica_name.clone(),
        sample_interval: Some(Duration::from_secs(config.sample_interval)),
        error_watch_interval: Duration::from_secs(config.error_watch_interval),
        ..Settings::new(
            config.data_dir.clone(),
            config.dist.clone(),
            loaded.auth,
            playbook,
        )
    };
    let application = Application::build(settings).await?;
    let state = application.state().clone();
    state.spawn(reload_on_hangup(state.clone()));
    let shutdown = shutdown_signal();
    match &config.database_url {
        Some(_) => tracing::info!(replica = %state.replica, "store ready on PostgreSQL"),
        None => tracing::info!(data_dir = %config.data_dir.display(), "store ready"),
    }
    println!("Watchpost is running at http://{}", application.addr());
    if let Some(metrics) = application.metrics_addr() {
        tracing::info!("metrics at http://{metrics}/metrics");
    }
    application.run_until(shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGHUP re-reads auth.toml; a broken file leaves the one in force. The
/// handler is installed at the call, before the URL is printed.
fn reload_on_hangup(state: AppState) -> impl Future<Output = ()> {
    #[cfg(unix)]
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut hangups) = hangups {
            while hangups.recv().await.is_some() {
                if let Err(err) = state.reload_auth().await {
                    tracing::error!("auth.toml was not reloaded: {err}");
                }
            }
        }
        #[cfg(not(unix))]
        let _ = state;
    }
}

fn hash_passcode() -> Result<(), String> {
    let passcode = read_line()?;
    if passcode.is_empty() {
        return Err("type the passcode on standard input".to_owned());
    }
    println!("{}", auth::hash_passcode(&Secret::new(passcode))?);
    Ok(())
}

/// `watchpost backup PATH`: while the server runs, or not.
async fn backup(config: &Config, path: &std::path::Path) -> Result<(), String> {
    let copied = copy::backup(&config.data_dir, path).await?;
    println!("backed up {copied}");
    Ok(())
}

/// `watchpost restore PATH`: only while no server uses the data directory.
async fn restore(config: &Config, path: &std::path::Path) -> Result<(), String> {
    let restored = copy::restore(&config.data_dir, path, &Clock::default()).await?;
    println!("restored {}", restored.store);
    if let Some(kept) = restored.kept {
        println!("the store it replaced is kept as {}", kept.display());
    }
    Ok(())
}

/// `watchpost person NAME --role ROLE`.
fn set_person(config: &Config, name: &str, role: Role, generate: bool) -> Result<(), String> {
    let name = validated_display_name(name)?;
    let prompt = format!("Passcode for {name} (at least 8 characters; an empty line makes one): ");
    let typed = if generate {
        String::new()
    } else if std::io::stdin().is_terminal() {
        // Not echoed, so it is not left on the screen or in a recording.
        rpassword::prompt_password(prompt)
            .map_err(|err| format!("cannot read the passcode: {err}"))?
    } else {
        read_line()?
    };
    let (passcode, made) = if typed.is_empty() {
        (auth::new_passcode(), true)
    } else if typed.chars().count() < 8 {
        return Err("a passcode needs at least 8 characters".to_owned());
    } else {
        (Secret::new(typed), false)
    };
    let file = config.auth_file();
    let new = auth::set_person(&file, &name, role, &auth::hash_passcode(&passcode)?)?;
    if made {
        println!("{name}'s passcode, shown only now: {}", passcode.expose());
    }
    println!(
        "{} {name} as {} in {}. A running Watchpost applies it on SIGHUP (or at its next start); \
         {name}'s open sessions then take the new role.",
        if new { "Added" } else { "Changed" },
        role.name(),
        file.display()
    );
    Ok(())
}

fn read_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|err| format!("cannot read standard input: {err}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight, close the
/// store. The handlers are installed when this is called, not when it is
/// first awaited: a signal sent as soon as the URL is printed is not lost
/// (the default action would kill the process mid-write).
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let received = |stream: Option<tokio::signal::unix::Signal>| async move {
                match stream {
                    Some(mut stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = received(interrupt) => {},
                () = received(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
