//! Small pieces the pages share.

pub mod account;
pub mod action;
pub mod attention;
pub mod chart;
pub mod clock;
pub mod connection;
pub mod first_event;
pub mod health;
pub mod item;
pub mod notify;
pub mod rollback;
pub mod sign_off;
pub mod snapshot;
pub mod snippet;
pub mod sync;
pub mod theme;

use std::sync::Arc;

use domain::Playbook;
use domain::api::Role;
use leptos::prelude::*;

use crate::load::Load;
use crate::state::{use_auth, use_playbook, use_project};

/// This browser's local storage, where it has one: the theme, the last name
/// signed in with, and each project's unsent operations live there.
pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// A submitted form's fields. Forms keep their inputs as the browser's own
/// and read them once, on submit: a signal bound to each input costs the wasm
/// far more than this.
pub struct Submitted {
    pub form: web_sys::HtmlFormElement,
    data: web_sys::FormData,
}

impl Submitted {
    /// Stops the browser's own submission and reads the form.
    pub fn read(ev: &leptos::ev::SubmitEvent) -> Option<Self> {
        use wasm_bindgen::JsCast;
        ev.prevent_default();
        let form: web_sys::HtmlFormElement = ev.target()?.dyn_into().ok()?;
        let data = web_sys::FormData::new_with_form(&form).ok()?;
        Some(Submitted { form, data })
    }

    pub fn text(&self, name: &str) -> String {
        self.data.get(name).as_string().unwrap_or_default()
    }
}

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

/// Whether the person may change this project's run: a member or admin,
/// and the project not archived.
pub fn use_can_write() -> Memo<bool> {
    let auth = use_auth();
    let project = use_project();
    Memo::new(move |_| {
        auth.can(Role::Member) && !matches!(project.get(), Load::Ready(project) if project.archived)
    })
}

/// The project's time zone, once the project has loaded.
pub fn project_zone() -> impl Fn() -> String + Copy {
    let project = use_project();
    move || match project.get() {
        Load::Ready(project) => project.timezone,
        Load::Loading | Load::Failed(_) => "UTC".to_owned(),
    }
}

/// Why the controls are disabled, when they are.
#[component]
pub fn ReadOnlyNote() -> impl IntoView {
    let auth = use_auth();
    let can_write = use_can_write();
    move || {
        (!can_write.get()).then(|| {
            let why = if auth.can(Role::Member) {
                "This project is archived, so its run is read-only. An admin can unarchive it in Settings."
            } else {
                "You signed in as a viewer: you can follow the run but not change it. Sign in with the team passcode to tick, note and decide."
            };
            view! { <p class="note" data-testid="read-only">{why}</p> }
        })
    }
}
