//! The watch's charts, drawn as SVG from `domain::chart`'s geometry: each
//! health URL's response time with its down periods marked, and Sentry's
//! errors per hour. Each has a sentence for screen readers.

use domain::chart::{Chart, ErrorHours, errors_chart, latency_chart};
use domain::health::Report;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::clock::ServerClock;
use crate::sync::use_run;

/// How often Sentry's hourly counts are asked for again.
const ERRORS_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// A chart: its SVG (built by `domain::chart`, numbers and an escaped
/// label only) and its caption.
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
        let Some(Ok(Report {
            urls,
            from_ms,
            now_ms,
            ..
        })) = clock.report.get()
        else {
            return Vec::new();
        };
        urls.into_iter()
            .filter(|url| !url.points.is_empty())
            .map(|url| {
                let Chart { svg, top, .. } = latency_chart(&url.url, &url.points, from_ms, now_ms);
                let caption = format!("Response time, 0 to {top} ms; red: down");
                figure(svg, caption, "latency-chart")
            })
            .collect::<Vec<_>>()
    }
}

/// Sentry's errors per hour, asked for now and every few minutes.
#[component]
pub fn ErrorsChart(clock: ServerClock) -> impl IntoView {
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
            Some(Ok(ErrorHours { hours, .. })) => {
                let Chart { svg, top, label } = errors_chart(&hours, clock.now_ms.get_untracked());
                (svg, format!("Errors per hour, 0 to {top}. {label}"))
            }
        };
        figure(markup, caption, "errors-chart")
    }
}
