//! A project's frame: its name, the tabs, the live run its views share, and
//! how that run is connected.

use domain::route::{ProjectView, Route};
use leptos::prelude::*;

use crate::api;
use crate::components::ReadOnlyNote;
use crate::components::attention::AttentionStrip;
use crate::components::clock::ServerClock;
use crate::components::sync::{Refused, SyncStatus};
use crate::load::Loader;
use crate::pages::escalate::EscalatePage;
use crate::pages::settings::SettingsPage;
use crate::pages::setup::SetupPage;
use crate::pages::timeline::TimelinePage;
use crate::pages::watch::WatchPage;
use crate::router::{Link, use_route};
use crate::state::{OpenProject, use_auth};
use crate::sync::Run;

#[component]
pub fn ProjectPage(id: i64) -> impl IntoView {
    let auth = use_auth();
    let project: OpenProject =
        Loader::new(move || async move { api::project(id).await.map_err(|err| auth.noticed(err)) });
    provide_context(project);
    let run = Run::start(id, auth);
    provide_context(run);
    // One server clock for every tab: countdowns, the strip, the retries.
    provide_context(ServerClock::start(run));
    let route = use_route();
    let view = Memo::new(move |_| match route.get() {
        Route::Project { view, .. } => view,
        Route::Projects | Route::NotFound => ProjectView::Setup,
    });

    view! {
        <div class="project">
            <div class="project-head">
                {project.view("the project", |project| view! {
                    <h1 class="project-name" data-testid="project-name-heading">{project.name}</h1>
                    {project.archived.then(|| view! {
                        <span class="badge" data-testid="archived">"Archived: read-only"</span>
                    })}
                })}
                <SyncStatus/>
            </div>
            <Refused/>
            <ReadOnlyNote/>
            <nav class="tabs" aria-label="Project views">
                {ProjectView::ALL.map(|tab| view! {
                    <Link to=Route::Project { id, view: tab } testid=format!("tab-{}", tab.slug())>{tab.title()}</Link>
                })}
            </nav>
            <AttentionStrip/>
            {move || match view.get() {
                ProjectView::Setup => view! { <SetupPage/> }.into_any(),
                ProjectView::Watch => view! { <WatchPage/> }.into_any(),
                ProjectView::Escalate => view! { <EscalatePage/> }.into_any(),
                ProjectView::Timeline => view! { <TimelinePage/> }.into_any(),
                ProjectView::Settings => view! { <SettingsPage/> }.into_any(),
            }}
        </div>
    }
}
