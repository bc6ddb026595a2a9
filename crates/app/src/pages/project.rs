//! A project's frame: its name, the tabs, and the run its views share.

use domain::route::{ProjectView, Route};
use leptos::prelude::*;

use crate::api;
use crate::components::{Failure, Loading};
use crate::pages::escalate::EscalatePage;
use crate::pages::setup::SetupPage;
use crate::pages::timeline::TimelinePage;
use crate::pages::watch::WatchPage;
use crate::router::{Link, use_route};
use crate::state::Run;

#[component]
pub fn ProjectPage(id: i64) -> impl IntoView {
    let project = LocalResource::new(move || api::project(id));
    provide_context(Run::new());
    let route = use_route();
    let view = Memo::new(move |_| match route.get() {
        Route::Project { view, .. } => view,
        Route::Projects | Route::NotFound => ProjectView::Setup,
    });

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
                {ProjectView::ALL.map(|tab| view! {
                    <Link to=Route::Project { id, view: tab } testid=format!("tab-{}", tab.slug())>{tab.title()}</Link>
                })}
            </nav>
            {move || match view.get() {
                ProjectView::Setup => view! { <SetupPage/> }.into_any(),
                ProjectView::Watch => view! { <WatchPage/> }.into_any(),
                ProjectView::Escalate => view! { <EscalatePage/> }.into_any(),
                ProjectView::Timeline => view! { <TimelinePage/> }.into_any(),
            }}
        </div>
    }
}
