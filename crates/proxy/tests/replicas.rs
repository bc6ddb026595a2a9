//! Several replicas on one PostgreSQL store (`--database-url`), behind
//! nothing but their own addresses: the log, its live streams and their
//! resume, sessions, the single flight of actions, and the watcher's
//! takeover when its replica is killed. The PostgreSQL server is the one
//! the test command starts (`WATCHPOST_TEST_POSTGRES`).

mod common;

use std::time::{Duration, Instant};

use common::postgres::database;
use common::process::{Running, every_acknowledged_write_survives};
use common::sse::EventStream;
use common::{Client, Options, Server, json, launch_server_in, services};
use fakes::Launch;
use fakes::launch::Stage;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use watchpost_proxy::store::postgres::watcher_holder;

const WAIT: Duration = Duration::from_secs(5);

/// A replica on the database at `url`, with its own data directory.
async fn replica(url: &str, name: &str) -> Server {
    Server::with_options(Options {
        database_url: Some(url.to_owned()),
        replica_name: Some(name.to_owned()),
        ..Options::default()
    })
    .await
}

/// `client`'s session, speaking to `server`: one sign-in, another replica.
fn on(server: &Server, client: &Client) -> Client {
    Client {
        base: server.base.clone(),
        http: client.http.clone(),
    }
}

fn note(text: &str) -> Value {
    json!({ "text": text })
}

async fn ids(client: &Client, project: i64) -> Vec<u64> {
    let response = client.get(&format!("/api/projects/{project}/log")).await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response)
        .await
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["id"].as_u64().expect("an id"))
        .collect()
}

#[tokio::test]
async fn an_entry_written_on_one_replica_streams_to_the_other_in_order_and_resumes_exactly() {
    let db = database("replicas_log", false).await;
    let (a, b) = (replica(&db.admin, "a").await, replica(&db.admin, "b").await);
    let project = a.project("Voxanne").await;
    let ana = a.member("Ana").await;
    let ben = b.member("Ben").await;
    assert_eq!(
        ben.get(&format!("/api/projects/{project}")).await.status(),
        StatusCode::OK,
        "a project made on one replica is on the other"
    );

    // A stream on B hears an entry written through A within a second.
    let mut stream = EventStream::new(ben.get(&format!("/api/projects/{project}/stream")).await);
    let sent = Instant::now();
    let (status, written) = ana.append(project, "first", "note", note("from A")).await;
    assert_eq!(status, StatusCode::CREATED);
    let heard = stream.next(WAIT).await.expect("the entry reaches B");
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(heard.json(), written);

    // Both replicas write at once: B's stream hears every entry once, in
    // id order, and the log holds exactly those.
    let writers: Vec<_> = [(ana.clone(), "a"), (ben.clone(), "b")]
        .into_iter()
        .map(|(client, side)| {
            tokio::spawn(async move {
                for n in 0..40 {
                    let (status, _) = client
                        .append(project, &format!("{side}-{n}"), "note", note(side))
                        .await;
                    assert_eq!(status, StatusCode::CREATED);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let mut streamed = vec![heard.json()["id"].as_u64().expect("id")];
    for _ in 0..80 {
        let event = stream.next(WAIT).await.expect("every entry arrives");
        let id: u64 = event.id.as_deref().unwrap_or_default().parse().expect("id");
        assert!(id > *streamed.last().expect("one"), "in order, once each");
        streamed.push(id);
    }
    assert_eq!(stream.next(Duration::from_millis(300)).await, None);
    assert_eq!(ids(&ana, project).await, streamed);
    assert_eq!(ids(&ben, project).await, streamed);

    // The same operation sent to both replicas is stored once.
    let (first, stored) = ana.append(project, "twice", "note", note("once")).await;
    let (again, existing) = ben.append(project, "twice", "note", note("once")).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(stored, existing);

    // A stream resumed on A after the 40th entry gets exactly the rest.
    let resumed = ana
        .http
        .get(format!("{}/api/projects/{project}/stream", ana.base))
        .header("Last-Event-ID", streamed[40].to_string())
        .send()
        .await
        .expect("request");
    let mut stream = EventStream::new(resumed);
    for id in streamed[41..]
        .iter()
        .chain(std::iter::once(&stored["id"].as_u64().expect("id")))
    {
        let event = stream.next(WAIT).await.expect("the rest");
        assert_eq!(event.id, Some(id.to_string()));
    }
    assert_eq!(stream.next(Duration::from_millis(300)).await, None);

    // Both fold the run alike: the last note is the same on each.
    let state = |client: Client| async move {
        json(client.get(&format!("/api/projects/{project}/state")).await).await
    };
    assert_eq!(state(ana.clone()).await, state(ben.clone()).await);

    // A rename on A reaches a project list open on B.
    let mut changes = EventStream::new(ben.get("/api/projects/changes").await);
    changes.next(WAIT).await.expect("an event on opening");
    let renamed = a
        .admin()
        .await
        .patch(
            &format!("/api/projects/{project}"),
            r#"{"name":"Voxanne API"}"#,
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    changes.next(WAIT).await.expect("B hears of the rename");
    let seen = json(ben.get(&format!("/api/projects/{project}")).await).await;
    assert_eq!(seen["name"], "Voxanne API");
}

#[tokio::test]
async fn a_sign_in_on_one_replica_holds_on_the_other_until_it_signs_out_there() {
    let db = database("replicas_sessions", false).await;
    let (a, b) = (replica(&db.admin, "a").await, replica(&db.admin, "b").await);
    let ana = a.member("Ana").await;
    let on_b = on(&b, &ana);
    let session = json(on_b.get("/api/session").await).await;
    assert_eq!(session["name"], "Ana", "{session}");
    assert_eq!(on_b.get("/api/projects").await.status(), StatusCode::OK);

    let out = on_b
        .send(reqwest::Method::DELETE, "/api/session", None)
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    // The cookie is gone from this client: send the old one by hand.
    assert_eq!(
        ana.get("/api/projects").await.status(),
        StatusCode::UNAUTHORIZED,
        "signed out on B is signed out on A"
    );
}

#[tokio::test]
async fn sign_in_attempts_count_on_every_replica_together() {
    let db = database("replicas_limits", false).await;
    // Three attempts per address a minute, across the replicas.
    let strict = |auth: &mut watchpost_proxy::auth::Auth| {
        let many = (1_000, Duration::from_millis(1));
        auth.limits =
            watchpost_proxy::auth::SignInLimits::new((3, Duration::from_secs(60)), many, many);
    };
    let options = || Options {
        database_url: Some(db.admin.clone()),
        ..Options::default()
    };
    let a = Server::start_configured(TempDir::new().expect("dir"), strict, options()).await;
    let b = Server::start_configured(TempDir::new().expect("dir"), strict, options()).await;
    let guess = |server: &Server| {
        let anonymous = server.anonymous();
        async move {
            anonymous
                .post("/api/session", r#"{"name":"Mallory","passcode":"guess"}"#)
                .await
                .status()
        }
    };
    for _ in 0..3 {
        assert_eq!(guess(&a).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        guess(&b).await,
        StatusCode::TOO_MANY_REQUESTS,
        "B counts A's attempts"
    );
    assert_eq!(guess(&a).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_action_under_way_on_one_replica_answers_conflict_on_the_other() {
    let db = database("replicas_actions", false).await;
    let launch = Launch::start(Stage::Ready).await;
    let options = |name: &str| Options {
        services: services(&launch),
        database_url: Some(db.admin.clone()),
        replica_name: Some(name.to_owned()),
        ..Options::default()
    };
    let (a, project) = launch_server_in(TempDir::new().expect("dir"), &launch, options("a")).await;
    let b = Server::start_configured(TempDir::new().expect("dir"), |_| {}, options("b")).await;
    let path = format!("/api/projects/{project}/actions/render.deploy");
    let (on_a, on_b) = (a.admin().await, b.admin().await);

    // Render answers slowly: the deploy on A is under way while B is asked.
    launch.latency.set(Duration::from_millis(700));
    let first = tokio::spawn(async move { on_a.post(&path, "{}").await.status() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = format!("/api/projects/{project}/actions/render.deploy");
    let second = on_b.post(&path, "{}").await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert!(
        json(second).await["message"]
            .as_str()
            .is_some_and(|m| m.contains("already under way")),
    );
    assert_eq!(first.await.expect("A's deploy"), StatusCode::OK);
    // Once it ended on A, B may act again.
    launch.latency.set(Duration::ZERO);
    assert_ne!(on_b.post(&path, "{}").await.status(), StatusCode::CONFLICT);
}

/// Both replicas run the watcher; one samples. Killed with -9, the other
/// takes over within two sampling intervals, says so on the timeline, and
/// no checkpoint's snapshot is taken twice.
#[tokio::test]
async fn when_the_watching_replica_is_killed_the_other_takes_over_the_sampling() {
    let db = database("replicas_watch", false).await;
    let launch = Launch::start(Stage::Ready).await;
    let flags = |name: &'static str| {
        [
            "--database-url",
            db.admin.as_str(),
            "--replica-name",
            name,
            "--sample-interval",
            "1",
            "--allow-private-targets",
        ]
    };
    let (dir_a, dir_b) = (TempDir::new().expect("dir"), TempDir::new().expect("dir"));
    let a = Running::start_with(dir_a.path(), &flags("a")).await;
    let admin_passcode = a.generated("admin passcode:");
    // The second replica shares the first one's passcodes, as a team's
    // replicas share their configuration.
    std::fs::copy(
        dir_a.path().join("auth.toml"),
        dir_b.path().join("auth.toml"),
    )
    .expect("auth.toml");
    let b = Running::start_with(dir_b.path(), &flags("b")).await;
    let client = a.signed_in(&admin_passcode).await;
    let project = a.create_project(&client, "Voxanne").await;
    let id = project["id"].as_i64().expect("id");
    let mut settings = launch.project_settings("Voxanne");
    settings.as_object_mut().map(|o| o.remove("name"));
    let patched = client
        .patch(format!("{}/api/projects/{id}", a.url))
        .json(&settings)
        .send()
        .await
        .expect("settings");
    assert_eq!(patched.status(), StatusCode::OK);
    let started = client
        .post(format!("{}/api/projects/{id}/watch", a.url))
        .json(&json!({}))
        .send()
        .await
        .expect("watch");
    assert!(started.status().is_success(), "{}", started.status());

    let mut store = PgConnection::connect(&db.admin).await.expect("the store");
    // One replica samples: wait for a few samples.
    let deadline = Instant::now() + Duration::from_secs(15);
    while samples(&mut store).await < 3 {
        assert!(Instant::now() < deadline, "no replica sampled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The replicas' connections carry their names: which holds the lock?
    let leader = watcher_holder(&mut store)
        .await
        .expect("pg_locks")
        .expect("a replica holds the watcher's lock");
    let (killed, survivor) = if leader == "a" { (a, b) } else { (b, a) };
    killed.signal("-KILL");
    let _ = killed.wait().await;
    let killed_at = Instant::now();
    let before = samples(&mut store).await;
    let deadline = killed_at + Duration::from_secs(10);
    while samples(&mut store).await <= before + 1 {
        assert!(Instant::now() < deadline, "sampling did not go on");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failover = killed_at.elapsed();
    assert!(
        failover <= Duration::from_secs(2) + Duration::from_millis(900),
        "{failover:?}"
    );
    let after = takeovers(&mut store).await;
    let survivor_name = if leader == "a" { "b" } else { "a" };
    assert!(
        after
            .last()
            .is_some_and(|t| t.contains(&format!(r#""{survivor_name}""#))),
        "the takeover is on the timeline: {after:?}"
    );
    let snapshots: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT (payload::json->>'checkpoint')::bigint, count(*) FROM entries
         WHERE kind = 'snapshot' GROUP BY 1",
    )
    .fetch_all(&mut store)
    .await
    .expect("snapshots");
    assert!(
        snapshots.iter().all(|(_, count)| *count == 1),
        "one snapshot per checkpoint: {snapshots:?}"
    );
    survivor.signal("-TERM");
    survivor.wait().await;
}

async fn samples(store: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM health_samples")
        .fetch_one(store)
        .await
        .expect("count")
}

async fn takeovers(store: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar("SELECT payload FROM entries WHERE kind = 'watch_taken_over' ORDER BY id")
        .fetch_all(store)
        .await
        .expect("takeovers")
}

#[tokio::test]
async fn every_acknowledged_write_survives_kill_9_on_postgresql() {
    let db = database("replicas_durable", false).await;
    let dir = TempDir::new().expect("dir");
    let flags = ["--database-url", db.admin.as_str()];
    every_acknowledged_write_survives(Running::start_with(dir.path(), &flags).await, || {
        Running::start_with(dir.path(), &flags)
    })
    .await;
}
