//! The app shell: header, connection banner and the page for the current route.

use domain::route::Route;
use leptos::prelude::*;

use crate::components::connection::ConnectionBanner;
use crate::components::theme::ThemeToggle;
use crate::pages::project::ProjectPage;
use crate::pages::projects::ProjectsPage;
use crate::router::{Link, provide_router, use_route};
use crate::state::provide_playbook;

#[component]
pub fn App() -> impl IntoView {
    provide_router();
    provide_playbook();
    let route = use_route();
    // Only a change of page rebuilds it: moving between a project's tabs keeps
    // the project page (and its run) alive.
    let page = Memo::new(move |_| match route.get() {
        Route::Project { id, .. } => Page::Project(id),
        Route::Projects => Page::Projects,
        Route::NotFound => Page::NotFound,
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <Link to=Route::Projects class="brand">
                <img class="brand-mark" src="/icon.svg" alt="" width="24" height="24"/>
                "Watchpost"
            </Link>
            <ThemeToggle/>
        </header>
        <ConnectionBanner/>
        <main id="main" tabindex="-1">
            {move || match page.get() {
                Page::Projects => view! { <ProjectsPage/> }.into_any(),
                Page::Project(id) => view! { <ProjectPage id/> }.into_any(),
                Page::NotFound => view! {
                    <section class="page" data-testid="not-found">
                        <h1>"Page not found"</h1>
                        <p>"This address is not a page of Watchpost. "<Link to=Route::Projects>"Back to the projects"</Link></p>
                    </section>
                }
                .into_any(),
            }}
        </main>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Projects,
    Project(i64),
    NotFound,
}
