//! Schemathesis (from PyPI) against a running proxy: it generates requests
//! from `openapi.json`, valid and invalid, and checks every answer against
//! the document: no server errors, only documented statuses, content types
//! and schemas, invalid input refused. `scripts/test` installs it and runs
//! this test with the path in `WATCHPOST_SCHEMATHESIS`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{ADMIN, Server};
use reqwest::header::SET_COOKIE;

#[tokio::test]
#[ignore = "needs schemathesis: scripts/test installs it and runs this test"]
async fn schemathesis_finds_nothing_the_document_does_not_say() {
    let schemathesis = std::env::var("WATCHPOST_SCHEMATHESIS")
        .expect("WATCHPOST_SCHEMATHESIS names the `st` command (scripts/test sets it)");
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    // Entries of both kinds for the live stream to send, so its events are checked too.
    let member = server.member("Ana").await;
    let (status, _) = member
        .append(
            project,
            "seed-1",
            "ticked",
            serde_json::json!({ "item": "h0-baseline" }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let checked = member
        .post(
            &format!("/api/projects/{project}/checks/health-endpoint-ok"),
            "",
        )
        .await;
    assert_eq!(checked.status(), reqwest::StatusCode::OK);
    let response = server
        .anonymous()
        .post(
            "/api/session",
            &serde_json::json!({ "name": "Schemathesis", "passcode": ADMIN }).to_string(),
        )
        .await;
    let cookie = common::header(&response, SET_COOKIE)
        .split(';')
        .next()
        .expect("a cookie")
        .to_owned();
    let document = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let settings = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    let base = server.base.clone();
    let output = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::task::spawn_blocking(move || {
            Command::new(schemathesis)
                .args(["--config-file", settings])
                .args(["run", document, "--url", &base])
                .args(["--header", &format!("Cookie: {cookie}")])
                // Signing out would end the session the rest of the run uses.
                .args(["--exclude-operation-id", "signOut"])
                // Every check but "valid data is accepted": a schema cannot say
                // which item ids the playbook has or which time zones exist.
                .args([
                    "--checks",
                    "all",
                    "--exclude-checks",
                    "positive_data_acceptance",
                ])
                // The session cookie is sent with every request, so requests
                // "without" it are not what schemathesis thinks.
                .args(["--generation-with-security-parameters", "false"])
                .args(["--max-examples", "25"])
                .args(["--max-time", "75", "--request-timeout", "10"])
                .args(["--generation-deterministic", "--no-color"])
                .output()
        }),
    )
    .await
    .expect("schemathesis finishes within 5 minutes")
    .expect("the runner")
    .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
}
