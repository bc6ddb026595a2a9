//! The watch's charts: each health URL's response time with its down periods
//! marked, Sentry's errors per hour, the error watch's failure rate and the host's memory. The proxy draws them (in the
//! project's zone, with axes and targets); the app places the markup, which
//! keeps the drawing out of the wasm.

use domain::chart::Chart;
use domain::health::Report;
use leptos::prelude::*;

use crate::components::clock::ServerClock;

/// A chart: its SVG (drawn by `domain::chart`: numbers, axis labels and
/// escaped text only) and its caption.
fn figure(markup: String, caption: String, testid: &'static str) -> impl IntoView {
    view! {
        <figure class="chart" data-testid=testid>
            <div inner_html=markup></div>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

/// Response time per health URL over the report's window.
#[component]
pub fn LatencyCharts(clock: ServerClock) -> impl IntoView {
    move || {
        let Some(Ok(Report { urls, .. })) = clock.report.get() else {
            return Vec::new();
        };
        urls.into_iter()
            .map(|url| figure(url.chart.svg, url.chart.caption, "latency-chart"))
            .collect::<Vec<_>>()
    }
}

/// Sentry's errors per hour, which come with the health report (the proxy
/// asks Sentry at most every two minutes).
#[component]
pub fn ErrorsChart(clock: ServerClock) -> impl IntoView {
    move || {
        let (svg, caption) = match clock.report.get() {
            None => (String::new(), "Asking Sentry…".to_owned()),
            Some(Err(err)) => (String::new(), err.to_string()),
            Some(Ok(Report { errors, .. })) => (errors.svg, errors.caption),
        };
        figure(svg, caption, "errors-chart")
    }
}

/// A chart the health report carries as it is drawn: the error watch's
/// failed transactions, the host's memory.
#[component]
pub fn ReportChart(
    clock: ServerClock,
    chart: fn(Report) -> Chart,
    testid: &'static str,
) -> impl IntoView {
    move || {
        let Some(Ok(report)) = clock.report.get() else {
            return None;
        };
        let Chart { svg, caption } = chart(report);
        Some(figure(svg, caption, testid))
    }
}
