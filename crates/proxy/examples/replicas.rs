//! Prints what issue 19 asks of several replicas on PostgreSQL (run it with
//! `scripts/bench`, which starts the PostgreSQL server):
//!
//! - the resident memory of an idle replica on PostgreSQL;
//! - sync latency across two replicas: 200 live streams, half on each, and
//!   writes through one; p50 and p99 per side;
//! - failover: from `kill -9` of the replica keeping the watch to the first
//!   health sample taken by the other.
//!
//! It starts the real release binaries (`WATCHPOST_BIN`) on a database of
//! their own on the server `WATCHPOST_TEST_POSTGRES` names.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::Launch;
use fakes::launch::Stage;
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::Mutex;
use watchpost_proxy::store::postgres::watcher_holder;

#[path = "support/proxy.rs"]
mod proxy;
use proxy::{Error, Proxy};

const SUBSCRIBERS: usize = 200;
const WRITES: usize = 200;
const STREAMS_PER_SESSION: usize = 20;
/// Failover lands anywhere within a sample interval of the kill: several tries.
const TRIALS: usize = 5;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = std::env::var("WATCHPOST_TEST_POSTGRES")
        .map_err(|_| "WATCHPOST_TEST_POSTGRES is not set: run scripts/bench")?;
    let database = fresh_database(&server, "bench_replicas").await?;
    let data = tempfile::TempDir::new()?;
    let a = Proxy::start_replica(&data.path().join("a"), &database, "a", &[])?;
    let b = Proxy::start_replica(&data.path().join("b"), &database, "b", &[])?;
    let client = a.admin(0).await?;
    let project = a
        .create_project(&client, &json!({ "name": "Bench" }))
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = a.rss_kb()?;
    let (on_a, on_b) = sync_latency(&a, &b, &client, project).await?;
    drop((a, b));

    let mut failovers = Vec::new();
    for trial in 0..TRIALS {
        failovers.push(
            failover(
                &server,
                &data.path().join(format!("failover-{trial}")),
                trial,
            )
            .await?,
        );
    }

    println!(
        "Watchpost replicas on PostgreSQL ({})",
        std::env::consts::ARCH
    );
    println!(
        "proxy RSS on PostgreSQL, idle: {:.1} MB  (target <= 20 MB)",
        idle as f64 / 1024.0
    );
    println!(
        "sync latency across two replicas, {SUBSCRIBERS} subscribers (half on each) x {WRITES} writes through A: on A p50 {:.1} ms, p99 {:.1} ms; on B p50 {:.1} ms, p99 {:.1} ms  (target p99 < 200 ms)",
        ms(on_a.0),
        ms(on_a.1),
        ms(on_b.0),
        ms(on_b.1)
    );
    println!(
        "failover, kill -9 of the replica keeping the watch to the first sample by the other (1 s sample interval), {TRIALS} trials: {} ms  (target within two intervals)",
        failovers
            .iter()
            .map(|took| format!("{:.0}", ms(*took)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// A new, empty database on `server`; its URL.
async fn fresh_database(server: &str, name: &str) -> Result<String, Error> {
    let mut admin = PgConnection::connect(server).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    admin.close().await?;
    let (base, _) = server.rsplit_once('/').ok_or("a database in the URL")?;
    Ok(format!("{base}/{name}"))
}

type Percentiles = (Duration, Duration);

/// Half the streams on each replica; each write goes through A and is timed
/// from its start to its delivery on every stream.
async fn sync_latency(
    a: &Proxy,
    b: &Proxy,
    client: &reqwest::Client,
    project: i64,
) -> Result<(Percentiles, Percentiles), Error> {
    let sent: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; WRITES + 1]));
    let latencies = [
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    ];
    let mut readers = Vec::new();
    for (side, replica) in [a, b].into_iter().enumerate() {
        readers.extend(
            replica
                .timed_streams(
                    project,
                    SUBSCRIBERS / 2,
                    STREAMS_PER_SESSION,
                    WRITES,
                    &sent,
                    &latencies[side],
                )
                .await?,
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy::write_notes(client, &a.url, project, WRITES, &sent).await?;
    for reader in readers {
        tokio::time::timeout(Duration::from_secs(30), reader).await??;
    }
    let mut sides = Vec::new();
    for latencies in latencies {
        let latencies = latencies.lock().await.clone();
        if latencies.len() != SUBSCRIBERS / 2 * WRITES {
            return Err(format!(
                "{} deliveries of {}",
                latencies.len(),
                SUBSCRIBERS / 2 * WRITES
            )
            .into());
        }
        sides.push(proxy::percentiles(latencies));
    }
    Ok((sides[0], sides[1]))
}

/// Two replicas sampling a health URL every second; the one keeping the
/// watch is killed, and the time to the other's first sample measured.
async fn failover(server: &str, data: &std::path::Path, trial: usize) -> Result<Duration, Error> {
    let launch = Launch::start(Stage::Ready).await;
    let database = fresh_database(server, &format!("bench_failover_{trial}")).await?;
    let mut env = launch.env();
    env.push(("WATCHPOST_SAMPLE_INTERVAL", "1".to_owned()));
    let mut replicas = [
        Proxy::start_replica(&data.join("a"), &database, "a", &env)?,
        Proxy::start_replica(&data.join("b"), &database, "b", &env)?,
    ];
    let client = replicas[0].admin(0).await?;
    let id = replicas[0]
        .create_project(
            &client,
            &json!({ "name": "Voxanne", "health_urls": [launch.service.health.to_string()] }),
        )
        .await?;
    client
        .post(format!("{}/api/projects/{id}/watch", replicas[0].url))
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()?;
    let mut store = PgConnection::connect(&database).await?;
    while newest(&mut store).await?.is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let leader = watcher_holder(&mut store)
        .await?
        .ok_or("no replica holds the watcher's lock")?;
    let killed = usize::from(leader != "a");
    // Trial n kills n fifths of an interval later: the kill falls at a
    // different point of the survivor's round each time (the replicas
    // start a fixed time apart, so a kill at once would always be one).
    tokio::time::sleep(Duration::from_millis(200 * trial as u64)).await;
    let started = Instant::now();
    replicas[killed].kill();
    // A sample stamped after the kill is the survivor's: the dead take none.
    let dead_since = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    loop {
        if newest(&mut store).await?.unwrap_or_default() > dead_since {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the other replica never sampled".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The newest health sample's time, if any.
async fn newest(store: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(at) FROM health_samples")
        .fetch_one(store)
        .await
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
