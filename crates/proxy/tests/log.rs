//! A project's run log over HTTP: idempotent appends, concurrent writers,
//! refused input that changes nothing, the live stream, the export, and a
//! restart.

mod common;

use std::time::Duration;

use common::sse::EventStream;
use common::{Client, Server, header, json};
use domain::run::{Entry, RunState};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);

fn tick(item: &str) -> Value {
    json!({ "item": item })
}

async fn log(client: &Client, project: i64) -> Vec<Entry> {
    let response = client.get(&format!("/api/projects/{project}/log")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the log parses as entries")
}

async fn state(client: &Client, project: i64) -> RunState {
    let response = client.get(&format!("/api/projects/{project}/state")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the state parses")
}

#[tokio::test]
async fn an_operation_sent_twice_is_stored_once() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;

    let (status, first) = ana
        .append(project, "op-1", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["op_id"], "op-1");
    assert_eq!(first["actor"], "Ana");
    assert_eq!(first["kind"], "ticked");

    // The browser lost the answer and sends it again: the same entry, once.
    let (status, again) = ana
        .append(project, "op-1", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);

    // Even from someone else's browser, a retry is a retry.
    let ben = server.member("Ben").await;
    let (status, again) = ben
        .append(project, "op-1", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);

    // The same op_id for a different change is a client bug, said plainly.
    let (status, conflict) = ana
        .append(project, "op-1", "unticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        conflict["message"]
            .as_str()
            .unwrap_or_default()
            .contains("op_id op-1 was already used"),
        "{conflict}"
    );

    let entries = log(&ana, project).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, first["id"].as_u64().expect("an id"));
}

#[tokio::test]
async fn op_ids_belong_to_one_project() {
    let server = Server::start().await;
    let (voxanne, other) = (
        server.project("Voxanne").await,
        server.project("Other").await,
    );
    let ana = server.member("Ana").await;
    let (status, _) = ana
        .append(voxanne, "op-1", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = ana
        .append(other, "op-1", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn concurrent_writers_each_land_once_in_id_order() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let items = [
        "h0-baseline",
        "h16-business-hours",
        "h20-stable",
        "h24-document",
    ];
    let mut writers = Vec::new();
    for (writer, name) in ["Ana", "Ben", "Cy", "Dee"].into_iter().enumerate() {
        let client = server.member(name).await;
        writers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..40 {
                let kind = if n % 2 == 0 { "ticked" } else { "unticked" };
                let op_id = format!("{name}-{n}");
                let payload = tick(items[(writer + n) % items.len()]);
                // Each operation twice at once, as a flaky network might.
                let (first, second) = tokio::join!(
                    client.append(project, &op_id, kind, payload.clone()),
                    client.append(project, &op_id, kind, payload.clone()),
                );
                assert_eq!(first.1, second.1, "both answers carry the same entry");
                statuses.push((first.0, second.0));
            }
            statuses
        }));
    }
    for writer in writers {
        for statuses in writer.await.expect("writer") {
            let mut statuses = [statuses.0, statuses.1];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
        }
    }

    let reader = server.member("Eve").await;
    let entries = log(&reader, project).await;
    assert_eq!(entries.len(), 160, "every operation stored exactly once");
    assert!(
        entries.windows(2).all(|pair| pair[0].id < pair[1].id),
        "ids increase"
    );
    let mut op_ids: Vec<&str> = entries.iter().map(|entry| entry.op_id.as_str()).collect();
    op_ids.sort_unstable();
    op_ids.dedup();
    assert_eq!(op_ids.len(), 160);
    // The served state is the fold of the served log: nothing was missed
    // or applied twice by the cache.
    assert_eq!(state(&reader, project).await, RunState::fold(&entries));
}

#[tokio::test]
async fn two_people_toggling_one_item_keep_both_entries_and_agree_on_the_last() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let (ana, ben) = (server.member("Ana").await, server.member("Ben").await);
    for round in 0..20 {
        let (ana_op, ben_op) = (format!("ana-{round}"), format!("ben-{round}"));
        let (ticked, unticked) = tokio::join!(
            ana.append(project, &ana_op, "ticked", tick("h0-baseline")),
            ben.append(project, &ben_op, "unticked", tick("h0-baseline")),
        );
        assert_eq!(ticked.0, StatusCode::CREATED);
        assert_eq!(unticked.0, StatusCode::CREATED);
        let ana_won = ticked.1["id"].as_u64() > unticked.1["id"].as_u64();
        let state = state(&ana, project).await;
        assert_eq!(
            state.tick("h0-baseline").map(|tick| tick.by.as_str()),
            ana_won.then_some("Ana"),
            "the later entry decides, for everyone (round {round})"
        );
        assert_eq!(state, self::state(&ben, project).await);
    }
    let entries = log(&ana, project).await;
    assert_eq!(
        entries.len(),
        40,
        "both sides of every race stay in the history"
    );
}

#[tokio::test]
async fn refused_input_answers_with_a_message_and_changes_nothing() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let (status, _) = ana
        .append(project, "kept", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let before = log(&ana, project).await;
    let path = format!("/api/projects/{project}/log");

    let big_note =
        json!({ "op_id": "big", "kind": "note", "payload": { "text": "x".repeat(300_000) } });
    let cases: Vec<(&str, String, String, StatusCode)> = vec![
        ("malformed JSON", path.clone(), "{\"op_id\": ".to_owned(), StatusCode::BAD_REQUEST),
        (
            "an unknown kind",
            path.clone(),
            json!({ "op_id": "a", "kind": "deleted", "payload": {} }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a missing payload",
            path.clone(),
            json!({ "op_id": "a", "kind": "ticked" }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "an actor of its own",
            path.clone(),
            json!({ "op_id": "a", "kind": "ticked", "payload": tick("h0-baseline"), "actor": "Boss" }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a payload with a field it does not have",
            path.clone(),
            json!({ "op_id": "a", "kind": "sign_off", "payload": { "approved": true, "by": "Boss" } }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a missing op_id",
            path.clone(),
            json!({ "kind": "ticked", "payload": tick("h0-baseline") }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "an op_id with spaces",
            path.clone(),
            json!({ "op_id": "a b", "kind": "ticked", "payload": tick("h0-baseline") }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "an unknown item",
            path.clone(),
            json!({ "op_id": "a", "kind": "ticked", "payload": tick("h99-nothing") }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a tick of an item an API verifies",
            path.clone(),
            json!({ "op_id": "a", "kind": "ticked", "payload": tick("h0-health") }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a check result made up by a browser",
            path.clone(),
            json!({ "op_id": "a", "kind": "check_result", "payload": { "item": "h0-health", "check": "health.endpoint", "status": "passed", "observed": {}, "message": "fine", "duration_ms": 1 } }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a sign-off written by hand",
            path.clone(),
            json!({ "op_id": "a", "kind": "sign_off", "payload": { "approved": true } }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a snapshot made up by a browser",
            path.clone(),
            json!({ "op_id": "a", "kind": "snapshot", "payload": { "judgments": [] } }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a waiver written by hand",
            path.clone(),
            json!({ "op_id": "a", "kind": "criterion_waived", "payload": { "criterion": "success-websockets", "reason": "none" } }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("an oversized body", path.clone(), big_note.to_string(), StatusCode::PAYLOAD_TOO_LARGE),
        (
            "an unknown project",
            "/api/projects/999/log".to_owned(),
            json!({ "op_id": "a", "kind": "ticked", "payload": tick("h0-baseline") }).to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            "a project id that is not a number",
            "/api/projects/abc/log".to_owned(),
            json!({ "op_id": "a", "kind": "ticked", "payload": tick("h0-baseline") }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (case, path, body, expected) in cases {
        let response = ana.post(&path, &body).await;
        assert_eq!(response.status(), expected, "{case}");
        assert!(
            header(&response, CONTENT_TYPE).starts_with("application/json"),
            "{case}"
        );
        let error = json(response).await;
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}: {error}"
        );
    }

    // An archived project's run is read-only.
    let admin = server.admin().await;
    let archive = admin
        .patch(&format!("/api/projects/{project}"), r#"{"archived":true}"#)
        .await;
    assert_eq!(archive.status(), StatusCode::OK);
    let (status, error) = ana
        .append(project, "late", "ticked", tick("h16-business-hours"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("archived")
    );

    assert_eq!(log(&ana, project).await, before, "the log is unchanged");
}

#[tokio::test]
async fn the_stream_sends_the_backlog_then_live_entries_and_resumes() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    for (n, item) in ["h0-baseline", "h16-business-hours"]
        .into_iter()
        .enumerate()
    {
        let (status, _) = ana
            .append(project, &format!("op-{n}"), "ticked", tick(item))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let ids: Vec<u64> = log(&ana, project).await.iter().map(|e| e.id).collect();

    // A viewer reads the stream: the backlog, then what happens next.
    let viewer = server.signed_in("Vic", common::VIEWER).await;
    let response = viewer.get(&format!("/api/projects/{project}/stream")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, CONTENT_TYPE).starts_with("text/event-stream"));
    let mut stream = EventStream::new(response);
    for id in &ids {
        let event = stream.next(WAIT).await.expect("a backlog event");
        assert_eq!(event.event.as_deref(), Some("entry"));
        assert_eq!(
            event.id,
            Some(id.to_string()),
            "the event id is the entry id"
        );
        assert_eq!(event.json()["id"], *id);
    }
    let (_, live) = ana
        .append(project, "op-live", "note", json!({ "text": "all quiet" }))
        .await;
    let event = stream.next(WAIT).await.expect("the live event");
    assert_eq!(event.json(), live, "the stream carries the stored entry");
    drop(stream);

    // Reconnecting with Last-Event-ID gets only what came after it.
    let resumed = viewer
        .http
        .get(format!("{}/api/projects/{project}/stream", viewer.base))
        .header("Last-Event-ID", ids[1].to_string())
        .send()
        .await
        .expect("request");
    let mut stream = EventStream::new(resumed);
    let event = stream.next(WAIT).await.expect("the missed event");
    assert_eq!(event.json(), live);
    assert_eq!(stream.next(Duration::from_millis(300)).await, None);

    // `?after=` does the same for a first connection.
    let response = viewer
        .get(&format!("/api/projects/{project}/stream?after={}", ids[0]))
        .await;
    let mut stream = EventStream::new(response);
    assert_eq!(
        stream.next(WAIT).await.expect("event").id,
        Some(ids[1].to_string())
    );

    let bad = viewer
        .http
        .get(format!("{}/api/projects/{project}/stream", viewer.base))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // Beyond the ids SQLite can hold: refused, not read as a negative id from the start.
    let beyond = format!("after={}", u64::MAX);
    for path in [
        format!("/api/projects/{project}/stream?{beyond}"),
        format!("/api/projects/{project}/log?{beyond}"),
    ] {
        let response = viewer.get(&path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            json(response).await["message"]
                .as_str()
                .is_some_and(|m| m.contains("entry id")),
            "{path}"
        );
    }
    let missing = viewer.get("/api/projects/999/stream").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_stream_catches_up_after_a_burst_larger_than_its_buffer() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let response = ana.get(&format!("/api/projects/{project}/stream")).await;
    let mut stream = EventStream::new(response);
    // Nobody reads the stream while 600 entries arrive.
    for n in 0..600 {
        let (status, _) = ana
            .append(
                project,
                &format!("op-{n}"),
                "note",
                json!({ "text": n.to_string() }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut last = 0;
    for n in 0..600 {
        let event = stream.next(WAIT).await.expect("every entry arrives");
        let id: u64 = event.id.as_deref().unwrap_or_default().parse().expect("id");
        assert!(id > last, "in order, once each");
        assert_eq!(event.json()["payload"]["text"], n.to_string());
        last = id;
    }
}

#[tokio::test]
async fn the_timeline_exports_as_json_and_markdown_filtered_by_kind_and_person() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let (ana, ben) = (server.member("Ana").await, server.member("Ben").await);
    ana.append(project, "1", "ticked", tick("h0-baseline"))
        .await;
    ben.append(project, "2", "note", json!({ "text": "DB at 40% CPU" }))
        .await;
    ana.append(
        project,
        "3",
        "handover",
        json!({ "to": "Ben", "note": "quiet so far" }),
    )
    .await;

    let response = ben
        .get(&format!(
            "/api/projects/{project}/export?format=json&actor=Ana"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, CONTENT_DISPOSITION).contains("attachment"));
    let entries: Vec<Entry> = response.json().await.expect("entries");
    let kinds: Vec<&str> = entries.iter().map(|e| e.change.kind()).collect();
    assert_eq!(kinds, ["ticked", "handover"]);

    let response = ben
        .get(&format!(
            "/api/projects/{project}/export?format=markdown&kind=note"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, CONTENT_TYPE).starts_with("text/markdown"));
    assert!(header(&response, CONTENT_DISPOSITION).contains(".md"));
    let markdown = response.text().await.expect("text");
    assert!(markdown.contains("Voxanne"), "{markdown}");
    assert!(
        markdown.contains("Ben") && markdown.contains("DB at 40% CPU"),
        "{markdown}"
    );
    assert!(
        !markdown.contains("Baseline metrics recorded"),
        "{markdown}"
    );

    let response = ben
        .get(&format!("/api/projects/{project}/export?kind=deleted"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = ben
        .get(&format!("/api/projects/{project}/export?format=pdf"))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_log_and_its_op_ids_survive_a_restart() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let (_, ticked) = ana
        .append(project, "op-1", "ticked", tick("h0-baseline"))
        .await;
    ana.append(project, "op-2", "note", json!({ "text": "shift one done" }))
        .await;
    let entries = log(&ana, project).await;
    let folded = state(&ana, project).await;
    let data = server.stop().await;

    let server = Server::start_in(data).await;
    // Sessions are kept in the store too: the same browser is still signed in.
    let ana = Client {
        base: server.base.clone(),
        http: ana.http.clone(),
    };
    assert_eq!(log(&ana, project).await, entries);
    assert_eq!(state(&ana, project).await, folded);
    let (status, again) = ana
        .append(project, "op-1", "ticked", tick("h0-baseline"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retry after the restart is still a retry"
    );
    assert_eq!(again, ticked);
}

#[tokio::test]
async fn an_open_project_list_hears_of_each_project_created_renamed_or_archived() {
    let server = Server::start().await;
    let admin = server.admin().await;
    let viewer = server.member("Vic").await;
    let mut changes = EventStream::new(viewer.get("/api/projects/changes").await);
    let wait = Duration::from_secs(2);
    // One event when it opens: a list read after a reconnection misses nothing.
    let opened = changes.next(wait).await.expect("an event on opening");
    assert_eq!(opened.event.as_deref(), Some("projects"));

    let project = server.project("Voxanne").await;
    let created = changes.next(wait).await.expect("the creation");
    assert_eq!(created.event.as_deref(), Some("projects"));
    assert_ne!(created.data, opened.data);
    for patch in [r#"{"name":"Voxanne API"}"#, r#"{"archived":true}"#] {
        let patched = admin
            .patch(&format!("/api/projects/{project}"), patch)
            .await;
        assert_eq!(patched.status(), StatusCode::OK);
        assert!(changes.next(wait).await.is_some(), "after {patch}");
    }
    // A refused change changes nothing, and says nothing.
    let refused = admin
        .patch(&format!("/api/projects/{project}"), r#"{"name":""}"#)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(changes.next(Duration::from_millis(300)).await.is_none());

    assert_eq!(
        server
            .anonymous()
            .get("/api/projects/changes")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let out = viewer
        .send(reqwest::Method::DELETE, "/api/session", None)
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(changes.ends_within(wait).await, "it ends with the session");
}
