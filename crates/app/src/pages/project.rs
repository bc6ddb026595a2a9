//! A project's frame: its name, the tabs, and the run its pages share.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::components::{Failure, Loading};
use crate::state::Run;

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok());
    let project = LocalResource::new(move || {
        let id = id();
        async move {
            match id {
                Some(id) => api::project(id).await,
                None => Err(api::ApiError::Refused { status: 404, message: "There is no such project.".to_owned() }),
            }
        }
    });
    provide_context(Run::new());

    view! {
        <div class="project">
            <Transition fallback=|| view! { <Loading what="the project"/> }>
                {move || Suspend::new(async move {
                    match project.await {
                        Ok(project) => view! {
                            <h1 class="project-name" data-testid="project-name-heading">{project.name}</h1>
                        }.into_any(),
                        Err(err) => view! {
                            <Failure message=err.to_string() retry=Callback::new(move |()| project.refetch())/>
                        }.into_any(),
                    }
                })}
            </Transition>
            <nav class="tabs" aria-label="Project views">
                <A href="setup" attr:data-testid="tab-setup">"Setup"</A>
                <A href="watch" attr:data-testid="tab-watch">"Watch"</A>
                <A href="escalate" attr:data-testid="tab-escalate">"Escalate"</A>
                <A href="timeline" attr:data-testid="tab-timeline">"Timeline"</A>
            </nav>
            <Outlet/>
        </div>
    }
}
