//! How the run is connected, and what the proxy refused.

use leptos::prelude::*;

use crate::sync::{Link, use_run};

/// "Live", "Connecting…" or "Reconnecting in 4 s", with the changes still
/// waiting in this browser.
#[component]
pub fn SyncStatus() -> impl IntoView {
    let run = use_run();
    // One closure renders the whole content: cheaper in the wasm than a
    // reactive attribute and three reactive children.
    let status = move || {
        let link = run.link.get();
        let (state, text) = match link {
            Link::Live => ("live", "Live".to_owned()),
            Link::Connecting => ("connecting", "Connecting…".to_owned()),
            Link::Waiting { attempt, seconds } => (
                "waiting",
                format!("Offline: reconnecting in {seconds} s (attempt {attempt})"),
            ),
        };
        let waiting = match run.pending().len() {
            0 => String::new(),
            1 => " · 1 change waiting to be saved".to_owned(),
            n => format!(" · {n} changes waiting to be saved"),
        };
        view! {
            <span class=format!("status-dot {state}") aria-hidden="true"></span>
            {text}
            {waiting}
            {matches!(link, Link::Waiting { .. }).then(|| view! {
                <button type="button" class="quiet" on:click=move |_| run.reconnect_now()>"Retry now"</button>
            })}
        }
    };
    view! {
        <p class="sync" role="status" aria-live="polite" data-testid="sync-status">{status}</p>
    }
}

/// Operations the proxy will never store, and why, until dismissed.
#[component]
pub fn Refused() -> impl IntoView {
    let run = use_run();
    move || {
        let refused = run.refused.get();
        (!refused.is_empty()).then(|| view! {
            // One line per message (CSS `pre-line`): a list view costs the wasm more.
            <div class="banner banner-error refused" role="alert" data-testid="refused">
                {refused.join("\n")}
                <button type="button" on:click=move |_| run.refused.set(Vec::new())>"Dismiss"</button>
            </div>
        })
    }
}
