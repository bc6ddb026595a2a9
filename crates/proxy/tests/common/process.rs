//! The `watchpost` binary run as a person runs it: started on
//! 127.0.0.1:0, read for what it prints, signalled, and killed.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

pub fn watchpost() -> Command {
    Command::new(env!("CARGO_BIN_EXE_watchpost"))
}

/// The binary serving on 127.0.0.1:0 over `data`, and what it printed first.
pub struct Running {
    pub child: Child,
    pub url: String,
    pub printed: String,
}

impl Running {
    pub async fn start(data: &Path) -> Self {
        Self::start_with(data, &[]).await
    }

    /// The binary over `data` with more flags.
    pub async fn start_with(data: &Path, flags: &[&str]) -> Self {
        let mut child = watchpost()
            .args(["--addr", "127.0.0.1:0", "--dist"])
            .arg(data.join("no-dist"))
            .arg("--data-dir")
            .arg(data)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watchpost starts");
        let stdout = child.stdout.take().expect("stdout");
        let printed = tokio::task::spawn_blocking(move || {
            let mut printed = String::new();
            let mut reader = BufReader::new(stdout);
            while !printed.contains("Watchpost is running at ") {
                if reader.read_line(&mut printed).expect("stdout") == 0 {
                    break;
                }
            }
            printed
        })
        .await
        .expect("reader");
        let url = printed
            .lines()
            .find_map(|line| line.strip_prefix("Watchpost is running at "))
            .expect("the URL line")
            .to_owned();
        Running {
            child,
            url,
            printed,
        }
    }

    /// A passcode shown on the first start, by its label.
    pub fn generated(&self, label: &str) -> String {
        self.printed
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("`{label}` in:\n{}", self.printed))
    }

    pub async fn signed_in(&self, passcode: &str) -> reqwest::Client {
        let (status, client) = self.sign_in("Dana", passcode).await;
        assert_eq!(status, StatusCode::OK);
        client
    }

    pub async fn sign_in(&self, name: &str, passcode: &str) -> (StatusCode, reqwest::Client) {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let response = client
            .post(format!("{}/api/session", self.url))
            .json(&json!({ "name": name, "passcode": passcode }))
            .send()
            .await
            .expect("sign-in answers");
        (response.status(), client)
    }

    pub async fn role(&self, client: &reqwest::Client) -> Option<String> {
        let response = client
            .get(format!("{}/api/session", self.url))
            .send()
            .await
            .expect("answers");
        let session: Value = response.json().await.expect("JSON");
        session["role"].as_str().map(str::to_owned)
    }

    pub async fn create_project(&self, client: &reqwest::Client, name: &str) -> Value {
        client
            .post(format!("{}/api/projects", self.url))
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("create answers")
            .json()
            .await
            .expect("project")
    }

    pub async fn log(&self, client: &reqwest::Client, project: &Value) -> Vec<Value> {
        client
            .get(format!("{}/api/projects/{}/log", self.url, project["id"]))
            .send()
            .await
            .expect("log answers")
            .json()
            .await
            .expect("entries")
    }

    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .expect("kill runs")
                .success()
        );
    }

    pub async fn wait(self) -> (ExitStatus, String) {
        let mut child = self.child;
        let stderr = child.stderr.take().expect("stderr");
        let status = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::task::spawn_blocking(move || child.wait()),
        )
        .await
        .expect("it stops within 10 seconds")
        .expect("waiter")
        .expect("exit status");
        let mut log = String::new();
        std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut log).expect("log");
        (status, log)
    }
}

/// Eight writers append to a new project as fast as they can; `running` is
/// killed once 200 writes are acknowledged, with more in flight. Every
/// acknowledged write is then in the log `restart` serves.
pub async fn every_acknowledged_write_survives<F: Future<Output = Running>>(
    running: Running,
    restart: impl FnOnce() -> F,
) {
    let admin_passcode = running.generated("admin passcode:");
    let client = running.signed_in(&admin_passcode).await;
    let project = running.create_project(&client, "Voxanne").await;
    let log_url = format!("{}/api/projects/{}/log", running.url, project["id"]);

    // Eight writers append as fast as they can; the server is killed once
    // 200 writes are acknowledged, with more in flight.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, log_url, acknowledged) =
            (client.clone(), log_url.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            let mut stored = Vec::new();
            for n in 0.. {
                let body = json!({
                    "op_id": format!("w{writer}-{n}"),
                    "kind": "note",
                    "payload": { "text": format!("writer {writer}, note {n}") }
                });
                let Ok(response) = client.post(&log_url).json(&body).send().await else {
                    break;
                };
                if response.status() != StatusCode::CREATED {
                    break;
                }
                let Ok(entry) = response.json::<Value>().await else {
                    break;
                };
                stored.push(entry);
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
            stored
        }));
    }
    while acknowledged.load(Ordering::SeqCst) < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    running.signal("-KILL");
    let (status, _) = running.wait().await;
    assert!(!status.success(), "killed, not stopped: {status}");
    let mut stored = Vec::new();
    for writer in writers {
        stored.extend(writer.await.expect("writer"));
    }

    let running = restart().await;
    let client = running.signed_in(&admin_passcode).await;
    let log = running.log(&client, &project).await;
    for entry in &stored {
        assert!(
            log.contains(entry),
            "acknowledged entry {entry} is in the log after the restart"
        );
    }
    assert!(log.len() >= stored.len());
    running.signal("-TERM");
    running.wait().await;
}
