//! The list of projects, and creating one.

use domain::api::Role;
use domain::project::Project;
use domain::route::{ProjectView, Route};
use domain::watch::Glance;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::EventSource;

use crate::api;
use crate::components::Submitted;
use crate::load::Loader;
use crate::router::Link;
use crate::state::use_auth;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let auth = use_auth();
    let is_admin = move || auth.can(Role::Admin);
    // The list and each watch's glance, read together.
    let projects = Loader::new(move || async move {
        let projects = api::projects().await.map_err(|err| auth.noticed(err))?;
        // Without the glances the list is still useful: they are extras.
        let glances = api::watches().await.unwrap_or_default();
        Ok((projects, glances))
    });
    follow_changes(projects);
    let creating = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(submitted) = Submitted::read(&ev) else {
            return;
        };
        if creating.get_untracked() {
            return;
        }
        creating.set(true);
        leptos::task::spawn_local(async move {
            match api::create_project(submitted.text("name")).await {
                // The new project joins the list; the form empties for the next one.
                Ok(_) => {
                    submitted.form.reset();
                    error.set(None);
                    projects.reload();
                }
                Err(err) => error.set(Some(auth.noticed(err).to_string())),
            }
            creating.set(false);
        });
    };

    view! {
        <section class="page">
            <h1>"Projects"</h1>
            <p class="lede">"Each project is one launch: its setup, its 24-hour watch and the decisions taken."</p>
            <form class="new-project" on:submit=submit data-testid="new-project" class:hidden=!is_admin()>
                <label for="project-name">"New project"</label>
                <div class="row">
                    <input
                        id="project-name"
                        type="text"
                        maxlength="80"
                        placeholder="e.g. Voxanne backend"
                        name="name"
                        data-testid="project-name"
                    />
                    <button type="submit" data-testid="create-project">
                        {move || if creating.get() { "Creating…" } else { "Create" }}
                    </button>
                </div>
                {move || error.get().map(|message| view! {
                    <p class="field-error" role="alert" data-testid="create-error">{message}</p>
                })}
            </form>
            // A session's role never changes: signing in again rebuilds the pages.
            {(!is_admin()).then(|| view! {
                <p class="note">"An admin creates projects; sign in with the admin passcode to add one."</p>
            })}
            {projects.view("projects", project_list)}
        </section>
    }
}

/// Reads the list again whenever the proxy says a project was created or
/// changed, by anyone. The browser reconnects the stream by itself, and the
/// proxy's first event on each connection catches up what fell between.
/// Each reading draws the list again: only when it may have changed, and the
/// first comes as the page opens (comparing the lists first measured 0.55 KB).
fn follow_changes<T: Clone + 'static>(projects: Loader<T>) {
    let Ok(source) = EventSource::new("/api/projects/changes") else {
        return;
    };
    let reload = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| projects.reload());
    let _ = source.add_event_listener_with_callback("projects", reload.as_ref().unchecked_ref());
    let held = StoredValue::new_local((source, reload));
    on_cleanup(move || held.with_value(|(source, _)| source.close()));
}

fn project_list((projects, glances): (Vec<Project>, Vec<Glance>)) -> impl IntoView {
    if projects.is_empty() {
        return view! {
            <p class="empty" data-testid="no-projects">
                "No projects yet. Create one for the service you are about to launch."
            </p>
        }
        .into_any();
    }
    view! {
        <ul class="project-list" data-testid="project-list">
            {projects.into_iter().map(|project| view! {
                <li class:archived=project.archived>
                    <Link to=Route::Project { id: project.id, view: ProjectView::Setup }>{project.name}</Link>
                    {project.archived.then(|| view! { <span class="badge">"Archived"</span> })}
                    {glances.iter().find(|g| g.project == project.id).map(|g| view! {
                        <span class="glance" data-testid="glance">{g.summary.clone()}</span>
                    })}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
