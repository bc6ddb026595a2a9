//! Prints the numbers issue 9 asks for (run it with `scripts/bench`):
//!
//! - relay overhead: p50 and p99 of a live check through the proxy, at 50
//!   concurrent, against the same upstream call made directly (a Render
//!   service read from the fakes);
//! - "Check all" on the whole setup with every fake answering in 50 ms,
//!   against the slowest single check and the sum of them all.
//!
//! The proxy is the real release binary (`WATCHPOST_BIN`) configured for the
//! fakes, on loopback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::Launch;
use fakes::launch::{RENDER_KEY, SERVICE, Stage};
use serde_json::Value;
use tokio::sync::Semaphore;

#[path = "support/proxy.rs"]
mod proxy;
use proxy::{Error, Proxy};

const CONCURRENT: usize = 50;
const REQUESTS: usize = 1_000;
const WARM_UP: usize = 100;
const LATENCY: Duration = Duration::from_millis(50);
const SLOW_REQUESTS: usize = 200;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let launch = Launch::start(Stage::Ready).await;
    let data = tempfile::TempDir::new()?;
    let proxy = Proxy::start_with(data.path(), &launch.env())?;
    let admin = proxy.admin(0).await?;

    // A project per check, so that every one asks Render (a result is
    // otherwise reused for 5 s, which would flatter the proxy).
    let mut projects = Vec::new();
    for n in 0..REQUESTS + WARM_UP {
        projects.push(project(&proxy, &admin, &launch, n).await?);
    }
    let direct_url = launch.render.base.join(&format!("v1/services/{SERVICE}"))?;
    let direct = reqwest::Client::new();
    let (warm, measured) = projects.split_at(WARM_UP);
    run(warm.to_vec(), |_| {
        let (client, url) = (direct.clone(), direct_url.clone());
        async move { read_directly(&client, &url).await }
    })
    .await?;
    let direct_times = run((0..REQUESTS as i64).collect(), |_| {
        let (client, url) = (direct.clone(), direct_url.clone());
        async move { read_directly(&client, &url).await }
    })
    .await?;
    let check = |id: i64| {
        let (client, url) = (admin.clone(), proxy.url.clone());
        async move {
            let response = client
                .post(format!(
                    "{url}/api/projects/{id}/checks/render-service-exists"
                ))
                .send()
                .await?;
            let report: Value = response.json().await?;
            if report["status"] != "passed" {
                return Err(format!("the check did not pass: {report}").into());
            }
            Ok(())
        }
    };
    run(warm.to_vec(), check).await?;
    let relayed = run(measured.to_vec(), check).await?;
    // The proxy's own floor: a read of a project, no upstream call, no write.
    let read = |id: i64| {
        let (client, url) = (admin.clone(), proxy.url.clone());
        async move {
            client
                .get(format!("{url}/api/projects/{id}"))
                .send()
                .await?
                .bytes()
                .await?;
            Ok(())
        }
    };
    let floor = run(measured.to_vec(), read).await?;

    // The same with Render answering in 50 ms, as a real service over the
    // internet does: what a person waits for.
    launch.latency.set(LATENCY);
    let mut slow_projects = Vec::new();
    for n in 0..SLOW_REQUESTS {
        slow_projects.push(project(&proxy, &admin, &launch, 5_000 + n).await?);
    }
    let slow_direct = run((0..SLOW_REQUESTS as i64).collect(), |_| {
        let (client, url) = (direct.clone(), direct_url.clone());
        async move { read_directly(&client, &url).await }
    })
    .await?;
    let slow_relayed = run(slow_projects, check).await?;

    // Check all, with every fake answering in 50 ms.
    let items = live_setup_items(&proxy, &admin).await?;
    let mut singles = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let id = project(&proxy, &admin, &launch, 10_000 + n).await?;
        let started = Instant::now();
        let report: Value = admin
            .post(format!("{}/api/projects/{id}/checks/{item}", proxy.url))
            .send()
            .await?
            .json()
            .await?;
        singles.push((started.elapsed(), item.clone(), report["status"].clone()));
    }
    let id = project(&proxy, &admin, &launch, 20_000).await?;
    let started = Instant::now();
    let all: Value = admin
        .post(format!("{}/api/projects/{id}/checks", proxy.url))
        .json(&serde_json::json!({}))
        .send()
        .await?
        .json()
        .await?;
    let check_all = started.elapsed();
    let passed = all.as_array().map_or(0, |all| {
        all.iter().filter(|r| r["status"] == "passed").count()
    });
    let slowest = singles
        .iter()
        .max_by_key(|(took, ..)| *took)
        .ok_or("no items")?;
    let sum: Duration = singles.iter().map(|(took, ..)| *took).sum();

    let (d50, d99) = (percentile(&direct_times, 50), percentile(&direct_times, 99));
    let (r50, r99) = (percentile(&relayed, 50), percentile(&relayed, 99));
    println!(
        "Watchpost live checks benchmark ({})",
        std::env::consts::ARCH
    );
    println!(
        "relay overhead, {REQUESTS} checks at {CONCURRENT} concurrent (render.service; each check also records its result):"
    );
    println!(
        "  direct Render read:  p50 {:.2} ms, p99 {:.2} ms",
        ms(d50),
        ms(d99)
    );
    println!(
        "  through the proxy:   p50 {:.2} ms, p99 {:.2} ms",
        ms(r50),
        ms(r99)
    );
    println!(
        "  (a project read through the proxy, no upstream call: p50 {:.2} ms, p99 {:.2} ms)",
        ms(percentile(&floor, 50)),
        ms(percentile(&floor, 99))
    );
    println!(
        "  added: p50 {:.2} ms ({:.2}x), p99 {:.2} ms ({:.2}x)  (target: at most 1.10x and under 1 ms added)",
        ms(r50) - ms(d50),
        r50.as_secs_f64() / d50.as_secs_f64(),
        ms(r99) - ms(d99),
        r99.as_secs_f64() / d99.as_secs_f64()
    );
    let (s50, s99) = (percentile(&slow_direct, 50), percentile(&slow_direct, 99));
    let (t50, t99) = (percentile(&slow_relayed, 50), percentile(&slow_relayed, 99));
    println!(
        "  with Render answering in {} ms ({SLOW_REQUESTS} checks at {CONCURRENT} concurrent): direct p50 {:.2} / p99 {:.2} ms, through the proxy p50 {:.2} / p99 {:.2} ms: {:.3}x / {:.3}x, added {:.2} / {:.2} ms",
        LATENCY.as_millis(),
        ms(s50),
        ms(s99),
        ms(t50),
        ms(t99),
        t50.as_secs_f64() / s50.as_secs_f64(),
        t99.as_secs_f64() / s99.as_secs_f64(),
        ms(t50) - ms(s50),
        ms(t99) - ms(s99)
    );
    println!(
        "check all, {} live setup items, every fake answering in {} ms:",
        items.len(),
        LATENCY.as_millis()
    );
    println!(
        "  check all {:.0} ms ({passed} passed); slowest single check {:.0} ms ({}); all singles one after another {:.0} ms",
        ms(check_all),
        ms(slowest.0),
        slowest.1,
        ms(sum)
    );
    println!(
        "  check all / slowest single: {:.2}x  (target: under 2x)",
        check_all.as_secs_f64() / slowest.0.as_secs_f64()
    );
    Ok(())
}

/// A Watchpost project configured for the fakes.
async fn project(
    proxy: &Proxy,
    admin: &reqwest::Client,
    launch: &Launch,
    n: usize,
) -> Result<i64, Error> {
    proxy
        .create_project(admin, &launch.project_settings(&format!("Bench {n}")))
        .await
}

async fn read_directly(client: &reqwest::Client, url: &url::Url) -> Result<(), Error> {
    let response = client
        .get(url.clone())
        .bearer_auth(RENDER_KEY)
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("Render answered {}", response.status()).into());
    }
    response.bytes().await?;
    Ok(())
}

/// The setup's items that have a live check.
async fn live_setup_items(proxy: &Proxy, admin: &reqwest::Client) -> Result<Vec<String>, Error> {
    let playbook: Value = admin
        .get(format!("{}/api/playbook", proxy.url))
        .send()
        .await?
        .json()
        .await?;
    let mut items = Vec::new();
    for section in playbook["setup"].as_array().ok_or("no setup")? {
        for step in section["steps"].as_array().ok_or("no steps")? {
            for item in step["items"].as_array().ok_or("no items")? {
                if item["verify"] != "manual" {
                    items.push(item["id"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
    }
    Ok(items)
}

/// Runs `call` once per input, `CONCURRENT` at a time; how long each took.
async fn run<I, F, Fut>(inputs: Vec<I>, call: F) -> Result<Vec<Duration>, Error>
where
    I: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(CONCURRENT));
    let mut running = tokio::task::JoinSet::new();
    for input in inputs {
        let permit = slots.clone().acquire_owned().await?;
        let call = call(input);
        running.spawn(async move {
            let started = Instant::now();
            let result = call.await;
            drop(permit);
            result.map(|()| started.elapsed())
        });
    }
    let mut times = Vec::new();
    while let Some(done) = running.join_next().await {
        times.push(done??);
    }
    Ok(times)
}

fn percentile(times: &[Duration], p: usize) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
