//! "Wait for the first event": while a team deploys the SDK, the app asks
//! the proxy for `sentry.events` every few seconds, with a visible countdown
//! and a time limit, and shows the SDK's start-up code to copy.

use domain::run::CheckStatus;
use leptos::prelude::*;

use crate::api;
use crate::components::snippet::SdkSnippet;
use crate::components::use_can_write;
use crate::sync::use_run;

/// How long the app waits, and how often it asks.
const WAIT_MS: f64 = 5.0 * 60_000.0;
const EVERY_MS: f64 = 10_000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wait {
    Idle,
    /// Until the deadline; the next check is due at `next`.
    Waiting {
        deadline: f64,
        next: f64,
    },
    TimedOut,
}

#[component]
pub fn FirstEventWait(item: String) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let item_id = item.clone();
    let arrived = Memo::new(move |_| {
        run.observation(&item_id)
            .is_some_and(|o| o.status == CheckStatus::Passed)
    });
    let wait = RwSignal::new(Wait::Idle);
    let now = RwSignal::new(0.0);
    let ticker = StoredValue::new(None::<IntervalHandle>);
    let stop = move || {
        if let Some(handle) = ticker.get_value() {
            handle.clear();
        }
        ticker.set_value(None);
    };
    on_cleanup(stop);
    let items = StoredValue::new([item]);
    let tick = move || {
        let at = js_sys::Date::now();
        now.set(at);
        let next = match wait.get_untracked() {
            _ if arrived.get_untracked() => Wait::Idle,
            Wait::Waiting { deadline, .. } if at >= deadline => Wait::TimedOut,
            Wait::Waiting { deadline, next } if at >= next => {
                leptos::task::spawn_local(async move {
                    let _ = api::run_checks(run.project(), &items.get_value()).await;
                });
                Wait::Waiting {
                    deadline,
                    next: at + EVERY_MS,
                }
            }
            unchanged => unchanged,
        };
        if !matches!(next, Wait::Waiting { .. }) {
            stop();
        }
        wait.set(next);
    };
    let toggle = move |_| {
        stop();
        if matches!(wait.get_untracked(), Wait::Waiting { .. }) {
            wait.set(Wait::Idle);
            return;
        }
        let at = js_sys::Date::now();
        wait.set(Wait::Waiting {
            deadline: at + WAIT_MS,
            next: at,
        });
        tick();
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            ticker.set_value(Some(handle));
        }
    };
    // Each part follows only what it shows: the countdown redraws its line
    // every second, never the SDK's code (which would ask for it again).
    let said = move || {
        match wait.get() {
        Wait::Idle => String::new(),
        Wait::Waiting { deadline, next } => {
            let left = ((deadline - now.get()) / 1000.0).max(0.0) as u32;
            let again = ((next - now.get()) / 1000.0).max(0.0).ceil() as u32;
            format!(
                "Asking Sentry every 10 s (next in {again} s); giving up in {}:{:02}.",
                left / 60,
                left % 60
            )
        }
        Wait::TimedOut => "No event arrived within 5 minutes. Check that SENTRY_DSN is set on the host and the service was redeployed, that the SDK is initialized before the app starts, and that an error actually happened (or send a test event).".to_owned(),
    }
    };
    let button = move || match wait.get() {
        Wait::Idle => "Wait for the first event",
        Wait::Waiting { .. } => "Stop waiting",
        Wait::TimedOut => "Wait again",
    };
    // The SDK's start-up code, while waiting or after giving up.
    let waiting = Memo::new(move |_| wait.get() != Wait::Idle);
    move || {
        if arrived.get() || !can_write.get() {
            return None;
        }
        Some(view! {
            <div class="first-event" data-testid="first-event">
                <p class="event-wait" role="status" data-testid="first-event-status">{said}</p>
                <button type="button" on:click=toggle data-testid="wait-first-event">{button}</button>
                {move || waiting.get().then(|| view! { <SdkSnippet open=true/> })}
            </div>
        })
    }
}
