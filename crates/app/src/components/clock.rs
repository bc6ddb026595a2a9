//! The server's clock in the browser, and times as people read them.
//!
//! Countdowns follow the proxy's clock, not the browser's: the schedule is
//! the server's, a laptop's clock may be off, and in tests the server's runs
//! faster. The health report carries the server's time; between reports it
//! is advanced locally, once a second.

use domain::health::Report;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::api::{self, ApiError};
use crate::sync::Run;

/// How often the health report (and the server's time with it) is asked for.
const REPORT_EVERY_MS: f64 = 15_000.0;

/// The page's shared clock and health report.
#[derive(Debug, Clone, Copy)]
pub struct ServerClock {
    /// The server's time now, Unix ms; advanced every second.
    pub now_ms: RwSignal<i64>,
    /// The latest health report, or why it could not be read.
    pub report: RwSignal<Option<Result<Report, ApiError>>, LocalStorage>,
    /// Where the server's clock was at a local instant, and how fast it
    /// runs: (server ms, local ms, speed); then when the report was asked.
    anchor: StoredValue<(i64, f64, f64, f64)>,
}

impl ServerClock {
    /// Starts the clock for `run`'s project, until the calling component goes away.
    pub fn start(run: Run) -> Self {
        let local = js_sys::Date::now();
        let clock = ServerClock {
            now_ms: RwSignal::new(local as i64),
            report: RwSignal::new_local(None),
            anchor: StoredValue::new((local as i64, local, 1.0, f64::MIN)),
        };
        let tick = move || {
            let local = js_sys::Date::now();
            let (server, at, speed, asked) = clock.anchor.get_value();
            clock.now_ms.set(server + ((local - at) * speed) as i64);
            if local - asked >= REPORT_EVERY_MS {
                clock.anchor.set_value((server, at, speed, local));
                clock.refresh(run);
            }
        };
        tick();
        // A change the report shows (a URL down or up, a restart, the watch
        // starting) is read at once, not at the next turn of the ticker.
        Effect::new(move |seen: Option<(i64, usize, bool)>| {
            let now = run.with_state(|state| {
                let changes = state.health.iter().map(|(_, health)| health.since).sum();
                (changes, state.restarts.len(), state.watch.is_some())
            });
            if seen.is_some_and(|seen| seen != now) {
                clock.refresh(run);
            }
            now
        });
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
        clock
    }

    /// Asks for the health report now (after a change, or by the ticker).
    pub fn refresh(self, run: Run) {
        let clock = self;
        let window = if run.with_state(|state| state.watch.is_some()) {
            "run"
        } else {
            "1h"
        };
        leptos::task::spawn_local(async move {
            let result = api::health_report(run.project(), window).await;
            if let Ok(report) = &result {
                let local = js_sys::Date::now();
                let speed = f64::from(report.clock_speed.max(1));
                clock
                    .anchor
                    .update_value(|anchor| *anchor = (report.now_ms, local, speed, anchor.3));
                clock.now_ms.set(report.now_ms);
            }
            // The page may have gone while the answer travelled.
            let _ = clock.report.try_set(Some(result));
        });
    }

    /// How many times faster than real time the server's clock runs.
    pub fn speed(self) -> u32 {
        self.report.with(|report| match report {
            Some(Ok(report)) => report.clock_speed,
            _ => 1,
        })
    }

    /// The server's time now, in Unix seconds.
    pub fn now(self) -> i64 {
        self.now_ms.get().div_euclid(1000)
    }
}

/// `Mon 14:05 GMT` in `zone` (an IANA name), or in the browser's own zone.
pub fn clock_time(unix_ms: i64, zone: Option<&str>) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    };
    set("weekday", "short");
    set("hour", "2-digit");
    set("minute", "2-digit");
    set("timeZoneName", "short");
    if let Some(zone) = zone {
        set("timeZone", zone);
    }
    String::from(date.to_locale_string("en-GB", &options))
}

/// The browser's own time zone (an IANA name).
pub fn own_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|zone| zone.as_string())
        .unwrap_or_default()
}

/// A time in the project's zone, and in the viewer's when it differs:
/// `Mon 14:00 GMT (15:00 CET your time)`.
pub fn both_zones(unix_ms: i64, project_zone: &str) -> String {
    let there = clock_time(unix_ms, Some(project_zone));
    if own_zone() == project_zone {
        there
    } else {
        let here = clock_time(unix_ms, None);
        format!("{there} ({here} your time)")
    }
}
