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
pub fn with_playbook<V: IntoView + 'static>(
    view: impl Fn(Arc<Playbook>) -> V + Send + Sync + 'static,
) -> impl IntoView {
    use_playbook().view("the playbook", view)
}

/// Lines of text as a list: instructions, what is normal, what to do next.
#[component]
pub fn TextList(
    lines: Vec<String>,
    #[prop(optional)] ordered: bool,
    #[prop(optional, into)] class: Option<&'static str>,
) -> impl IntoView {
    if lines.is_empty() {
        return ().into_any();
    }
    let items = lines
        .into_iter()
        .map(|line| view! { <li>{line}</li> })
        .collect_view();
    if ordered {
        view! { <ol class=class>{items}</ol> }.into_any()
    } else {
        view! { <ul class=class>{items}</ul> }.into_any()
    }
}
