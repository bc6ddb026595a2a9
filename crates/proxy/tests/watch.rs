//! The 24-hour watch through the proxy, against the fakes: its schedule, the
//! snapshots judged against the playbook's targets, the sampler's thresholds
//! and Slack notices, the scheduler (on a faster test clock), and a restart
//! in the middle of a watch.

mod common;

use std::time::Duration;

use common::{Client, Options, Server, json, launch_server_in, services};
use fakes::Launch;
use fakes::launch::Stage;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Samples every 100 ms: thresholds of 3 and 2 samples pass in well under a second.
const FAST_SAMPLING: Duration = Duration::from_millis(100);

/// A proxy whose watcher samples every [`FAST_SAMPLING`].
fn sampling() -> Options {
    Options {
        sample_interval: Some(FAST_SAMPLING),
        ..Options::default()
    }
}

async fn watched(launch: &Launch, options: Options) -> (Server, i64) {
    launch_server_in(TempDir::new().expect("dir"), launch, options).await
}

async fn start_watch(client: &Client, project: i64, body: Value) -> reqwest::Response {
    client
        .post(&format!("/api/projects/{project}/watch"), &body.to_string())
        .await
}

async fn log_of(client: &Client, project: i64, kind: &str) -> Vec<Value> {
    let response = client.get(&format!("/api/projects/{project}/log")).await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response)
        .await
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["kind"] == kind)
        .cloned()
        .collect()
}

/// Polls `condition` on the project's `kind` entries for up to 10 s.
async fn wait_for_log(
    client: &Client,
    project: i64,
    kind: &str,
    condition: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..200 {
        let entries = log_of(client, project, kind).await;
        if condition(&entries) {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the log never had the {kind} entries waited for");
}

async fn health(client: &Client, project: i64, window: &str) -> Value {
    let response = client
        .get(&format!("/api/projects/{project}/health?window={window}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

#[tokio::test]
async fn a_watch_keeps_the_seeds_schedule_from_its_start_and_refuses_bad_starts() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = watched(&launch, Options::default()).await;
    let ana = server.member("Ana").await;

    let viewer = server.signed_in("Vic", common::VIEWER).await;
    let refused = start_watch(&viewer, project, json!({})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for (body, status, why) in [
        (json!({ "start": "tomorrow" }), 422, "RFC 3339"),
        (
            json!({ "start": "2020-01-01T00:00:00Z" }),
            422,
            "48 hours ago",
        ),
        (json!({ "grace_minutes": 0 }), 422, "grace_minutes"),
        (json!({ "begin": "now" }), 400, "unknown field"),
        (json!([null, null]), 400, "JSON object"),
    ] {
        let response = start_watch(&ana, project, body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        let message = json(response).await["message"].to_string();
        assert!(message.contains(why), "{body}: {message}");
    }
    let before = json(ana.get(&format!("/api/projects/{project}/watch")).await).await;
    assert_eq!(before["started"], false);
    assert_eq!(before["checkpoints"][0]["state"], "not_started");

    // Started 5 h ago: hours 0 and 4 are overdue, 8 comes in 3 h.
    let start = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - 5 * 3600 - 30)
        .expect("a time");
    let response = start_watch(&ana, project, json!({ "start": start.to_string() })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let watch = json(response).await;
    assert_eq!(watch["started_by"], "Ana");
    assert_eq!(watch["on_watch"], "Ana");
    assert_eq!(watch["clock_speed"], 1);
    assert_eq!(watch["running"], true);
    let states: Vec<(u64, &str)> = watch["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .map(|c| {
            (
                c["hour"].as_u64().unwrap_or(99),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (0, "overdue"),
            (4, "overdue"),
            (8, "upcoming"),
            (12, "upcoming"),
            (16, "upcoming"),
            (20, "upcoming"),
            (24, "upcoming")
        ]
    );
    assert_eq!(watch["checkpoints"][2]["describe"], "in 2 h 59 min");
    assert_eq!(watch["next"], 0);

    // Completing hour 0 (with a shift note) moves "next" on.
    let note = json!({ "hour": 0, "note": "baseline 0.2%" });
    let (done, _) = ana
        .append(project, "op-h0", "checkpoint_completed", note)
        .await;
    assert_eq!(done, StatusCode::CREATED);
    let (wrong, why) = ana
        .append(
            project,
            "op-h5",
            "checkpoint_completed",
            json!({ "hour": 5 }),
        )
        .await;
    assert_eq!(wrong, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    let watch = json(ana.get(&format!("/api/projects/{project}/watch")).await).await;
    assert_eq!(watch["checkpoints"][0]["state"], "done");
    assert_eq!(watch["checkpoints"][0]["completed_by"], "Ana");
    assert_eq!(watch["checkpoints"][0]["note"], "baseline 0.2%");
    assert_eq!(watch["next"], 4);
    // Ben takes the next shift: hour 4 waits until he acknowledges Ana's note.
    let ben = server.member("Ben").await;
    let (early, why) = ben
        .append(
            project,
            "op-h4",
            "checkpoint_completed",
            json!({ "hour": 4 }),
        )
        .await;
    assert_eq!(early, StatusCode::CONFLICT);
    assert_eq!(
        why["message"],
        "acknowledge Ana's handover of hour 0 before completing hour 4"
    );
    let (taken, _) = ben
        .append(
            project,
            "op-ack",
            "handover_acknowledged",
            json!({ "hour": 0 }),
        )
        .await;
    assert_eq!(taken, StatusCode::CREATED);
    let (done, _) = ben
        .append(
            project,
            "op-h4",
            "checkpoint_completed",
            json!({ "hour": 4 }),
        )
        .await;
    assert_eq!(done, StatusCode::CREATED);
    let watch = json(ana.get(&format!("/api/projects/{project}/watch")).await).await;
    assert_eq!(watch["on_watch"], "Ben");
    assert_eq!(watch["checkpoints"][1]["completed_by"], "Ben");
    let scheduled = log_of(&ana, project, "watch_scheduled").await;
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0]["actor"], "Ana");
    assert_eq!(scheduled[0]["payload"]["start"], start.as_second());
    assert_eq!(scheduled[0]["payload"]["grace_seconds"], 900);
}

/// The element of `answer[list]` whose `key` is `id`.
fn find<'a>(answer: &'a Value, list: &str, key: &str, id: &str) -> &'a Value {
    answer[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {answer}"))
        .iter()
        .find(|element| element[key] == id)
        .unwrap_or_else(|| panic!("no {id} in {list} of {answer}"))
}

fn target<'a>(snapshot: &'a Value, id: &str) -> &'a Value {
    find(snapshot, "targets", "target", id)
}

#[tokio::test]
async fn a_snapshot_judges_every_target_by_what_the_services_measured() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = watched(&launch, Options::default()).await;
    let ana = server.member("Ana").await;
    let viewer = server.signed_in("Vic", common::VIEWER).await;
    let path = format!("/api/projects/{project}/snapshots");
    assert_eq!(viewer.post(&path, "").await.status(), StatusCode::FORBIDDEN);

    let response = ana.post(&path, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let snapshot = json(response).await;
    assert_eq!(snapshot["checkpoint"], Value::Null);
    let latency = target(&snapshot, "health-latency");
    assert_eq!(latency["status"], "passed", "{latency}");
    assert!(latency["observed"].as_f64().is_some_and(|ms| ms < 100.0));
    assert_eq!(
        latency["bound"],
        json!({ "comparison": "<", "value": 100.0, "unit": "ms" })
    );
    let rate = target(&snapshot, "error-rate");
    assert_eq!(rate["status"], "passed", "{rate}");
    assert!(
        rate["condition"]
            .as_str()
            .unwrap_or("")
            .starts_with("Error rate ")
    );
    assert!(
        rate["condition"].as_str().unwrap_or("").ends_with("% < 1%"),
        "{rate}"
    );
    assert_eq!(target(&snapshot, "new-issues")["status"], "passed");
    // The fake's last full hour had 2 errors (< 5 per hour).
    let count = target(&snapshot, "error-count");
    assert_eq!(
        (count["status"].as_str(), count["observed"].as_f64()),
        (Some("passed"), Some(2.0))
    );
    // The routine's live items ran too, each logged.
    let checks = snapshot["checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|check| check["item"] == "routine-health-ok")
    );
    // All but the database's, which this project did not connect.
    for check in checks {
        let database = check["check"]
            .as_str()
            .unwrap_or_default()
            .starts_with("database.");
        let expected = if database { "not_configured" } else { "passed" };
        assert_eq!(check["status"], expected, "{check}");
    }

    // The errors rise, transactions stop (so there is no error rate) and an
    // endpoint slows: the snapshot says so, target by target.
    {
        let mut world = fakes::lock(&launch.sentry.world);
        world.hourly_errors = vec![Some(1), Some(4), Some(12), Some(40), Some(3)];
        world.transactions.clear();
    }
    launch.latency.set(Duration::from_millis(150));
    // Results a few seconds old are shared between askers; this test cannot wait.
    server.state.services.forget(project);
    let snapshot = json(ana.post(&path, "").await).await;
    let count = target(&snapshot, "error-count");
    assert_eq!(count["status"], "failed");
    assert_eq!(count["condition"], "Errors 40 per hour > 5 per hour target");
    let rate = target(&snapshot, "error-rate");
    assert_eq!(rate["status"], "failed", "{rate}");
    assert_eq!(
        rate["condition"],
        "Error rate 40 per hour > 5 per hour target"
    );
    assert!(
        rate["measure"].as_str().unwrap_or("").ends_with("instead"),
        "{rate}"
    );
    let latency = target(&snapshot, "health-latency");
    assert_eq!(latency["status"], "failed", "{latency}");
    let calls = target(&snapshot, "calls-latency");
    assert_eq!(calls["status"], "not_measurable", "{calls}");
    assert_eq!(calls["observed"], Value::Null);

    let logged = log_of(&ana, project, "snapshot").await;
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[1]["actor"], "Ana");
    assert_eq!(
        logged[1]["payload"]["judgments"].as_array().map(Vec::len),
        snapshot["targets"].as_array().map(Vec::len)
    );
}

#[tokio::test]
async fn the_sampler_marks_a_url_down_after_three_failures_and_up_after_two_and_tells_slack() {
    let launch = Launch::start(Stage::Ready).await;
    let options = sampling();
    let (server, project) = watched(&launch, options).await;
    let ana = server.member("Ana").await;
    let url = launch.service.health.to_string();

    // No watch, no samples.
    tokio::time::sleep(FAST_SAMPLING * 4).await;
    assert_eq!(health(&ana, project, "1h").await["overall"]["samples"], 0);

    assert_eq!(
        start_watch(&ana, project, json!({})).await.status(),
        StatusCode::CREATED
    );
    tokio::time::sleep(FAST_SAMPLING * 5).await;
    let up = health(&ana, project, "1h").await;
    assert!(up["overall"]["samples"].as_u64() >= Some(3), "{up}");
    assert_eq!(up["urls"][0]["url"], url);
    assert_eq!(up["urls"][0]["state"], "up");
    assert_eq!(up["urls"][0]["stats"]["uptime_percent"], 100.0);
    assert!(up["urls"][0]["stats"]["p99_ms"].as_u64().is_some());

    launch.service.set_healthy(false);
    let changes = wait_for_log(&ana, project, "health_changed", |e| !e.is_empty()).await;
    assert_eq!(changes[0]["actor"], "Watchpost");
    assert_eq!(changes[0]["payload"]["up"], false);
    assert_eq!(
        changes[0]["payload"]["detail"],
        "answered 200, but status should be ok, healthy, up or pass (saw “degraded”); every services.* should be true (saw services.database: “false”)"
    );
    let down = health(&ana, project, "1h").await;
    assert_eq!(down["urls"][0]["state"], "down");
    assert!(down["urls"][0]["stats"]["uptime_percent"].as_f64() < Some(100.0));
    // The run's state, with a URL's health in it, fits the document.
    let document = json(ana.get("/api/openapi.json").await).await;
    let state = json(ana.get(&format!("/api/projects/{project}/state")).await).await;
    common::schema::check(
        &document,
        &json!({ "$ref": "#/components/schemas/RunState" }),
        &state,
    )
    .unwrap_or_else(|err| panic!("{err}\n{state}"));
    // The project list shows the health check's escalation open, until
    // decided, and the glance fits the document.
    let glances = json(ana.get("/api/watches").await).await;
    common::schema::check(
        &document,
        &json!({ "type": "array", "items": { "$ref": "#/components/schemas/Glance" } }),
        &glances,
    )
    .unwrap_or_else(|err| panic!("{err}\n{glances}"));
    let escalations = || async {
        let glances = json(ana.get("/api/watches").await).await;
        glances[0]["attention"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|said| {
                said.as_str()?
                    .strip_prefix("Escalation open: ")
                    .map(str::to_owned)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(escalations().await, ["Health check fails."]);
    let decision =
        json!({ "escalation": "health-check", "answers": [0, 1, 0, 1, 1], "outcome": "monitor" });
    let (status, said) = ana
        .append(project, "decided", "decision_taken", decision)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{said}");
    assert!(escalations().await.is_empty());

    launch.service.set_healthy(true);
    let changes = wait_for_log(&ana, project, "health_changed", |e| e.len() >= 2).await;
    assert_eq!(changes[1]["payload"]["up"], true);
    assert_eq!(changes.len(), 2, "each change is said once");

    launch.service.restart();
    let restarts = wait_for_log(&ana, project, "restarted", |e| !e.is_empty()).await;
    assert_eq!(restarts[0]["payload"]["uptime_after"], 5);

    let window = health(&ana, project, "run").await;
    let kinds: Vec<&str> = window["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .map(|t| t["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["down", "up", "restarted"]);
    assert!(
        window["urls"][0]["points"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    let messages = launch.slack.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("is down (answered 200, but ")
            && messages[0].contains("services.database: “false”"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("is up again"), "{}", messages[1]);
}

#[tokio::test]
async fn a_flapping_endpoint_does_not_flood_slack() {
    let launch = Launch::start(Stage::Ready).await;
    let options = Options {
        sample_interval: Some(Duration::from_millis(40)),
        ..Options::default()
    };
    let (server, project) = watched(&launch, options).await;
    let ana = server.member("Ana").await;
    assert_eq!(
        start_watch(&ana, project, json!({})).await.status(),
        StatusCode::CREATED
    );
    for flap in 1..=6 {
        launch.service.set_healthy(false);
        wait_for_log(&ana, project, "health_changed", |e| e.len() >= 2 * flap - 1).await;
        launch.service.set_healthy(true);
        wait_for_log(&ana, project, "health_changed", |e| e.len() >= 2 * flap).await;
    }
    // Twelve changes on the timeline; a burst of four in the channel.
    assert_eq!(launch.slack.messages().len(), 4);
    launch.service.set_healthy(false);
    wait_for_log(&ana, project, "health_changed", |e| e.len() >= 13).await;
    assert_eq!(launch.slack.messages().len(), 4, "still held back");
}

#[tokio::test]
async fn the_scheduler_takes_a_snapshot_as_each_checkpoint_falls_due_on_a_fast_clock() {
    let launch = Launch::start(Stage::Ready).await;
    // An hour of the server's clock passes in a second.
    let options = Options {
        sample_interval: Some(FAST_SAMPLING),
        clock_speed: 3600,
        ..Options::default()
    };
    let (server, project) = watched(&launch, options).await;
    let ana = server.member("Ana").await;
    let watch = json(start_watch(&ana, project, json!({})).await).await;
    assert_eq!(watch["clock_speed"], 3600);
    let snapshots = wait_for_log(&ana, project, "snapshot", |e| {
        e.iter().any(|s| s["payload"]["checkpoint"] == 4)
    })
    .await;
    assert_eq!(snapshots[0]["payload"]["checkpoint"], 0);
    assert_eq!(snapshots[0]["actor"], "Watchpost");
    let hours: Vec<&Value> = snapshots
        .iter()
        .map(|s| &s["payload"]["checkpoint"])
        .collect();
    assert_eq!(
        hours.iter().filter(|h| **h == 0).count(),
        1,
        "one per checkpoint: {hours:?}"
    );
    // The checkpoint's own live checks ran with it.
    let checks = log_of(&ana, project, "check_result").await;
    assert!(checks.iter().any(|c| c["payload"]["item"] == "h0-health"));
    assert!(
        checks
            .iter()
            .any(|c| c["payload"]["item"] == "h4-error-rate")
    );
    let watch = json(ana.get(&format!("/api/projects/{project}/watch")).await).await;
    assert_eq!(
        watch["checkpoints"][0]["state"], "overdue",
        "snapshots do not complete"
    );
}

#[tokio::test]
async fn sampling_resumes_after_a_restart_in_the_middle_of_a_watch() {
    let launch = Launch::start(Stage::Ready).await;
    let options = || Options {
        services: services(&launch),
        sample_interval: Some(FAST_SAMPLING),
        ..Options::default()
    };
    let (server, project) =
        launch_server_in(TempDir::new().expect("dir"), &launch, options()).await;
    let ana = server.member("Ana").await;
    assert_eq!(
        start_watch(&ana, project, json!({})).await.status(),
        StatusCode::CREATED
    );
    launch.service.set_healthy(false);
    wait_for_log(&ana, project, "health_changed", |e| !e.is_empty()).await;
    let before = health(&ana, project, "run").await["overall"]["samples"]
        .as_u64()
        .unwrap_or(0);
    let data = server.stop().await;

    // The service recovers while Watchpost is down.
    launch.service.set_healthy(true);
    let server = Server::start_configured(data, |_| {}, options()).await;
    let ana = server.member("Ana").await;
    // Resumed as down (from the log), so two successes bring it up, once.
    let changes = wait_for_log(&ana, project, "health_changed", |e| e.len() >= 2).await;
    assert_eq!(changes[1]["payload"]["up"], true);
    tokio::time::sleep(FAST_SAMPLING * 3).await;
    assert_eq!(log_of(&ana, project, "health_changed").await.len(), 2);
    let after = health(&ana, project, "run").await;
    assert!(after["overall"]["samples"].as_u64().unwrap_or(0) > before);
    assert_eq!(after["urls"][0]["state"], "up");
    assert_eq!(
        log_of(&ana, project, "restarted").await.len(),
        0,
        "uptime resumed too"
    );
}

/// A stop ends what runs in the background (the watcher, and a probe still
/// waiting for a slow service) and waits for it before the store closes,
/// without waiting for the probe's answer.
#[tokio::test]
async fn a_stop_ends_the_background_work_before_the_store_closes() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = watched(&launch, sampling()).await;
    let ana = server.member("Ana").await;
    assert_eq!(
        start_watch(&ana, project, json!({})).await.status(),
        StatusCode::CREATED
    );
    // Every service now takes 8 s to answer: a probe is under way at the stop.
    launch.latency.set(Duration::from_secs(8));
    tokio::time::sleep(FAST_SAMPLING * 3).await;
    let state = server.state.clone();
    assert!(!state.tasks.is_empty(), "the watcher runs");
    let stopping = std::time::Instant::now();
    server.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "the stop waited for the probe: {:?}",
        stopping.elapsed()
    );
    assert!(state.tasks.is_closed() && state.tasks.is_empty());
    assert!(state.stopping.is_cancelled());
    assert!(!state.store.ping().await, "the store is closed, after them");
}

/// A proxy whose error watch reads Sentry every second (checked at each
/// of [`sampling`]'s samples).
fn error_watching() -> Options {
    Options {
        error_watch_interval: Duration::from_secs(1),
        ..sampling()
    }
}

/// Waits up to 5 s for `condition`; says `what` when it never held.
async fn until<F: Future<Output = bool>>(what: &str, condition: impl Fn() -> F) {
    for _ in 0..100 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

/// An hour's traffic of 200 transactions, `failed` of them failed.
fn traffic(failed: usize) -> Vec<fakes::sentry::Transaction> {
    (0..200)
        .map(|n| fakes::sentry::Transaction {
            name: "POST /api/calls".to_owned(),
            duration_ms: 120.0,
            failed: n < failed,
        })
        .collect()
}

/// Between checkpoints, the error watch reads Sentry's failure rate every
/// interval, for every watched project in one request: a spike beyond the
/// escalation's 5% opens it at once and is posted to Slack naming who is on
/// watch, and so does a new critical issue; the sign-off judges every hour.
#[tokio::test]
async fn errors_are_watched_between_checkpoints_and_a_spike_opens_its_escalation() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = watched(&launch, error_watching()).await;
    let ana = server.member("Ana").await;
    assert_eq!(
        start_watch(&ana, project, json!({})).await.status(),
        StatusCode::CREATED
    );
    let store = &server.state.store;
    let points = || async {
        store
            .error_points(project, 0, i64::MAX)
            .await
            .expect("points")
    };
    until("a round's reading", || async { !points().await.is_empty() }).await;
    let first = points().await;
    assert_eq!(first[0].transactions, 600, "{first:?}");
    assert!(first[0].failure_percent < 1.0, "{first:?}");
    // Sentry's errors of the hour under way (the fake's last hour: 9).
    assert_eq!(first[0].errors_this_hour, Some(9), "{first:?}");
    assert!(log_of(&ana, project, "error_rate_changed").await.is_empty());
    // One request for the organization's projects, grouped by project.
    let asked: Vec<Vec<(String, String)>> = launch
        .sentry
        .world
        .lock()
        .expect("lock")
        .requests
        .iter()
        .filter(|(path, query)| {
            path.ends_with("/events/") && query.iter().any(|(_, v)| v == "project.id")
        })
        .map(|(_, query)| query.clone())
        .collect();
    assert!(!asked.is_empty());
    assert!(
        asked[0].contains(&("project".to_owned(), "4".to_owned())),
        "{asked:?}"
    );

    // 8% of transactions fail: beyond the escalation's 5%, at once.
    launch.sentry.world.lock().expect("lock").transactions = traffic(16);
    let rose = wait_for_log(&ana, project, "error_rate_changed", |e| !e.is_empty()).await;
    assert_eq!(rose[0]["payload"]["above"], true, "{rose:?}");
    assert_eq!(rose[0]["payload"]["percent"], 8.0);
    assert_eq!(rose[0]["payload"]["threshold"], "> 5%");
    assert_eq!(rose[0]["actor"], "Watchpost");
    let state: domain::run::RunState = serde_json::from_value(
        json(ana.get(&format!("/api/projects/{project}/state")).await).await,
    )
    .expect("the run's state");
    let playbook = domain::Playbook::default_launch().expect("playbook");
    let open: Vec<String> = domain::escalation::open_escalations(&playbook, &state)
        .into_iter()
        .map(|open| open.escalation.id.clone())
        .collect();
    assert_eq!(open, ["error-rate"]);
    let posted = wait_for_slack(&launch, "Error rate above 5%: 8% of 200 transactions").await;
    assert!(posted.contains("On watch: Ana"), "{posted}");
    // The Watch tab's chart draws the rounds, the spike its highest point.
    let failures = &health(&ana, project, "run").await["failures"];
    let caption = failures["caption"].as_str().unwrap_or_default();
    assert!(caption.contains("the most, 8%"), "{caption}");
    assert!(
        failures["svg"]
            .as_str()
            .unwrap_or_default()
            .contains(">target 1%<")
    );

    // Back under it: said once, and the procedure closes.
    launch.sentry.world.lock().expect("lock").transactions = traffic(1);
    let changes = wait_for_log(&ana, project, "error_rate_changed", |e| e.len() >= 2).await;
    assert_eq!(changes[1]["payload"]["above"], false);
    wait_for_slack(&launch, "the error rate is back to 0.5% of 200").await;

    // A new critical issue: its check's result is logged once, and posted.
    launch.sentry.world.lock().expect("lock").issues = vec![fakes::sentry::issue(
        11,
        "fatal",
        "TypeError: x is undefined",
    )];
    let found = wait_for_log(&ana, project, "check_result", |e| {
        e.iter().any(|e| e["payload"]["item"] == "h4-new-critical")
    })
    .await;
    let critical: Vec<&Value> = found
        .iter()
        .filter(|e| e["payload"]["item"] == "h4-new-critical")
        .collect();
    assert_eq!(critical[0]["payload"]["status"], "failed");
    wait_for_slack(&launch, "new critical issues").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = log_of(&ana, project, "check_result").await;
    assert_eq!(
        again
            .iter()
            .filter(|e| e["payload"]["item"] == "h4-new-critical")
            .count(),
        1,
        "the same result is not logged again"
    );

    // The sign-off judges the rate from every hour the watch measured.
    let report = json(ana.get(&format!("/api/projects/{project}/sign-off")).await).await;
    let criterion = report["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .find(|c| c["id"] == "success-error-rate")
        .expect("the error-rate criterion")
        .clone();
    assert_eq!(criterion["standing"], "not_met", "{criterion}");
    let evidence = criterion["evidence"].as_str().unwrap_or_default();
    assert!(
        evidence.contains("hours off the < 1% target; the worst, from"),
        "{evidence}"
    );
}

/// The error watch's requests (its failure rates and its error counts,
/// both grouped by project, and its critical issues): each request's
/// `project` ids.
fn rounds_asked(launch: &Launch) -> Vec<Vec<String>> {
    launch
        .sentry
        .world
        .lock()
        .expect("lock")
        .requests
        .iter()
        .filter(|(path, query)| {
            (path.ends_with("/events/") && query.iter().any(|(_, v)| v == "project.id"))
                || (path.ends_with("/stats_v2/")
                    && query.iter().any(|(k, v)| k == "groupBy" && v == "project"))
                || (path.ends_with("/issues/")
                    && query
                        .iter()
                        .any(|(k, v)| k == "query" && v.contains("level:fatal")))
        })
        .map(|(_, query)| {
            query
                .iter()
                .filter(|(name, _)| name == "project")
                .map(|(_, id)| id.clone())
                .collect()
        })
        .collect()
}

/// Two watched projects of one organization cost the same requests a round
/// as one (the failure rates, the errors, the critical issues by marker),
/// each project judged by its own issues; a server that does not group by
/// project is asked for each instead.
#[tokio::test]
async fn one_request_a_round_serves_every_watched_project_of_an_organization() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, backend) = watched(&launch, error_watching()).await;
    let admin = server.admin().await;
    let web = server.project("Voxanne web").await;
    let mut settings = launch.project_settings("Voxanne web");
    settings["sentry_project"] = json!(fakes::launch::FRONTEND);
    settings.as_object_mut().map(|o| {
        o.remove("name");
        o.remove("sentry_frontend_project")
    });
    let saved = admin
        .patch(&format!("/api/projects/{web}"), &settings.to_string())
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    for project in [backend, web] {
        assert_eq!(
            start_watch(&admin, project, json!({})).await.status(),
            StatusCode::CREATED
        );
    }
    let store = &server.state.store;
    let points = |project| async move {
        store
            .error_points(project, 0, i64::MAX)
            .await
            .expect("points")
            .len()
    };
    let both = || async { points(backend).await > 0 && points(web).await > 0 };
    until("both projects read", both).await;
    // A round may fall between the two watches' starts and ask for the
    // first alone; from the first round that asks for both, each does.
    let asked = rounds_asked(&launch);
    let mut both_watched = asked.iter().skip_while(|ids| ids.len() == 1).peekable();
    assert!(
        both_watched.peek().is_some() && both_watched.all(|ids| ids.len() == 2),
        "{asked:?}"
    );

    // A critical issue of the web project is the web project's alone.
    launch.sentry.world.lock().expect("lock").issues = vec![fakes::sentry::issue_of(
        5,
        21,
        "fatal",
        "TypeError in checkout",
    )];
    let critical = |log: Vec<Value>| {
        log.into_iter()
            .filter(|e| e["payload"]["item"] == "h4-new-critical")
            .collect::<Vec<Value>>()
    };
    let found = wait_for_log(&admin, web, "check_result", |e| {
        e.iter().any(|e| e["payload"]["item"] == "h4-new-critical")
    })
    .await;
    assert_eq!(critical(found)[0]["payload"]["status"], "failed");
    assert!(critical(log_of(&admin, backend, "check_result").await).is_empty());

    // Ungrouped: the round asks for each project after the grouped request.
    launch
        .sentry
        .world
        .lock()
        .expect("lock")
        .ignores_project_grouping = true;
    let before = (points(backend).await, points(web).await, asked.len());
    until("both projects read again", || async {
        points(backend).await > before.0 && points(web).await > before.1
    })
    .await;
    let asked = rounds_asked(&launch);
    let singles: Vec<&Vec<String>> = asked[before.2..]
        .iter()
        .filter(|ids| ids.len() == 1)
        .collect();
    assert!(singles.iter().any(|ids| ids[0] == "4"), "{asked:?}");
    assert!(singles.iter().any(|ids| ids[0] == "5"), "{asked:?}");
    let last = store.error_points(web, 0, i64::MAX).await.expect("points");
    assert_eq!(last.last().map(|p| p.transactions), Some(600));
    assert_eq!(last.last().and_then(|p| p.errors_this_hour), Some(9));
}

/// Waits up to 10 s for a Slack message containing `text`.
async fn wait_for_slack(launch: &Launch, text: &str) -> String {
    for _ in 0..200 {
        if let Some(found) = launch
            .slack
            .messages()
            .into_iter()
            .find(|m| m.contains(text))
        {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no Slack message said {text:?}: {:?}",
        launch.slack.messages()
    );
}

#[tokio::test]
async fn a_health_window_must_be_one_of_three() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let response = ana
        .get(&format!("/api/projects/{project}/health?window=week"))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let run = ana
        .get(&format!("/api/projects/{project}/health?window=run"))
        .await;
    assert_eq!(run.status(), StatusCode::NOT_FOUND, "no watch yet");
    let empty = health(&ana, project, "24h").await;
    assert_eq!(empty["overall"]["samples"], 0);
    assert_eq!(empty["overall"]["uptime_percent"], Value::Null);
}

#[tokio::test]
async fn the_errors_chart_reads_sentry_s_hours_and_says_why_when_it_cannot() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = watched(&launch, Options::default()).await;
    let ana = server.member("Ana").await;
    let hours = json(ana.get(&format!("/api/projects/{project}/errors")).await).await;
    assert_eq!(hours["problem"], Value::Null);
    let counts: Vec<u64> = hours["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|hour| hour[1].as_u64().unwrap_or(99))
        .collect();
    // The fake's buckets, a null one read as none.
    assert_eq!(counts, [1, 0, 3, 2, 9]);
    assert!(hours["hours"][1][0].as_i64() > hours["hours"][0][0].as_i64());
    // The Watch tab's chart comes with the health report, drawn: the target
    // as a line. Every open tab asks every 15 s; Sentry is asked once.
    let asked = || {
        fakes::lock(&launch.sentry.world)
            .requests
            .iter()
            .filter(|(path, _)| path.ends_with("/stats_v2/"))
            .count()
    };
    let before = asked();
    for _ in 0..3 {
        let report = json(ana.get(&format!("/api/projects/{project}/health")).await).await;
        let errors = &report["errors"];
        assert!(
            errors["svg"]
                .as_str()
                .unwrap_or_default()
                .contains(">target 5 per hour</text>"),
            "{errors}"
        );
        assert!(
            errors["caption"]
                .as_str()
                .unwrap_or_default()
                .starts_with("15 errors in 5 hours"),
            "{errors}"
        );
    }
    assert_eq!(asked(), before, "reused: {before} requests before");
    let run = ana
        .get(&format!("/api/projects/{project}/errors?window=run"))
        .await;
    assert_eq!(run.status(), StatusCode::NOT_FOUND, "no watch yet");

    fakes::lock(&launch.sentry.world).hourly_errors = Vec::new();
    let unconfigured = Server::start().await;
    let other = unconfigured.project("Bare").await;
    let bare = unconfigured.member("Ana").await;
    let said = json(bare.get(&format!("/api/projects/{other}/errors")).await).await;
    assert!(
        said["problem"]
            .as_str()
            .unwrap_or("")
            .contains("SENTRY_AUTH_TOKEN"),
        "{said}"
    );
    assert_eq!(said["hours"], json!([]));
}

/// Sets the status of deploy `id` of the fake Render's service.
fn set_deploy_status(launch: &Launch, id: &str, status: &str) {
    let mut world = fakes::lock(&launch.render.world);
    for deploys in world.deploys.values_mut() {
        for deploy in deploys.iter_mut().filter(|deploy| deploy["id"] == id) {
            deploy["status"] = json!(status);
        }
    }
}

async fn rollback(client: &Client, project: i64, confirm: &str) -> reqwest::Response {
    client
        .post(
            &format!("/api/projects/{project}/rollback"),
            &json!({ "confirm": confirm }).to_string(),
        )
        .await
}

#[tokio::test]
async fn an_admin_rolls_back_after_typing_the_service_name_and_the_deploy_is_followed() {
    let launch = Launch::start(Stage::Ready).await;
    let options = sampling();
    let (server, project) = watched(&launch, options).await;
    let (ana, dana) = (server.member("Ana").await, server.admin().await);
    // What it would do, before anyone types: the name, what it leaves and
    // what it returns to; and that answer fits the document.
    let plan = json(ana.get(&format!("/api/projects/{project}/rollback")).await).await;
    assert_eq!(plan["service"], "voxanne-backend", "{plan}");
    let said: Vec<&str> = plan["plan"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(said.len(), 2, "{plan}");
    assert!(
        said[0].starts_with("Leaves b2c3d4e Ship it, deployed "),
        "{plan}"
    );
    assert!(said[1].starts_with("Returns to a1b2c3d"), "{plan}");
    assert_eq!(plan["problem"], Value::Null);
    let document = json(ana.get("/api/openapi.json").await).await;
    common::schema::check(
        &document,
        &json!({ "$ref": "#/components/schemas/ActionPreview" }),
        &plan,
    )
    .unwrap_or_else(|err| panic!("{err}\n{plan}"));
    assert_eq!(
        rollback(&ana, project, "voxanne-backend").await.status(),
        StatusCode::FORBIDDEN
    );
    let wrong = rollback(&dana, project, "voxanne").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = json(wrong).await;
    assert_eq!(
        said["message"],
        "type the service's name, “voxanne-backend”, to confirm the rollback"
    );
    assert!(
        fakes::lock(&launch.render.world)
            .requests
            .iter()
            .all(|request| request.0 != "POST"),
        "nothing was posted to Render"
    );

    let started = rollback(&dana, project, " voxanne-backend ").await;
    assert_eq!(started.status(), StatusCode::OK);
    let started = json(started).await;
    assert_eq!(started["status"], "pending");
    assert_eq!(
        started["changed"]["to"], "dep-1 (a1b2c3d)",
        "the deploy live before"
    );
    let deploy = started["changed"]["deploy"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(deploy, "dep-3");
    let again = rollback(&dana, project, "voxanne-backend").await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "one at a time");

    set_deploy_status(&launch, &deploy, "live");
    let taken = wait_for_log(&ana, project, "action_taken", |e| e.len() >= 2).await;
    assert_eq!(taken[1]["payload"]["status"], "done");
    assert_eq!(taken[1]["actor"], "Dana");
    assert!(
        taken[1]["payload"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("The rollback is live after")
    );
    // The health endpoint is checked again once it is live.
    wait_for_log(&ana, project, "check_result", |e| {
        e.iter()
            .any(|c| c["payload"]["check"] == "health.endpoint" && c["actor"] == "Watchpost")
    })
    .await;
    let messages = launch.slack.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Dana started a rollback on Render (deploy dep-3)")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("the rollback is live")),
        "{messages:?}"
    );
    // The body Watchpost posted is the one Render's document describes.
    let document = common::specs::document(common::specs::RENDER);
    let posted: Vec<Value> = fakes::lock(&launch.render.world)
        .requests
        .iter()
        .filter(|request| request.0 == "POST")
        .filter_map(|request| request.3.clone())
        .collect();
    assert_eq!(posted, [json!({ "deployId": "dep-1" })]);
    let schema = common::specs::request_schema(document, "post", fakes::render::ROLLBACK);
    common::specs::validate(document, schema, &posted[0]).expect("the body fits Render's document");
}

#[tokio::test]
async fn a_rollback_whose_deploy_fails_says_so_and_one_with_nothing_to_return_to_does_nothing() {
    let launch = Launch::start(Stage::Ready).await;
    let options = sampling();
    let (server, project) = watched(&launch, options).await;
    let dana = server.admin().await;
    let started = json(rollback(&dana, project, "voxanne-backend").await).await;
    assert_eq!(started["status"], "pending");
    set_deploy_status(&launch, "dep-3", "build_failed");
    let taken = wait_for_log(&dana, project, "action_taken", |e| e.len() >= 2).await;
    assert_eq!(taken[1]["payload"]["status"], "failed");
    let message = taken[1]["payload"]["message"].as_str().unwrap_or("");
    assert!(message.contains("ended “build_failed”"), "{message}");
    assert!(message.contains("git revert HEAD && git push"), "{message}");
    assert!(
        launch
            .slack
            .messages()
            .iter()
            .any(|m| m.contains("the rollback failed"))
    );

    // Only one deploy ever went live: there is nothing to roll back to.
    fakes::lock(&launch.render.world)
        .deploys
        .values_mut()
        .for_each(|deploys| deploys.retain(|deploy| deploy["id"] == "dep-2"));
    let nothing = json(rollback(&dana, project, "voxanne-backend").await).await;
    assert_eq!(nothing["status"], "failed");
    assert!(
        nothing["message"]
            .as_str()
            .unwrap_or("")
            .contains("no earlier live deploy")
    );
}

#[tokio::test]
async fn one_rollback_at_a_time_per_service_and_never_blindly_over_a_newer_deploy() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = watched(&launch, sampling()).await;
    let dana = server.admin().await;
    // A second project watching the same Render service.
    let other = server.project("Voxanne (staging view)").await;
    let mut settings = launch.project_settings("Voxanne");
    settings.as_object_mut().map(|o| o.remove("name"));
    let patched = dana
        .patch(&format!("/api/projects/{other}"), &settings.to_string())
        .await;
    assert_eq!(patched.status(), StatusCode::OK);

    let started = json(rollback(&dana, project, "voxanne-backend").await).await;
    assert_eq!(started["status"], "pending", "{started}");
    let second = rollback(&dana, other, "voxanne-backend").await;
    assert_eq!(
        second.status(),
        StatusCode::CONFLICT,
        "the same service, another project"
    );
    assert!(log_of(&dana, other, "action_taken").await.is_empty());
    set_deploy_status(&launch, "dep-3", "live");
    wait_for_log(&dana, project, "action_taken", |e| e.len() >= 2).await;

    // A newer deploy is building: the rollback says what it is and waits
    // for a confirmation that names it.
    fakes::lock(&launch.render.world)
        .deploys
        .values_mut()
        .for_each(|deploys| {
            deploys.insert(
                0,
                fakes::render::deploy("dep-9", "build_in_progress", "f00dfeedcafe"),
            )
        });
    let posts = || {
        fakes::lock(&launch.render.world)
            .requests
            .iter()
            .filter(|request| request.0 == "POST")
            .count()
    };
    let before = posts();
    let over = rollback(&dana, other, "voxanne-backend").await;
    assert_eq!(over.status(), StatusCode::CONFLICT);
    let said = json(over).await;
    assert_eq!(said["error"], "deploy_in_progress", "{said}");
    assert_eq!(said["fields"]["over_deploy"], "dep-9");
    let message = said["message"].as_str().unwrap_or_default();
    assert!(message.contains("build in progress"), "{message}");
    assert!(message.contains("commit f00dfee"), "{message}");
    assert_eq!(posts(), before, "nothing was posted to Render");
    assert!(log_of(&dana, other, "action_taken").await.is_empty());

    let confirmed = dana
        .post(
            &format!("/api/projects/{other}/rollback"),
            &json!({ "confirm": "voxanne-backend", "over_deploy": "dep-9" }).to_string(),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(json(confirmed).await["status"], "pending");
    assert_eq!(posts(), before + 1);
}

fn criterion<'a>(report: &'a Value, id: &str) -> &'a Value {
    find(report, "criteria", "id", id)
}

#[tokio::test]
async fn the_sign_off_is_measured_from_the_watch_and_only_the_unmeasurable_is_waived() {
    let launch = Launch::start(Stage::Ready).await;
    let options = sampling();
    let (server, project) = watched(&launch, options).await;
    let (ana, dana) = (server.member("Ana").await, server.admin().await);
    let path = format!("/api/projects/{project}/sign-off");
    let fresh = json(ana.get(&path).await).await;
    assert_eq!(fresh["approvable"], false);
    assert_eq!(
        criterion(&fresh, "success-health")["standing"],
        "unmeasured"
    );

    // Signing off before the sign-off checkpoint is refused.
    assert_eq!(
        start_watch(&ana, project, json!({})).await.status(),
        StatusCode::CREATED
    );
    let early = dana.post(&path, "{}").await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    let said = json(early).await;
    // When it opens, as people read a time in the project's zone.
    let message = said["message"].as_str().unwrap_or("");
    let when = message
        .strip_prefix("the sign-off opens at ")
        .and_then(|rest| rest.split_once(';'))
        .map(|(when, _)| when)
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(when.len(), "2026-12-07 09:00 UTC".len(), "{said}");
    assert!(
        when.ends_with(" UTC") && when.as_bytes().get(10) == Some(&b' '),
        "not RFC 3339: {said}"
    );
    // A watch started a day ago, with samples, a snapshot and the criteria's
    // check.
    let day_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(24 * 3600 + 60);
    let restarted = start_watch(&ana, project, json!({ "start": day_ago.to_string() })).await;
    assert_eq!(restarted.status(), StatusCode::CREATED);
    tokio::time::sleep(FAST_SAMPLING * 5).await;
    assert_eq!(
        ana.post(&format!("/api/projects/{project}/snapshots"), "")
            .await
            .status(),
        StatusCode::OK
    );
    let checked = ana
        .post(
            &format!("/api/projects/{project}/checks/success-no-critical"),
            "",
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    // A sign-off still blocked (the database, unmeasured, is not waived) stores
    // nothing, not even the waiver it carried, which alone was valid.
    let blocked = dana
        .post(
            &path,
            &json!({ "waivers": { "success-websockets": "no WebSocket traffic" } }).to_string(),
        )
        .await;
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    assert!(
        log_of(&ana, project, "criterion_waived").await.is_empty(),
        "a refused sign-off stored its waiver"
    );
    // A member cannot approve the launch through the log either.
    let (status, said) = ana
        .append(
            project,
            "by-hand",
            "sign_off",
            json!({ "approved": true, "note": "looks fine" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{said}");
    assert!(
        said["message"]
            .as_str()
            .unwrap_or("")
            .contains("POST /api/projects/{id}/sign-off"),
        "{said}"
    );
    assert!(log_of(&ana, project, "sign_off").await.is_empty());
    // Background jobs, as the health endpoint reported them at the snapshot:
    // a live item, which no one may tick by hand.
    let (status, _) = ana
        .append(
            project,
            "tick-jobs",
            "ticked",
            json!({ "item": "success-background-jobs" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = json(ana.get(&path).await).await;
    for met in [
        "success-error-rate",
        "success-no-critical",
        "success-health",
        "success-no-restarts",
        "success-response-times",
        "success-background-jobs",
    ] {
        assert_eq!(
            criterion(&report, met)["standing"],
            "met",
            "{met}: {report}"
        );
    }
    assert!(
        criterion(&report, "success-health")["evidence"]
            .as_str()
            .unwrap_or("")
            .starts_with("never down in")
    );
    assert_eq!(
        criterion(&report, "success-websockets")["standing"],
        "unmeasured"
    );
    assert_eq!(report["approvable"], false);

    // Members cannot sign off; a blocked sign-off names what blocks it.
    assert_eq!(ana.post(&path, "{}").await.status(), StatusCode::FORBIDDEN);
    let blocked = dana.post(&path, "{}").await;
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    let said = json(blocked).await;
    assert!(
        said["message"]
            .as_str()
            .unwrap_or("")
            .contains("WebSocket connections stable"),
        "{said}"
    );
    // A waiver is for what cannot be measured, with a reason.
    let measured = dana
        .post(
            &path,
            &json!({ "waivers": { "success-health": "fine" } }).to_string(),
        )
        .await;
    assert_eq!(measured.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reasonless = dana
        .post(
            &path,
            &json!({ "waivers": { "success-websockets": " " } }).to_string(),
        )
        .await;
    assert_eq!(reasonless.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        log_of(&ana, project, "criterion_waived").await.is_empty(),
        "a refused request records nothing"
    );

    let body = json!({ "waivers": {
        "success-websockets": "no WebSocket traffic in the first day",
        "success-database": "the database is Supabase's, watched there"
    }, "note": "go" });
    let signed = dana.post(&path, &body.to_string()).await;
    assert_eq!(signed.status(), StatusCode::OK);
    let signed = json(signed).await;
    assert_eq!(signed["approvable"], true);
    assert_eq!(signed["signed_off_by"], "Dana");
    assert_eq!(
        criterion(&signed, "success-websockets")["standing"],
        "waived"
    );
    assert_eq!(log_of(&ana, project, "criterion_waived").await.len(), 2);
    assert_eq!(
        log_of(&ana, project, "sign_off").await[0]["payload"]["approved"],
        true
    );
    assert_eq!(
        dana.post(&path, "{}").await.status(),
        StatusCode::CONFLICT,
        "once"
    );
    let watch = json(ana.get(&format!("/api/projects/{project}/watch")).await).await;
    assert_eq!(watch["running"], false, "signed off: sampling stops");

    let report = ana.get(&format!("{path}?format=markdown")).await;
    assert_eq!(report.status(), StatusCode::OK);
    assert!(common::header(&report, reqwest::header::CONTENT_TYPE).starts_with("text/markdown"));
    let text = report.text().await.unwrap_or_default();
    assert!(text.starts_with("# Launch sign-off: Voxanne"), "{text}");
    assert!(text.contains("**Approved for launch** by Dana"), "{text}");
    assert!(text.contains("| WebSocket connections stable | waived | waived by Dana: no WebSocket traffic in the first day"), "{text}");

    // The page to print: the verdict, the charts from the samples and
    // Sentry, every snapshot and the timeline, under its own strict policy.
    let page = ana.get(&format!("{path}?format=html")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(common::header(&page, reqwest::header::CONTENT_TYPE).starts_with("text/html"));
    let policy = common::header(&page, reqwest::header::CONTENT_SECURITY_POLICY);
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    let html = page.text().await.unwrap_or_default();
    for expected in [
        "Approved for launch by Dana at",
        "data-testid=\"report-latency-chart\"",
        // Drawn with a time axis in the watch's hours and the target as a line.
        "<svg class=\"chart-svg\"",
        ">hour 0</text>",
        ">target 100 ms</text>",
        "data-testid=\"report-errors-chart\"",
        "data-testid=\"report-snapshots\"",
        "signed off: approved for launch",
        "waived by Dana: no WebSocket traffic in the first day",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    let unknown = ana.get(&format!("{path}?format=pdf")).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
