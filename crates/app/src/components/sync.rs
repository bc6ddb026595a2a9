//! How the run is connected, and what the proxy refused.

use leptos::prelude::*;

use crate::sync::{Link, use_run};

/// "Live", "Connecting…" or "Reconnecting in 4 s", with the changes still
/// waiting in this browser.
#[component]
pub fn SyncStatus() -> impl IntoView {
    let run = use_run();
    let waiting = move || run.pending().len();
    view! {
        <p class="sync" role="status" aria-live="polite" data-testid="sync-status"
            data-link=move || match run.link.get() {
                Link::Live => "live",
                Link::Connecting => "connecting",
                Link::Waiting { .. } => "waiting",
            }>
            <span class="status-dot" aria-hidden="true"></span>
            {move || match run.link.get() {
                Link::Live => "Live".to_owned(),
                Link::Connecting => "Connecting…".to_owned(),
                Link::Waiting { attempt, seconds } => format!("Offline: reconnecting in {seconds} s (attempt {attempt})"),
            }}
            {move || match waiting() {
                0 => None,
                1 => Some(" · 1 change waiting to be saved".to_owned()),
                n => Some(format!(" · {n} changes waiting to be saved")),
            }}
            {move || matches!(run.link.get(), Link::Waiting { .. }).then(|| view! {
                <button type="button" class="quiet" on:click=move |_| run.reconnect_now()>"Retry now"</button>
            })}
        </p>
    }
}

/// Operations the proxy will never store, and why, until dismissed.
#[component]
pub fn Refused() -> impl IntoView {
    let run = use_run();
    move || {
        let refused = run.refused.get();
        (!refused.is_empty()).then(|| view! {
            <div class="banner banner-error" role="alert" data-testid="refused">
                <ul>{refused.into_iter().map(|message| view! { <li>{message}</li> }).collect_view()}</ul>
                <button type="button" on:click=move |_| run.refused.set(Vec::new())>"Dismiss"</button>
            </div>
        })
    }
}
