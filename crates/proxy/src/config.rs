//! The proxy's configuration: flags, each with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::secret::Secret;

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

    /// The team passcode; it gives the member role. Without any passcode
    /// configured, the first start makes a member and an admin passcode.
    #[arg(long, env = "WATCHPOST_TEAM_PASSCODE", hide_env_values = true)]
    pub team_passcode: Option<Secret>,

    /// Passcode hashes and roles by name (TOML) [default: DATA_DIR/auth.toml].
    #[arg(long, env = "WATCHPOST_AUTH_FILE")]
    pub auth_file: Option<PathBuf>,

    /// How long a sign-in lasts, in hours.
    #[arg(long, env = "WATCHPOST_SESSION_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(u64).range(1..=168))]
    pub session_hours: u64,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Reads a passcode on standard input and prints its hash for auth.toml.
    HashPasscode,
}

impl Config {
    pub fn auth_file(&self) -> PathBuf {
        self.auth_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("auth.toml"))
    }
}
