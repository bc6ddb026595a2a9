//! A proxy on 127.0.0.1:0 with a temporary store and a fake built app, and
//! clients signed in as team members with each role.
#![allow(dead_code, unused_imports, unreachable_pub)] // each test file uses a different part

pub mod postgres;
pub mod process;
pub mod schema;
pub mod sse;

pub use fakes::render as fake_render;
pub use fakes::sentry as fake_sentry;
pub use fakes::{query_pairs, serve_on_loopback, specs};

use std::path::Path;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use watchpost_proxy::application::{Application, Settings};
use watchpost_proxy::auth::{Auth, SignInLimits, hash_passcode};
use watchpost_proxy::clock::Clock;
use watchpost_proxy::secret::Secret;
use watchpost_proxy::serve::ConnectionLimits;
use watchpost_proxy::{AppState, load_playbook};

pub const INDEX: &str = r#"<!doctype html><html><head><link rel="stylesheet" href="/style-0123456789abcdef.css"><script type="module">import init from '/watchpost-app-0123456789abcdef.js';await init();</script></head><body></body></html>"#;

pub const VIEWER: &str = "viewer-pass";
pub const MEMBER: &str = "team-pass";
pub const ADMIN: &str = "admin-pass";

/// How a test proxy is reached and limited.
pub struct Options {
    pub public_origins: Vec<String>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub max_streams: usize,
    pub connections: ConnectionLimits,
    pub request_timeout: Duration,
    pub services: watchpost_proxy::config::ServiceSettings,
    /// When set, the watcher runs, probing health URLs this often.
    pub sample_interval: Option<Duration>,
    /// How often the error watch reads Sentry (checked at each sample).
    pub error_watch_interval: Duration,
    /// How many times faster than real time the server's clock runs.
    pub clock_speed: u32,
    /// A PostgreSQL store instead of SQLite in the data directory.
    pub database_url: Option<String>,
    /// How the replica is named on the timeline.
    pub replica_name: Option<String>,
    /// Serve `/metrics` on a port of its own.
    pub metrics: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            public_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            max_streams: watchpost_proxy::MAX_STREAMS,
            connections: ConnectionLimits::default(),
            request_timeout: watchpost_proxy::REQUEST_TIMEOUT,
            services: watchpost_proxy::config::ServiceSettings::default(),
            sample_interval: None,
            error_watch_interval: watchpost_proxy::watcher::DEFAULT_ERROR_INTERVAL,
            clock_speed: 1,
            database_url: None,
            replica_name: None,
            metrics: false,
        }
    }
}

pub struct Server {
    pub base: String,
    /// `http://…/metrics`, when asked for.
    pub metrics: Option<String>,
    pub state: AppState,
    pub data: TempDir,
    _dist: TempDir,
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_in(TempDir::new().expect("temp dir")).await
    }

    /// A proxy over an existing data directory, as after a restart.
    pub async fn start_in(data: TempDir) -> Self {
        Self::start_with(data, |_| {}).await
    }

    /// A proxy whose sign-in configuration `adjust` may change first.
    pub async fn start_with(data: TempDir, adjust: impl FnOnce(&mut Auth)) -> Self {
        Self::start_configured(data, adjust, Options::default()).await
    }

    /// A proxy with `options` for its network and limits, over a fresh store.
    pub async fn with_options(options: Options) -> Self {
        Self::start_configured(TempDir::new().expect("temp dir"), |_| {}, options).await
    }

    /// A proxy with `options` for its network and limits.
    pub async fn start_configured(
        data: TempDir,
        adjust: impl FnOnce(&mut Auth),
        options: Options,
    ) -> Self {
        let dist = TempDir::new().expect("temp dir");
        write_dist(dist.path());
        write_auth_file(data.path());
        let loaded = Auth::load(
            &data.path().join("auth.toml"),
            Some(&Secret::new(MEMBER)),
            Duration::from_secs(3600),
        )
        .expect("auth loads");
        assert!(loaded.generated.is_none());
        let mut auth = loaded.auth;
        // Tests sign in often, all from 127.0.0.1; the limits have their own tests.
        auth.limits = SignInLimits::generous();
        adjust(&mut auth);
        let settings = Settings {
            addr: ([127, 0, 0, 1], 0).into(),
            services: options.services,
            clock: Clock::faster(options.clock_speed),
            public_origins: options.public_origins,
            trusted_proxies: options.trusted_proxies,
            max_streams: options.max_streams,
            connections: options.connections,
            request_timeout: options.request_timeout,
            sample_interval: options.sample_interval,
            error_watch_interval: options.error_watch_interval,
            database_url: options.database_url.map(Secret::new),
            replica_name: options.replica_name,
            metrics_addr: options.metrics.then(|| ([127, 0, 0, 1], 0).into()),
            ..Settings::new(
                data.path().to_owned(),
                dist.path().to_owned(),
                auth,
                load_playbook(None).expect("built-in playbook"),
            )
        };
        let application = Application::build(settings)
            .await
            .expect("the server builds");
        let base = format!("http://{}", application.addr());
        let metrics = application
            .metrics_addr()
            .map(|addr| format!("http://{addr}/metrics"));
        let state = application.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(application.run_until(async {
            let _ = stopped.await;
        }));
        Server {
            base,
            metrics,
            state,
            data,
            _dist: dist,
            task,
            stop,
        }
    }

    /// Stops as the binary does (streams ended, background work stopped,
    /// the store closed); returns the data directory.
    pub async fn stop(self) -> TempDir {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.data
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .expect("client"),
        }
    }

    /// A client signed in as `name` with `passcode`.
    pub async fn signed_in(&self, name: &str, passcode: &str) -> Client {
        let client = self.anonymous();
        let response = client
            .send(
                Method::POST,
                "/api/session",
                Some(&serde_json::json!({ "name": name, "passcode": passcode }).to_string()),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{name} signs in");
        client
    }

    pub async fn admin(&self) -> Client {
        self.signed_in("Dana", ADMIN).await
    }

    pub async fn member(&self, name: &str) -> Client {
        self.signed_in(name, MEMBER).await
    }

    /// A project made by an admin; returns its id.
    pub async fn project(&self, name: &str) -> i64 {
        let response = self
            .admin()
            .await
            .post(
                "/api/projects",
                &serde_json::json!({ "name": name }).to_string(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        json(response).await["id"].as_i64().expect("an id")
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub async fn send(&self, method: Method, path: &str, body: Option<&str>) -> reqwest::Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_owned());
        }
        request.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &str) -> reqwest::Response {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &str) -> reqwest::Response {
        self.send(Method::PATCH, path, Some(body)).await
    }

    /// Appends a change to a project's log; returns the status and the body.
    pub async fn append(
        &self,
        project: i64,
        op_id: &str,
        kind: &str,
        payload: Value,
    ) -> (StatusCode, Value) {
        let body = serde_json::json!({ "op_id": op_id, "kind": kind, "payload": payload });
        let response = self
            .post(&format!("/api/projects/{project}/log"), &body.to_string())
            .await;
        let status = response.status();
        (status, json(response).await)
    }
}

pub async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

pub fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// What the fake build wrote as `file`'s precompressed form (`br` or `gz`):
/// marker bytes, not real compression, so a test can tell them apart.
pub fn precompressed(file: &str, suffix: &str) -> Vec<u8> {
    format!("{suffix} form of {file}").into_bytes()
}

fn write_dist(dir: &Path) {
    std::fs::write(dir.join("index.html"), INDEX).expect("write");
    std::fs::write(
        dir.join("style-0123456789abcdef.css"),
        "body{color:black}".repeat(100),
    )
    .expect("write");
    for file in ["index.html", "style-0123456789abcdef.css"] {
        for suffix in ["br", "gz"] {
            std::fs::write(
                dir.join(format!("{file}.{suffix}")),
                precompressed(file, suffix),
            )
            .expect("write");
        }
    }
    std::fs::write(dir.join("manifest.webmanifest"), "{}").expect("write");
}

/// A viewer and an admin passcode; the member passcode comes from the "environment".
fn write_auth_file(dir: &Path) {
    let file = dir.join("auth.toml");
    if file.exists() {
        return;
    }
    let hash = |p: &str| hash_passcode(&Secret::new(p)).expect("hash");
    std::fs::write(
        file,
        format!(
            "[[passcodes]]\nrole = \"viewer\"\nhash = \"{}\"\n\n[[passcodes]]\nrole = \"admin\"\nhash = \"{}\"\n",
            hash(VIEWER),
            hash(ADMIN)
        ),
    )
    .expect("write auth.toml");
}

/// The proxy's services, configured for the fakes of `launch`.
pub fn services(launch: &fakes::Launch) -> watchpost_proxy::config::ServiceSettings {
    use fakes::launch::{ORG, RENDER_KEY, SENTRY_TOKEN};
    watchpost_proxy::config::ServiceSettings {
        sentry_base_url: launch.sentry.base.clone(),
        sentry_auth_token: Some(Secret::new(SENTRY_TOKEN)),
        sentry_org: Some(ORG.into()),
        render_base_url: launch.render.base.clone(),
        render_api_key: Some(Secret::new(RENDER_KEY)),
        slack_webhook_url: Some(Secret::new(launch.slack.webhook.to_string())),
        // The fakes are on 127.0.0.1.
        allow_private_targets: true,
        call_limits: watchpost_proxy::upstream::CallLimits::default(),
    }
}

/// A proxy configured for `launch`, with a project "Voxanne" set up for it.
pub async fn launch_server(launch: &fakes::Launch) -> (Server, i64) {
    launch_server_in(TempDir::new().expect("dir"), launch, Options::default()).await
}

/// A proxy over `data` with `options`, configured for `launch` as
/// [`launch_server`] is, with its project.
pub async fn launch_server_in(
    data: TempDir,
    launch: &fakes::Launch,
    options: Options,
) -> (Server, i64) {
    let server = Server::start_configured(
        data,
        |_| {},
        Options {
            services: services(launch),
            ..options
        },
    )
    .await;
    let project = server.project("Voxanne").await;
    let mut settings = launch.project_settings("Voxanne");
    settings.as_object_mut().map(|o| o.remove("name"));
    let response = server
        .admin()
        .await
        .patch(&format!("/api/projects/{project}"), &settings.to_string())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    (server, project)
}
