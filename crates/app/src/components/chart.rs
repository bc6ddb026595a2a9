//! The watch's charts: each health URL's response time with its down periods
//! marked, and Sentry's errors per hour. The proxy draws them (in the
//! project's zone, with axes and targets); the app places the markup, which
//! keeps the drawing out of the wasm.

use domain::chart::{Chart, ErrorHours};
use domain::health::Report;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::clock::ServerClock;
use crate::sync::use_run;

/// How often Sentry's hourly counts are asked for again.
const ERRORS_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

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

/// Sentry's errors per hour, asked for now and every few minutes.
#[component]
pub fn ErrorsChart() -> impl IntoView {
    let run = use_run();
    let hours = RwSignal::new_local(None::<Result<ErrorHours, ApiError>>);
    let fetch = move || {
        let window = if run.with_state(|state| state.watch.is_some()) {
            "run"
        } else {
            "24h"
        };
        leptos::task::spawn_local(async move {
            let result = api::error_hours(run.project(), window).await;
            let _ = hours.try_set(Some(result));
        });
    };
    fetch();
    if let Ok(handle) = set_interval_with_handle(fetch, ERRORS_EVERY) {
        on_cleanup(move || handle.clear());
    }
    move || {
        let (markup, caption) = match hours.get() {
            None => (String::new(), "Asking Sentry…".to_owned()),
            Some(Err(err)) => (String::new(), err.to_string()),
            Some(Ok(ErrorHours {
                problem: Some(problem),
                ..
            })) => (String::new(), problem),
            Some(Ok(ErrorHours {
                chart: Chart { svg, caption },
                ..
            })) => (svg, caption),
        };
        figure(markup, caption, "errors-chart")
    }
}
