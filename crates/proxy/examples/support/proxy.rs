//! The real `watchpost` release binary, started for a benchmark over a
//! temporary data directory, and admin sessions on it.
#![allow(dead_code)] // each benchmark uses a different part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_stream::StreamExt;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The admin passcode replicas share through the environment.
const REPLICA_PASSCODE: &str = "bench-replicas-admin";

pub struct Proxy {
    child: Child,
    pub url: String,
    admin_passcode: String,
}

impl Proxy {
    pub fn start(data: &Path) -> Result<Self, Error> {
        Proxy::start_with(data, &[])
    }

    /// Started with `env` set (the services' settings).
    pub fn start_with(data: &Path, env: &[(&str, String)]) -> Result<Self, Error> {
        Proxy::spawn(data, env, None)
    }

    /// A replica on the PostgreSQL database at `database`, named `name`,
    /// with the admin passcode every replica shares.
    pub fn start_replica(
        data: &Path,
        database: &str,
        name: &str,
        env: &[(&str, String)],
    ) -> Result<Self, Error> {
        let mut env = env.to_vec();
        env.extend([
            ("DATABASE_URL", database.to_owned()),
            ("WATCHPOST_REPLICA_NAME", name.to_owned()),
            ("WATCHPOST_ADMIN_PASSCODE", REPLICA_PASSCODE.to_owned()),
        ]);
        Proxy::spawn(data, &env, Some(REPLICA_PASSCODE.to_owned()))
    }

    fn spawn(data: &Path, env: &[(&str, String)], passcode: Option<String>) -> Result<Self, Error> {
        let bin = std::env::var_os("WATCHPOST_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target/release/watchpost"));
        let mut child = Command::new(&bin)
            // Sessions come "through a reverse proxy" on loopback, each from
            // its own forwarded address, so the per-address sign-in limit
            // does not throttle the benchmark's many sessions.
            .args([
                "--addr",
                "127.0.0.1:0",
                "--trusted-proxy",
                "127.0.0.1",
                "--max-connections",
                "8192",
                "--max-streams",
                "4000",
                "--data-dir",
            ])
            .arg(data)
            .arg("--dist")
            .arg(data.join("no-dist"))
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", bin.display()))?;
        let mut reader = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let (mut url, mut admin_passcode) = (None, passcode);
        let mut line = String::new();
        while url.is_none() && reader.read_line(&mut line)? > 0 {
            if let Some(rest) = line.trim().strip_prefix("admin passcode:") {
                admin_passcode = Some(rest.trim().to_owned());
            }
            if let Some(rest) = line.trim().strip_prefix("Watchpost is running at ") {
                url = Some(rest.to_owned());
            }
            line.clear();
        }
        Ok(Proxy {
            child,
            url: url.ok_or("the proxy did not print its URL")?,
            admin_passcode: admin_passcode.ok_or("the proxy did not print an admin passcode")?,
        })
    }

    /// Enough sessions for `streams` live streams, `per_session` each.
    pub async fn sessions(
        &self,
        streams: usize,
        per_session: usize,
    ) -> Result<Vec<reqwest::Client>, Error> {
        let mut sessions = Vec::new();
        for n in 0..streams.div_ceil(per_session) {
            sessions.push(self.admin(n + 1).await?);
        }
        Ok(sessions)
    }

    /// An admin session from the forwarded address number `n`.
    pub async fn admin(&self, n: usize) -> Result<reqwest::Client, Error> {
        self.sign_in("Bench", n).await
    }

    /// `name`'s admin session from the forwarded address number `n`.
    pub async fn sign_in(&self, name: &str, n: usize) -> Result<reqwest::Client, Error> {
        self.try_sign_in(name, n)
            .await?
            .map_err(|wait| format!("sign-in refused; retry in {wait:?}").into())
    }

    /// A session, or how long the proxy says to wait before trying again.
    pub async fn try_sign_in(
        &self,
        name: &str,
        n: usize,
    ) -> Result<Result<reqwest::Client, Duration>, Error> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255).parse()?,
        );
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .build()?;
        let response = client
            .post(format!("{}/api/session", self.url))
            .json(&json!({ "name": name, "passcode": self.admin_passcode }))
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let seconds = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .unwrap_or(1);
            return Ok(Err(Duration::from_secs(seconds)));
        }
        if !response.status().is_success() {
            return Err(format!("sign-in answered {}", response.status()).into());
        }
        Ok(Ok(client))
    }

    /// Creates a project from `body` (its name, and settings if any); its id.
    pub async fn create_project(
        &self,
        admin: &reqwest::Client,
        body: &Value,
    ) -> Result<i64, Error> {
        let created: Value = admin
            .post(format!("{}/api/projects", self.url))
            .json(body)
            .send()
            .await?
            .json()
            .await?;
        created["id"]
            .as_i64()
            .ok_or_else(|| format!("no project: {created}").into())
    }

    /// Opens `count` live streams of `project`, `per_session` to a session,
    /// each read by a task until `writes` entries arrived, noting their
    /// latencies (see [`read_stream`]).
    pub async fn timed_streams(
        &self,
        project: i64,
        count: usize,
        per_session: usize,
        writes: usize,
        sent: &Arc<Mutex<Vec<Option<Instant>>>>,
        latencies: &Arc<Mutex<Vec<Duration>>>,
    ) -> Result<Vec<tokio::task::JoinHandle<()>>, Error> {
        let sessions = self.sessions(count, per_session).await?;
        let mut readers = Vec::with_capacity(count);
        for n in 0..count {
            let response = sessions[n / per_session]
                .get(format!("{}/api/projects/{project}/stream", self.url))
                .send()
                .await?;
            readers.push(tokio::spawn(read_stream(
                response,
                writes,
                sent.clone(),
                latencies.clone(),
            )));
        }
        Ok(readers)
    }

    /// CPU time the proxy has used so far (user and system), from /proc.
    pub fn cpu_time(&self) -> Result<Duration, Error> {
        cpu_time_of(&self.child.id().to_string())
    }

    /// Ends the process at once, as a crash or `kill -9` would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn rss_kb(&self) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmRSS in /proc/<pid>/status".into())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time the process `pid` (or `self`) has used so far, user and
/// system, from /proc.
pub fn cpu_time_of(pid: &str) -> Result<Duration, Error> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command's closing parenthesis; utime and stime are 14th and 15th.
    let after = stat
        .rsplit_once(')')
        .ok_or("no command in /proc/<pid>/stat")?
        .1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    // The kernel's clock ticks are 100 per second on Linux.
    Ok(Duration::from_millis(ticks * 10))
}

/// Reads a stream's entries until `writes` arrived, noting each one's
/// latency from the moment its write started (`sent`, by its note's number).
///
/// While the writes go on it only reads and notes when each chunk came, and
/// parses once the last note has arrived: on two cores the benchmark shares
/// the CPU with the proxy, and parsing a thousand streams' JSON as it
/// arrives delayed the other streams' reads by as much as the proxy's own
/// work (measured with `perf`), which is not the proxy's latency.
async fn read_stream(
    response: reqwest::Response,
    writes: usize,
    sent: Arc<Mutex<Vec<Option<Instant>>>>,
    latencies: Arc<Mutex<Vec<Duration>>>,
) {
    let last = format!("\"text\":\"{writes}\"");
    let mut bytes = response.bytes_stream();
    let mut chunks = Vec::new();
    let mut seen_last = false;
    while !seen_last {
        let Some(Ok(chunk)) = bytes.next().await else {
            return;
        };
        let arrived = Instant::now();
        seen_last = String::from_utf8_lossy(&chunk).contains(&last)
            // An event cut between two chunks: look across the seam.
            || chunks.last().is_some_and(|(_, previous): &(Instant, axum::body::Bytes)| {
                !previous.ends_with(b"\n\n")
                    && String::from_utf8_lossy(&[previous.as_ref(), &chunk].concat()).contains(&last)
            });
        chunks.push((arrived, chunk));
    }
    let sent = sent.lock().await.clone();
    let mut mine = Vec::with_capacity(writes);
    let mut buffer = Vec::new();
    for (arrived, chunk) in chunks {
        buffer.extend_from_slice(&chunk);
        // Each event completed by this chunk arrived with it.
        while let Some(end) = find(&buffer, b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            let number = String::from_utf8_lossy(&event)
                .lines()
                .find_map(|line| line.strip_prefix("data: ").map(str::to_owned))
                .and_then(|data| serde_json::from_str::<Value>(&data).ok())
                .and_then(|entry| entry["payload"]["text"].as_str()?.parse::<usize>().ok());
            if let Some(start) = number.and_then(|n| sent.get(n).copied().flatten()) {
                mine.push(arrived - start);
            }
        }
    }
    latencies.lock().await.extend(mine);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Writes notes 1 to `writes` to `project` through the proxy at `url`, one
/// at a time, noting in `sent` when each write started.
pub async fn write_notes(
    client: &reqwest::Client,
    url: &str,
    project: i64,
    writes: usize,
    sent: &Mutex<Vec<Option<Instant>>>,
) -> Result<(), Error> {
    for n in 1..=writes {
        sent.lock().await[n] = Some(Instant::now());
        let response = client
            .post(format!("{url}/api/projects/{project}/log"))
            .json(&json!({ "op_id": format!("bench-{n}"), "kind": "note", "payload": { "text": n.to_string() } }))
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::CREATED {
            return Err(format!("write {n} answered {}", response.status()).into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// The median and the 99th percentile.
pub fn percentiles(mut latencies: Vec<Duration>) -> (Duration, Duration) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (at(0.50), at(0.99))
}
