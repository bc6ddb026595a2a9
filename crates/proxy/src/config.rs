//! The proxy's configuration: flags, each with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "watchpost",
    version,
    about = "Serves the Watchpost app and keeps the team's launch progress."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "WATCHPOST_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the SQLite store; created when missing.
    #[arg(long, env = "WATCHPOST_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The built app (Trunk's dist/ directory).
    #[arg(long, env = "WATCHPOST_DIST", default_value = "./dist")]
    pub dist: PathBuf,

    /// A team's own playbook (TOML); without it, the launch playbook that ships with Watchpost.
    #[arg(long, env = "WATCHPOST_PLAYBOOK")]
    pub playbook: Option<PathBuf>,
}
