//! The sampler's figures: each health URL's state, uptime and latency
//! percentiles over the run, and its downs, ups and restarts.

use domain::attention::host_and_path;
use domain::health::{Report, Stats};
use domain::playbook::Decimal;
use leptos::prelude::*;

use crate::components::chart::LatencyCharts;
use crate::components::clock::ServerClock;
use crate::components::item::short_time;

#[component]
pub fn HealthPanel(clock: ServerClock) -> impl IntoView {
    let body = move || match clock.report.get() {
        None => view! { <p class="loading" role="status">"Reading the samples…"</p> }.into_any(),
        Some(Err(err)) => {
            view! { <p class="failure" role="alert">{err.to_string()}</p> }.into_any()
        }
        Some(Ok(report)) => figures(report).into_any(),
    };
    view! {
        <article class="card health" data-testid="health">
            <header><h3>"Health"</h3></header>
            {body}
            <LatencyCharts clock/>
        </article>
    }
}

fn figures(report: Report) -> impl IntoView {
    if report.urls.is_empty() {
        return view! { <p class="muted">"No health URL is set: an admin adds one in Settings."</p> }
            .into_any();
    }
    let every = format!(
        "Probed every {} s while the watch runs.",
        report.sample_interval_seconds
    );
    let urls = report
        .urls
        .into_iter()
        .map(|url| {
            let state = url.state;
            let since = url.since.map(|at| format!(" since {}", short_time(&at)));
            view! {
                <tr data-testid="health-url">
                    <th scope="row" class="url">{host_and_path(&url.url).to_owned()}</th>
                    <td><span class=format!("check-status {state}") data-testid="health-state">{state.clone()}</span>{since}</td>
                    {stats(&url.stats)}
                </tr>
            }
        })
        .collect_view();
    // The latest change; the timeline has every one, the chart marks them.
    let last = report.transitions.last().map(|t| {
        format!(
            "Last change, {}: {} {} ({})",
            short_time(&t.at),
            host_and_path(&t.url),
            t.kind,
            t.detail
        )
    });
    view! {
        <p class="caption">{every}</p>
        <table class="targets health-table">
            <thead><tr><th scope="col">"URL"</th><th scope="col">"State"</th><th scope="col">"Uptime"</th><th scope="col">"Latency"</th></tr></thead>
            <tbody>{urls}</tbody>
        </table>
        <p class="caption" data-testid="transitions">{last}</p>
    }
    .into_any()
}

fn stats(stats: &Stats) -> impl IntoView + use<> {
    let uptime = stats.uptime_percent.map_or_else(
        || "no samples yet".to_owned(),
        |up| format!("{}% of {}", Decimal(up), stats.samples),
    );
    let ms = |value: Option<u32>| value.map_or_else(|| "–".to_owned(), |ms| ms.to_string());
    let latency = format!(
        "p50 {} · p95 {} · p99 {} ms",
        ms(stats.p50_ms),
        ms(stats.p95_ms),
        ms(stats.p99_ms)
    );
    view! { <td data-testid="uptime">{uptime}</td><td>{latency}</td> }
}
