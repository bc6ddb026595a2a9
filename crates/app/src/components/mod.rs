//! Small pieces the pages share.

pub mod connection;
pub mod item;
pub mod theme;

use std::sync::Arc;

use domain::Playbook;
use leptos::prelude::*;

use crate::state::use_playbook;

/// Shown while something loads.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <p class="loading" role="status" aria-live="polite" data-testid="loading">
            <span class="spinner" aria-hidden="true"></span>
            {format!("Loading {what}…")}
        </p>
    }
}

/// What went wrong and what to do next, with a way to try again.
#[component]
pub fn Failure(message: String, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="failure" role="alert" data-testid="failure">
            <p>{message}</p>
            <button type="button" on:click=move |_| retry.run(())>"Try again"</button>
        </div>
    }
}

/// Renders `view` once the playbook has loaded; shows progress meanwhile and a
/// failure with a retry button if it cannot be loaded.
pub fn with_playbook<V: IntoView + 'static>(view: impl Fn(Arc<Playbook>) -> V + Send + Sync + 'static) -> impl IntoView {
    use_playbook().view("the playbook", view)
}
