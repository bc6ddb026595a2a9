//! A project's frame: its name, the tabs, and the run its views share.

use domain::route::{ProjectView, Route};
use leptos::prelude::*;

use crate::api;
use crate::load::Loader;
use crate::pages::escalate::EscalatePage;
use crate::pages::setup::SetupPage;
use crate::pages::timeline::TimelinePage;
use crate::pages::watch::WatchPage;
use crate::router::{Link, use_route};
use crate::state::Run;

#[component]
pub fn ProjectPage(id: i64) -> impl IntoView {
    let project = Loader::new(move || api::project(id));
    provide_context(Run::new());
    let route = use_route();
    let view = Memo::new(move |_| match route.get() {
        Route::Project { view, .. } => view,
        Route::Projects | Route::NotFound => ProjectView::Setup,
    });

    view! {
        <div class="project">
            {project.view("the project", |project| view! {
                <h1 class="project-name" data-testid="project-name-heading">{project.name}</h1>
            })}
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
