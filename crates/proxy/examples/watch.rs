//! Prints the sampler figures issue 10 asks for (run it with `scripts/bench`):
//! 50 projects watched at once, each with a day of 30-second health samples
//! (2,880 each, 144,000 in all) already stored:
//!
//! - the proxy's RSS while it samples them every 30 s (the idle target);
//! - `GET /health?window=24h`: the latency of a 24-hour window's statistics
//!   (target: under 50 ms);
//! - the sampler's cost: CPU time per round of 50 probes and its share of a
//!   core at the 30-second interval, measured at a 1-second interval;
//! - the error watch's cost: Sentry requests per round for the 50 projects
//!   (each its own Sentry project, in one organization), CPU time per round
//!   beyond the sampler's, and RSS, measured at a 1-second interval;
//! - the host's metrics' cost: a round of the routine's Render checks
//!   (memory, 5xx share, latency of three paths, restarts) for the 50
//!   projects, as a snapshot asks them: Render requests, CPU time, RSS.
//!
//! The proxy is the real release binary (`WATCHPOST_BIN`), its health URLs
//! point at the fakes' service, on loopback.

use std::time::{Duration, Instant};

use domain::health::Sample;
use domain::project::{Project, ProjectPatch};
use domain::run::Change;
use fakes::Launch;
use fakes::launch::Stage;
use serde_json::Value;
use watchpost_proxy::store::Store;

#[path = "support/proxy.rs"]
mod proxy;
use proxy::{Error, Proxy};

const PROJECTS: usize = 50;
const SAMPLES_PER_DAY: i64 = 24 * 3600 / 30;
const STATS_ROUNDS: usize = 4;
/// The routine's checks of the host's own metrics.
const HOST_ITEMS: [&str; 6] = [
    "routine-memory-stable",
    "host-error-rate",
    "calls-latency-host",
    "webhooks-latency-host",
    "assistants-latency-host",
    "routine-no-restarts",
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    let launch = Launch::start(Stage::Ready).await;
    let data = tempfile::TempDir::new()?;
    let url = launch.service.health.to_string();
    let ids = fill(data.path(), &url).await?;
    {
        let mut world = fakes::lock(&launch.sentry.world);
        for n in 0..PROJECTS {
            let slug = format!("watched-{n}");
            let project = fakes::sentry::project(100 + n as u64, &slug, "node", None);
            world.projects.insert(slug, project);
        }
    }

    let mut env = launch.env();
    env.push(("WATCHPOST_SAMPLE_INTERVAL", "30".to_owned()));
    let proxy = Proxy::start_with(data.path(), &env)?;
    let admin = proxy.admin(0).await?;
    // The first round starts at once, and with it the day-old watches' due
    // snapshots; then a round later, their results too old to reuse dropped.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_burst = proxy.rss_kb()?;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let rss = proxy.rss_kb()?;

    let mut times = Vec::new();
    for _ in 0..STATS_ROUNDS {
        for id in &ids {
            let started = Instant::now();
            let report: Value = admin
                .get(format!("{}/api/projects/{id}/health?window=24h", proxy.url))
                .send()
                .await?
                .json()
                .await?;
            times.push(started.elapsed());
            let samples = report["overall"]["samples"].as_u64().unwrap_or(0);
            if samples < SAMPLES_PER_DAY as u64 - 2 {
                return Err(format!("a day's window held {samples} samples").into());
            }
        }
    }
    times.sort();
    let rss_after = proxy.rss_kb()?;
    // Freed memory goes back to the system within seconds (jemalloc's decay).
    tokio::time::sleep(Duration::from_secs(15)).await;
    let rss_later = proxy.rss_kb()?;
    drop(proxy);

    // The sampler's cost, every second instead of every 30 s. A new
    // passcode file makes the proxy print fresh passcodes, as it starts.
    let cost = |errors_every: &'static str| {
        let mut env = launch.env();
        env.push(("WATCHPOST_SAMPLE_INTERVAL", "1".to_owned()));
        env.push(("WATCHPOST_ERROR_WATCH_INTERVAL", errors_every.to_owned()));
        let data = data.path().to_owned();
        let launch = &launch;
        async move {
            std::fs::remove_file(data.join("auth.toml"))?;
            let proxy = Proxy::start_with(&data, &env)?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let asked = || fakes::lock(&launch.sentry.world).requests.len();
            let (cpu_before, asked_before, started) = (proxy.cpu_time()?, asked(), Instant::now());
            tokio::time::sleep(Duration::from_secs(10)).await;
            let cpu = proxy.cpu_time()? - cpu_before;
            let rounds = started.elapsed().as_secs_f64();
            let requests = (asked() - asked_before) as f64 / rounds;
            Ok::<_, Error>((
                cpu.as_secs_f64() * 1000.0 / rounds,
                requests,
                proxy.rss_kb()?,
            ))
        }
    };
    // The sampler alone (the error watch's first round is over by then),
    // then with the error watch every second too.
    let (per_round, _, _) = cost("86400").await?;
    let (with_errors, requests, errors_rss) = cost("1").await?;
    // Beside the sampler's own cost, which varies by as much between runs.
    let error_round = (with_errors - per_round).max(0.0);

    // A round of the host's metrics, as a snapshot asks them.
    std::fs::remove_file(data.path().join("auth.toml"))?;
    let proxy = Proxy::start_with(data.path(), &launch.env())?;
    let admin = proxy.admin(0).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rendered = || fakes::lock(&launch.render.world).requests.len();
    let items = serde_json::json!({ "items": HOST_ITEMS });
    let (cpu_before, asked_before, started) = (proxy.cpu_time()?, rendered(), Instant::now());
    for id in &ids {
        let response = admin
            .post(format!("{}/api/projects/{id}/checks", proxy.url))
            .json(&items)
            .send()
            .await?;
        let reports: Value = response.json().await?;
        let passed = reports.as_array().map_or(0, |reports| {
            reports.iter().filter(|r| r["status"] == "passed").count()
        });
        if passed != HOST_ITEMS.len() {
            return Err(format!("the host's checks did not all pass: {reports}").into());
        }
    }
    let host_wall = started.elapsed();
    let host_cpu = proxy.cpu_time()? - cpu_before;
    let host_requests = (rendered() - asked_before) as f64 / PROJECTS as f64;
    let host_rss = proxy.rss_kb()?;
    drop(proxy);

    println!("Watchpost sampler benchmark ({})", std::env::consts::ARCH);
    println!(
        "watch: {PROJECTS} projects sampled every 30 s, {SAMPLES_PER_DAY} samples each stored: RSS {:.1} MB just after their 50 due snapshots, {:.1} MB a round later; {:.1} MB after {} 24-hour window reads, {:.1} MB 15 s later  (target: the idle target)",
        mb(rss_burst),
        mb(rss),
        mb(rss_after),
        times.len(),
        mb(rss_later)
    );
    println!(
        "watch: 24-hour health window: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms  (target < 50 ms)",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 99 / 100]),
        ms(times[times.len() - 1])
    );
    println!(
        "watch: sampler: {per_round:.1} ms CPU per round of {PROJECTS} probes; at 30 s, {:.2}% of a core",
        per_round / 30_000.0 * 100.0
    );
    println!(
        "watch: error watch: {requests:.0} Sentry requests per round for {PROJECTS} projects (2 for all their failure rates and errors, the rest their critical issues, one per marker); {error_round:.1} ms CPU per round beyond the sampler's (0 within its noise); at 5 min, {:.3}% of a core; RSS {:.1} MB with both every second",
        error_round / 300_000.0 * 100.0,
        mb(errors_rss)
    );
    println!(
        "watch: host metrics: {host_requests:.0} Render requests per project per round (memory and its limit, 5xx share, three paths' latency, events and instances), {:.0} ms CPU and {:.2} s for a round of {PROJECTS} projects; RSS {:.1} MB after it",
        ms(host_cpu),
        host_wall.as_secs_f64(),
        mb(host_rss)
    );
    Ok(())
}

/// Stores 50 projects whose watches started a day ago, with a day of samples.
async fn fill(dir: &std::path::Path, url: &str) -> Result<Vec<i64>, Error> {
    let store = Store::open(dir).await?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let mut ids = Vec::new();
    for n in 0..PROJECTS {
        let project = store
            .create_project(
                &Project::blank(0).patched(ProjectPatch {
                    name: Some(format!("Watched {n}")),
                    health_urls: Some(vec![url.to_owned()]),
                    sentry_project: Some(Some(format!("watched-{n}"))),
                    render_service_id: Some(Some(fakes::launch::SERVICE.to_owned())),
                    render_paths: Some(
                        [
                            ("calls", "/api/calls"),
                            ("webhooks", "/api/webhooks"),
                            ("assistants", "/api/assistants"),
                        ]
                        .into_iter()
                        .map(|(endpoint, path)| (endpoint.to_owned(), path.to_owned()))
                        .collect(),
                    ),
                    ..ProjectPatch::default()
                }),
            )
            .await?;
        let change = Change::WatchScheduled {
            start: now_ms / 1000 - 24 * 3600 + 60,
            grace_seconds: 900,
        };
        store.append(project.id, "start", &change, "bench").await?;
        let samples: Vec<(String, Sample)> = (0..SAMPLES_PER_DAY)
            .map(|i| {
                let ok = i % 500 != 0;
                let sample = Sample {
                    at: now_ms - (SAMPLES_PER_DAY - i) * 30_000,
                    ok,
                    status: if ok { 200 } else { 503 },
                    latency_ms: Some(20 + (i % 97) as u32),
                    uptime: Some(3600 + i as u64 * 30),
                    failing: if ok { String::new() } else { "database".into() },
                };
                (url.to_owned(), sample)
            })
            .collect();
        for chunk in samples.chunks(1000) {
            store.add_samples(project.id, chunk).await?;
        }
        ids.push(project.id);
    }
    store.close().await;
    Ok(ids)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
