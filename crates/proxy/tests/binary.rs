//! The `watchpost` binary itself: its flags, start-up errors and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

fn watchpost() -> Command {
    Command::new(env!("CARGO_BIN_EXE_watchpost"))
}

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
        ("--auth-file", "WATCHPOST_AUTH_FILE"),
        ("--session-hours", "WATCHPOST_SESSION_HOURS"),
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

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let dir = TempDir::new().expect("temp dir");
    let mut child = watchpost()
        .args(["--addr", "127.0.0.1:0", "--dist"])
        .arg(dir.path().join("no-dist"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watchpost starts");

    // The first start shows the passcodes it made, then the URL it serves.
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
    let passcode = printed
        .lines()
        .find_map(|line| line.trim().strip_prefix("team passcode (member): "))
        .expect("the generated passcode is shown");
    let auth_file = std::fs::read_to_string(dir.path().join("data/auth.toml")).expect("auth.toml");
    assert!(!auth_file.contains(passcode), "only its hash is kept");
    let stderr = child.stderr.take().expect("stderr");
    let health = reqwest::get(format!("{url}/api/health"))
        .await
        .expect("health answers");
    assert!(health.status().is_success());

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs")
            .success()
    );
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("it stops within 10 seconds")
    .expect("waiter")
    .expect("exit status");
    assert!(status.success(), "a graceful stop exits 0, got {status}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut log).expect("log");
    assert!(
        !log.contains(passcode),
        "the passcode is never logged:\n{log}"
    );
}
