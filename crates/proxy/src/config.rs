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
    #[arg(
        long,
        env = "WATCHPOST_DATA_DIR",
        default_value = "./data",
        global = true
    )]
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

    /// Shared passcodes and people with their own (TOML, hashes only)
    /// [default: DATA_DIR/auth.toml]. Re-read on SIGHUP.
    #[arg(long, env = "WATCHPOST_AUTH_FILE", global = true)]
    pub auth_file: Option<PathBuf>,

    /// An origin the app is served from, such as https://watchpost.example.com
    /// (repeatable). Changes must come from one of these or from this
    /// machine's loopback names, and requests must name one of their hosts.
    #[arg(
        long = "public-origin",
        env = "WATCHPOST_PUBLIC_ORIGIN",
        value_delimiter = ','
    )]
    pub public_origins: Vec<String>,

    /// A reverse proxy whose X-Forwarded-For / Forwarded headers name the
    /// client: an address or a CIDR block (repeatable).
    #[arg(long = "trusted-proxy", env = "WATCHPOST_TRUSTED_PROXY", value_delimiter = ',',
          value_parser = crate::net::parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Open connections at once; more wait until one closes.
    #[arg(long, env = "WATCHPOST_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Live streams open at once, for the whole server (each session may
    /// hold 20).
    #[arg(long, env = "WATCHPOST_MAX_STREAMS", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,

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
    /// Adds a person with their own passcode to auth.toml, or changes one:
    /// their name is then reserved for them. Reads the passcode on standard
    /// input; an empty line (or --generate) makes one and prints it once.
    Person {
        /// The name they sign in with.
        name: String,
        /// viewer, member or admin.
        #[arg(long, value_parser = parse_role)]
        role: domain::api::Role,
        /// Make a passcode instead of reading one.
        #[arg(long)]
        generate: bool,
    },
}

fn parse_role(text: &str) -> Result<domain::api::Role, String> {
    domain::api::Role::from_name(text)
        .ok_or_else(|| format!("`{text}` is not a role; use viewer, member or admin"))
}

impl Config {
    pub fn auth_file(&self) -> PathBuf {
        self.auth_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("auth.toml"))
    }
}
