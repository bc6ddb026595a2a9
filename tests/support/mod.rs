//! Harness for the user journeys: the real `watchpost` binary serving the
//! release build of the app, and headless Chromium driven through chromedriver
//! (Firefox ESR and WebKitGTK too, for the journey every engine runs).
//!
//! `scripts/test` builds both and sets `WATCHPOST_BIN` and `WATCHPOST_DIST`.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long the app may take to show something after an action.
pub const UI_WAIT: Duration = Duration::from_secs(15);

fn required_env(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(value) => PathBuf::from(value),
        None => panic!(
            "{name} is not set: run the browser journeys through scripts/test, which builds what they need"
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("local address").port()
}

/// A running `watchpost` with its own empty store, and the passcodes its
/// first start made (it prints them once, as it does for a team).
#[derive(Debug)]
pub struct Watchpost {
    pub base: String,
    pub member_passcode: String,
    pub admin_passcode: String,
    port: u16,
    data: TempDir,
    /// The proxy's environment beyond the defaults (the services' settings).
    env: Vec<(&'static str, String)>,
    child: Option<Child>,
    /// The setup script's admin session, signed in once: sign-ins from one
    /// address are limited, and the browsers need theirs.
    admin: tokio::sync::OnceCell<reqwest::Client>,
}

impl Watchpost {
    pub async fn start() -> Self {
        Watchpost::start_with(Vec::new()).await
    }

    /// Starts with `env` set, such as the services' settings of a launch of fakes.
    pub async fn start_with(env: Vec<(&'static str, String)>) -> Self {
        let data = TempDir::new().expect("temp dir");
        let mut watchpost = Watchpost {
            base: String::new(),
            member_passcode: String::new(),
            admin_passcode: String::new(),
            port: free_port(),
            data,
            env,
            child: None,
            admin: tokio::sync::OnceCell::new(),
        };
        watchpost.base = format!("http://127.0.0.1:{}", watchpost.port);
        watchpost.restart().await;
        watchpost
    }

    /// Starts the binary (again) on the same port and store, and waits until it is healthy.
    pub async fn restart(&mut self) {
        self.stop();
        let child = Command::new(required_env("WATCHPOST_BIN"))
            .arg("--addr")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(self.data.path())
            .arg("--dist")
            .arg(required_env("WATCHPOST_DIST"))
            .env("RUST_LOG", "warn")
            .env_remove("WATCHPOST_TEAM_PASSCODE")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::piped())
            .spawn()
            .expect("watchpost starts");
        let mut child = child;
        if let Some(stdout) = child.stdout.take() {
            let printed = read_until_running(stdout);
            let passcode = |label: &str| {
                printed
                    .lines()
                    .find_map(|line| line.trim().strip_prefix(label))
                    .map(|rest| rest.trim().to_owned())
            };
            if let (Some(member), Some(admin)) = (
                passcode("team passcode (member):"),
                passcode("admin passcode:"),
            ) {
                self.member_passcode = member;
                self.admin_passcode = admin;
            }
        }
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let health = format!("{}/api/health", self.base);
        loop {
            if let Ok(response) = reqwest::get(&health).await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "watchpost did not become healthy at {health}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A proxy in front of `launch`'s fakes that samples health every
    /// second, on a clock `speed` times faster than real time, with the
    /// launch's service as a configured project: the proxy and its id.
    pub async fn for_launch(launch: &fakes::Launch, speed: u32) -> (Self, i64) {
        Self::for_launch_with(launch, speed, &[]).await
    }

    /// [`Watchpost::for_launch`], with more of its environment.
    pub async fn for_launch_with(
        launch: &fakes::Launch,
        speed: u32,
        more: &[(&'static str, &str)],
    ) -> (Self, i64) {
        let mut env = launch.env();
        env.push(("WATCHPOST_SAMPLE_INTERVAL", "1".to_owned()));
        env.push(("WATCHPOST_TEST_CLOCK_SPEED", speed.to_string()));
        env.extend(
            more.iter()
                .map(|(name, value)| (*name, (*value).to_owned())),
        );
        let watchpost = Watchpost::start_with(env).await;
        let id = watchpost
            .create_configured_project(&launch.project_settings("Voxanne backend"))
            .await;
        (watchpost, id)
    }

    /// Creates a project with `settings` through the API, as an admin, and
    /// returns its id.
    pub async fn create_configured_project(&self, settings: &Value) -> i64 {
        let client = self.admin_client().await;
        let response = client
            .post(format!("{}/api/projects", self.base))
            .json(settings)
            .send()
            .await
            .expect("create project");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let project: Value = response.json().await.expect("project JSON");
        project["id"].as_i64().expect("project id")
    }

    /// Starts a project's watch from `start` (RFC 3339), through the API.
    pub async fn start_watch(&self, project: i64, start: &str) {
        let client = self.admin_client().await;
        let response = client
            .post(format!("{}/api/projects/{project}/watch", self.base))
            .json(&json!({ "start": start }))
            .send()
            .await
            .expect("start the watch");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }

    /// A project's whole log, read through the API as an admin.
    pub async fn log(&self, project: i64) -> Value {
        let client = self.admin_client().await;
        client
            .get(format!("{}/api/projects/{project}/log", self.base))
            .send()
            .await
            .expect("read the log")
            .json()
            .await
            .expect("log JSON")
    }

    async fn admin_client(&self) -> reqwest::Client {
        self.admin
            .get_or_init(|| async {
                let client = reqwest::Client::builder()
                    .cookie_store(true)
                    .build()
                    .expect("client");
                let signed_in = client
                    .post(format!("{}/api/session", self.base))
                    .json(&json!({ "name": "Setup script", "passcode": self.admin_passcode }))
                    .send()
                    .await
                    .expect("sign in");
                assert!(signed_in.status().is_success(), "the admin signs in");
                client
            })
            .await
            .clone()
    }

    /// Creates a project through the API, as an admin, and returns its id.
    pub async fn create_project(&self, name: &str) -> i64 {
        self.create_configured_project(&json!({ "name": name }))
            .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// What the binary prints up to the line with its URL (passcodes come first).
fn read_until_running(stdout: std::process::ChildStdout) -> String {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(stdout);
    let mut printed = String::new();
    while !printed.contains("Watchpost is running at ") {
        match reader.read_line(&mut printed) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    // Keep draining so the proxy never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    printed
}

/// Signs in through the sign-in page, which the app shows to a new browser.
pub async fn sign_in(client: &Client, name: &str, passcode: &str) {
    find(client, &testid("sign-in-page")).await;
    replace_text(client, &testid("sign-in-name"), name).await;
    replace_text(client, &testid("sign-in-passcode"), passcode).await;
    click(client, &testid("sign-in-submit")).await;
    wait_for_text(client, &testid("signed-in-as"), name).await;
}

impl Drop for Watchpost {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The browser engines teams use, each driven through its own WebDriver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's Chromium through chromedriver, headless.
    Chromium,
    /// Firefox ESR through geckodriver (from crates.io), headless.
    Firefox,
    /// WebKitGTK's MiniBrowser through WebKitWebDriver, in an Xvfb display.
    WebKit,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::WebKit];

    /// The WebDriver server, its arguments, and the capabilities that start
    /// this engine with a fresh profile.
    fn driver(self, port: u16, profile: &std::path::Path) -> (String, Vec<String>, Value) {
        let env_or =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        match self {
            Engine::Chromium => (
                env_or("CHROMEDRIVER", "/usr/bin/chromedriver"),
                vec![format!("--port={port}")],
                json!({
                    "goog:chromeOptions": {
                        "binary": env_or("CHROMIUM", "/usr/bin/chromium"),
                        // Without the networking flags Chromium keeps trying to reach outside hosts.
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            "--disable-dev-shm-usage", "--window-size=1280,900",
                            format!("--user-data-dir={}", profile.display()),
                        ]
                    }
                }),
            ),
            Engine::Firefox => (
                env_or("GECKODRIVER", "geckodriver"),
                vec!["--port".to_owned(), port.to_string()],
                json!({
                    "browserName": "firefox",
                    "moz:firefoxOptions": {
                        "binary": env_or("FIREFOX", "/usr/bin/firefox-esr"),
                        "args": ["-headless", "-profile", profile.display().to_string()],
                        // Nothing outside this machine: no updates, studies or telemetry.
                        "prefs": {
                            "app.update.disabledForTesting": true,
                            "app.normandy.enabled": false,
                            "datareporting.policy.dataSubmissionEnabled": false,
                            "toolkit.telemetry.reportingpolicy.firstRun": false,
                            "network.captive-portal-service.enabled": false,
                            "network.connectivity-service.enabled": false,
                            "browser.region.network.url": "",
                            "services.settings.server": "data:,#remote-settings-off",
                        }
                    }
                }),
            ),
            Engine::WebKit => (
                env_or("WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver"),
                vec![format!("--port={port}")],
                json!({
                    "webkitgtk:browserOptions": {
                        "binary": env_or("MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"),
                        "args": ["--automation"]
                    }
                }),
            ),
        }
    }
}

/// A WebDriver server and the browser it drives.
struct Browser {
    client: Client,
    _driver: Driver,
    _display: Option<Driver>,
    _profile: TempDir,
}

/// A process of the harness (a WebDriver server, Xvfb), stopped when
/// dropped, so that a failure while opening a session leaves nothing running.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An X display of its own for a browser that needs one: Xvfb picks a free
/// number and writes it on the descriptor `-displayfd` names.
fn virtual_display() -> (Driver, String) {
    use std::io::{BufRead, BufReader};
    let xvfb = std::env::var("XVFB").unwrap_or_else(|_| "/usr/bin/Xvfb".to_owned());
    let mut child = Command::new(&xvfb)
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {xvfb}: {err}"));
    let mut number = String::new();
    let stdout = child.stdout.take().expect("Xvfb's output");
    BufReader::new(stdout)
        .read_line(&mut number)
        .unwrap_or_else(|err| panic!("{xvfb} names no display: {err}"));
    (Driver(child), format!(":{}", number.trim()))
}

impl Browser {
    async fn start(engine: Engine) -> Self {
        let port = free_port();
        let profile = TempDir::new().expect("temp dir");
        let (program, args, capabilities) = engine.driver(port, profile.path());
        let mut command = Command::new(&program);
        command
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let display = (engine == Engine::WebKit).then(|| {
            let (xvfb, display) = virtual_display();
            command.env("DISPLAY", display);
            xvfb
        });
        let driver = Driver(
            command
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {program}: {err}")),
        );
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(err) => {
                    assert!(
                        Instant::now() < deadline,
                        "cannot open a {engine:?} session through {program}: {err}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        if engine != Engine::Chromium {
            let _ = client.set_window_size(1280, 900).await;
        }
        Browser {
            client,
            _driver: driver,
            _display: display,
            _profile: profile,
        }
    }

    /// Ends the WebDriver session (the browser quits); dropping stops the driver.
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Runs a journey in a fresh Chromium and always closes it, even when the
/// journey fails, so no browser is left running.
pub async fn journey<F, Fut>(body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    journey_in(Engine::Chromium, body).await;
}

/// [`journey`] in the given engine.
pub async fn journey_in<F, Fut>(engine: Engine, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let browser = Browser::start(engine).await;
    let outcome = tokio::spawn(body(browser.client.clone())).await;
    browser.close().await;
    if let Err(err) = outcome {
        if err.is_panic() {
            std::panic::resume_unwind(err.into_panic());
        }
        panic!("the journey in {engine:?} was cancelled: {err}");
    }
}

/// The CSS selector of an element's `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Waits for an element to appear.
pub async fn find(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(UI_WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|err| panic!("{css} did not appear: {err}"))
}

/// Waits for an element and clicks it. A live view may draw the element
/// anew between finding and clicking it (on a fast test clock, the strip
/// changes every few milliseconds): then it is found again.
pub async fn click(client: &Client, css: &str) {
    let deadline = Instant::now() + UI_WAIT;
    loop {
        match find(client, css).await.click().await {
            Ok(_) => return,
            Err(fantoccini::error::CmdError::Standard(err))
                if err.error == fantoccini::error::ErrorStatus::StaleElementReference
                    && Instant::now() < deadline => {}
            Err(err) => panic!("cannot click {css}: {err}"),
        }
    }
}

/// Waits for a text field and replaces what it holds with `text`.
pub async fn replace_text(client: &Client, css: &str, text: &str) {
    let field = find(client, css).await;
    field
        .clear()
        .await
        .unwrap_or_else(|err| panic!("cannot clear {css}: {err}"));
    field
        .send_keys(text)
        .await
        .unwrap_or_else(|err| panic!("cannot type into {css}: {err}"));
}

/// Waits until the element's text contains `expected`, and returns the text.
pub async fn wait_for_text(client: &Client, css: &str, expected: &str) -> String {
    wait_for_text_within(client, css, expected, UI_WAIT).await
}

/// As [`wait_for_text`], for what takes longer than the app's reaction: a
/// checkpoint falling due on a test clock.
pub async fn wait_for_text_within(
    client: &Client,
    css: &str,
    expected: &str,
    within: Duration,
) -> String {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            last = element
                .text()
                .await
                .unwrap_or_else(|err| format!("(unreadable: {err})"));
            if last.is_empty() {
                last = shown_text(client, element).await;
            }
            if last.contains(expected) {
                return last;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed {expected:?}; last text: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text a person sees in `element`, read by the page itself: WebKit's
/// WebDriver reads none from an element that clips its own overflow (an
/// ellipsis), though the page shows it.
async fn shown_text(client: &Client, element: Element) -> String {
    let script = "const e = arguments[0]; \
        return e.checkVisibility({ visibilityProperty: true }) ? e.innerText : '';";
    match client.execute(script, vec![json!(element)]).await {
        Ok(Value::String(text)) => text,
        _ => String::new(),
    }
}

/// Waits until no element matches.
pub async fn wait_gone(client: &Client, css: &str) {
    let deadline = Instant::now() + UI_WAIT;
    while client.find(Locator::Css(css)).await.is_ok() {
        assert!(Instant::now() < deadline, "{css} did not go away");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where screenshots go: `WATCHPOST_SCREENSHOTS`, or tests/artifacts.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("WATCHPOST_SCREENSHOTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

pub async fn screenshot(client: &Client, name: &str) {
    plain_words(client, name).await;
    accessible(client, name).await;
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Waits for the in-page confirmation of an action within `scope`, returns
/// what it says the action will do, and confirms it.
pub async fn confirm_action(client: &Client, scope: &str) -> String {
    let plan = wait_for_text(client, &format!("{scope} {}", testid("confirm-plan")), "").await;
    click(client, &format!("{scope} {}", testid("confirm-yes"))).await;
    wait_gone(client, &format!("{scope} {}", testid("confirm-dialog"))).await;
    plan
}

/// Nothing on the page may stick out sideways on a phone; code scrolls
/// inside its own box.
pub async fn fits_a_phone(client: &Client, name: &str) {
    let overflow = client
        .execute(
            "const w = document.documentElement.clientWidth;
             return [...document.querySelectorAll('body *')]
                 .filter(e => !e.closest('pre') && e.getBoundingClientRect().right > w + 1)
                 .map(e => e.tagName + '.' + e.className);",
            vec![],
        )
        .await
        .expect("measure");
    assert_eq!(overflow, json!([]), "{name} is wider than a phone");
}

/// The page speaks the team's words: no HTTP status, no "seed" or "README",
/// and no id of an item, a target, a check or an action where its label
/// belongs. Every screenshot checks the page it shows.
pub async fn plain_words(client: &Client, name: &str) {
    let text = client
        .execute("return document.body.innerText", vec![])
        .await
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let found = unplain_words(&text);
    assert!(found.is_empty(), "{name} shows {found:?} in: {text}");
}

/// What in `text` is not the team's words (see [`plain_words`]).
pub fn unplain_words(text: &str) -> Vec<String> {
    let playbook = domain::Playbook::default_launch().expect("the shipped playbook");
    let ids = playbook
        .items()
        .map(|item| item.id.clone())
        .chain(
            playbook
                .watch
                .routine
                .iter()
                .flat_map(|routine| routine.targets.iter().map(|target| target.id.clone())),
        )
        // An id that is a plain word ("p99") may be said.
        .filter(|id| id.contains(['-', '_', '.']))
        .chain(
            domain::check::CheckKind::ALL
                .iter()
                .map(|kind| kind.name().to_owned()),
        )
        .chain(
            domain::action::ActionKind::ALL
                .iter()
                .map(|kind| kind.name().to_owned()),
        );
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| !word.is_empty())
        .collect();
    let mut found: Vec<String> = ids.filter(|id| words.contains(&id.as_str())).collect();
    for pair in words.windows(2) {
        let number = pair[1].len() == 3 && pair[1].bytes().all(|b| b.is_ascii_digit());
        if (pair[0] == "HTTP" || pair[0].eq_ignore_ascii_case("seed")) && number {
            found.push(format!("{} {}", pair[0], pair[1]));
        }
    }
    for word in ["README", "seeds", "Seed"] {
        if words.contains(&word) {
            found.push(word.to_owned());
        }
    }
    found
}

/// axe-core finds no critical or serious violation in the page as it is now.
/// Every screenshot checks the page it shows.
pub async fn accessible(client: &Client, name: &str) {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let axe = AXE.get_or_init(|| {
        let path = required_env("WATCHPOST_AXE");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read axe-core at {}: {err}", path.display()))
    });
    let present = client
        .execute("return typeof window.axe === 'object'", vec![])
        .await
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false);
    if !present {
        client
            .execute(&format!("{axe}\nreturn true;"), vec![])
            .await
            .expect("inject axe-core");
    }
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(result => done(result.violations
                 .filter(v => v.impact === 'critical' || v.impact === 'serious'
                   || v.id === 'heading-order' || v.id.startsWith('landmark-'))
                 .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)))
               .catch(err => done([`axe failed: ${err}`]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
    assert!(violations.is_empty(), "{name}: {violations:#?}");
}
