//! The proxy's configuration: flags, each with an environment fallback; the
//! upstream services' settings may also come from a file (`--config`): flag,
//! then environment, then file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde::Deserialize;
use url::Url;

use crate::secret::Secret;
use crate::upstream::CallLimits;

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

    /// A PostgreSQL database to keep the store in instead of SQLite
    /// (postgres://user:password@host/db): several replicas may share it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// This replica's name on the timeline when it takes over the watch
    /// [default: Render's instance id, else host:port].
    #[arg(long, env = "WATCHPOST_REPLICA_NAME")]
    pub replica_name: Option<String>,

    /// Where to serve /metrics (Prometheus' text format) for the team's own
    /// monitoring, such as 127.0.0.1:9090 or a private address; off when
    /// not given. It has no sign-in: keep it off the public network.
    #[arg(long, env = "WATCHPOST_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// How log lines are written to standard error: `text`, or `json` (one
    /// object per line) for a log collector.
    #[arg(long, env = "WATCHPOST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

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

    /// An admin passcode, for replicas that share their passcodes through
    /// the environment rather than an auth.toml on a disk.
    #[arg(long, env = "WATCHPOST_ADMIN_PASSCODE", hide_env_values = true)]
    pub admin_passcode: Option<Secret>,

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

    /// A TOML file with the upstream services' settings, for those not given
    /// by a flag or the environment ([sentry], [render], [slack]; see the README).
    #[arg(long = "config", env = "WATCHPOST_CONFIG")]
    pub config_file: Option<PathBuf>,

    /// Sentry's address (sentry.io, or a self-hosted or Sentry-compatible
    /// server); the API is under /api/0/ [default: https://sentry.io].
    #[arg(long, env = "SENTRY_BASE_URL")]
    pub sentry_base_url: Option<Url>,

    /// A Sentry auth token (organization token or personal token with
    /// project:read, project:write, alerts:read, alerts:write, event:read, org:read).
    #[arg(long, env = "SENTRY_AUTH_TOKEN", hide_env_values = true)]
    pub sentry_auth_token: Option<Secret>,

    /// The Sentry organization a project belongs to unless its settings name another.
    #[arg(long, env = "SENTRY_ORG")]
    pub sentry_org: Option<String>,

    /// A Render API key.
    #[arg(long, env = "RENDER_API_KEY", hide_env_values = true)]
    pub render_api_key: Option<Secret>,

    /// Render's API [default: https://api.render.com/v1].
    #[arg(long, env = "RENDER_BASE_URL")]
    pub render_base_url: Option<Url>,

    /// A Slack incoming webhook URL (it is itself a secret).
    #[arg(long, env = "SLACK_WEBHOOK_URL", hide_env_values = true)]
    pub slack_webhook_url: Option<Secret>,

    /// Let health checks reach loopback and private addresses (set to 1 only
    /// when the service Watchpost watches runs on such an address).
    #[arg(long, env = "WATCHPOST_ALLOW_PRIVATE_TARGETS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    pub allow_private_targets: bool,

    /// How often each health URL is probed while a watch runs, in seconds.
    #[arg(long, env = "WATCHPOST_SAMPLE_INTERVAL", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sample_interval: u64,

    /// How often the error watch reads Sentry's failure rate and new
    /// critical issues while a watch runs, in seconds (checked at each
    /// sample, so at most as often as the sample interval).
    #[arg(long, env = "WATCHPOST_ERROR_WATCH_INTERVAL", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub error_watch_interval: u64,

    /// For tests only: run the server's clock this many times faster than
    /// real time, so that a 24-hour watch passes in minutes. The app shows it.
    #[arg(long, env = "WATCHPOST_TEST_CLOCK_SPEED", default_value_t = 1, hide = true,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub test_clock_speed: u32,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The upstream services' settings, after flag, environment and file.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub sentry_base_url: Url,
    pub sentry_auth_token: Option<Secret>,
    pub sentry_org: Option<String>,
    pub render_base_url: Url,
    pub render_api_key: Option<Secret>,
    pub slack_webhook_url: Option<Secret>,
    pub allow_private_targets: bool,
    /// The bounds of every call to them (tests shorten them).
    pub call_limits: CallLimits,
}

impl Default for ServiceSettings {
    /// No service configured: every live check says which setting it needs.
    fn default() -> Self {
        ServiceSettings {
            sentry_base_url: Url::parse("https://sentry.io").unwrap_or_else(|_| unreachable!()),
            sentry_auth_token: None,
            sentry_org: None,
            render_base_url: Url::parse("https://api.render.com/v1")
                .unwrap_or_else(|_| unreachable!()),
            render_api_key: None,
            slack_webhook_url: None,
            allow_private_targets: false,
            call_limits: CallLimits::default(),
        }
    }
}

/// `--config`: the same settings as the flags, by service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    sentry: SentryFile,
    #[serde(default)]
    render: RenderFile,
    #[serde(default)]
    slack: SlackFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SentryFile {
    base_url: Option<Url>,
    auth_token: Option<Secret>,
    org: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderFile {
    base_url: Option<Url>,
    api_key: Option<Secret>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackFile {
    webhook_url: Option<Secret>,
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
    /// Copies the store of --data-dir to PATH, a new file, while the server
    /// runs or not: every write committed before it began, nothing after.
    Backup {
        /// Where the copy goes; an existing file is never overwritten.
        path: PathBuf,
    },
    /// Puts a backup back as the store of --data-dir. Refuses while a server
    /// uses it; the store it replaces is kept beside it.
    Restore {
        /// The backup to put back.
        path: PathBuf,
    },
}

fn parse_role(text: &str) -> Result<domain::api::Role, String> {
    domain::api::Role::from_name(text)
        .ok_or_else(|| format!("`{text}` is not a role; use viewer, member or admin"))
}

impl Config {
    /// The services' settings: each from its flag, else its environment
    /// variable, else `--config`, else its default.
    pub fn services(&self) -> Result<ServiceSettings, String> {
        let file = match &self.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
                toml::from_str::<ConfigFile>(&text)
                    .map_err(|err| format!("{}: {err}", path.display()))?
            }
            None => ConfigFile::default(),
        };
        let default_url = |text: &str| Url::parse(text).map_err(|err| err.to_string());
        Ok(ServiceSettings {
            sentry_base_url: match self.sentry_base_url.clone().or(file.sentry.base_url) {
                Some(url) => url,
                None => default_url("https://sentry.io")?,
            },
            sentry_auth_token: self.sentry_auth_token.clone().or(file.sentry.auth_token),
            sentry_org: self.sentry_org.clone().or(file.sentry.org),
            render_base_url: match self.render_base_url.clone().or(file.render.base_url) {
                Some(url) => url,
                None => default_url("https://api.render.com/v1")?,
            },
            render_api_key: self.render_api_key.clone().or(file.render.api_key),
            slack_webhook_url: self.slack_webhook_url.clone().or(file.slack.webhook_url),
            allow_private_targets: self.allow_private_targets,
            call_limits: CallLimits::default(),
        })
    }

    pub fn auth_file(&self) -> PathBuf {
        self.auth_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("auth.toml"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("watchpost").chain(args.iter().copied()))
            .expect("flags parse")
    }

    #[test]
    fn a_setting_comes_from_its_flag_then_the_file_then_its_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("watchpost.toml");
        std::fs::write(
            &file,
            "[sentry]\norg = \"from-file\"\nauth_token = \"file-token\"\n\n[render]\napi_key = \"file-key\"\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let services = parse(&["--config", path, "--sentry-org", "from-flag"])
            .services()
            .unwrap();
        assert_eq!(services.sentry_org.as_deref(), Some("from-flag"));
        assert_eq!(
            services.sentry_auth_token.as_ref().map(Secret::expose),
            Some("file-token")
        );
        assert_eq!(
            services.render_api_key.as_ref().map(Secret::expose),
            Some("file-key")
        );
        assert_eq!(services.sentry_base_url.as_str(), "https://sentry.io/");
        assert_eq!(
            services.render_base_url.as_str(),
            "https://api.render.com/v1"
        );
        assert!(services.slack_webhook_url.is_none());
        let shown = format!("{services:?}");
        assert!(
            !shown.contains("file-token") && !shown.contains("file-key"),
            "{shown}"
        );

        std::fs::write(&file, "[sentry]\ntoken = \"typo\"\n").unwrap();
        let err = parse(&["--config", path]).services().unwrap_err();
        assert!(
            err.contains("watchpost.toml") && err.contains("token"),
            "{err}"
        );
    }
}
