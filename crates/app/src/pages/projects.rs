//! The list of projects, and creating one.

use domain::api::Project;
use domain::route::{ProjectView, Route};
use leptos::prelude::*;

use crate::api;
use crate::components::{Failure, Loading};
use crate::router::Link;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let projects = LocalResource::new(api::projects);
    let create = Action::new_local(|name: &String| api::create_project(name.clone()));
    let name = RwSignal::new(String::new());

    // A created project joins the list; the form empties for the next one.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
            projects.refetch();
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(name.get_untracked());
    };

    view! {
        <section class="page">
            <h1>"Projects"</h1>
            <p class="lede">"Each project is one launch: its setup, its 24-hour watch and the decisions taken."</p>
            <form class="new-project" on:submit=submit data-testid="new-project">
                <label for="project-name">"New project"</label>
                <div class="row">
                    <input
                        id="project-name"
                        type="text"
                        maxlength="80"
                        placeholder="e.g. Voxanne backend"
                        bind:value=name
                        data-testid="project-name"
                    />
                    <button type="submit" disabled=move || create.pending().get() data-testid="create-project">
                        {move || if create.pending().get() { "Creating…" } else { "Create" }}
                    </button>
                </div>
                {move || create.value().get().and_then(Result::err).map(|err| view! {
                    <p class="field-error" role="alert" data-testid="create-error">{err.to_string()}</p>
                })}
            </form>
            <Transition fallback=|| view! { <Loading what="projects"/> }>
                {move || Suspend::new(async move {
                    match projects.await {
                        Ok(list) => project_list(list).into_any(),
                        Err(err) => view! {
                            <Failure message=err.to_string() retry=Callback::new(move |()| projects.refetch())/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn project_list(projects: Vec<Project>) -> impl IntoView {
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
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
