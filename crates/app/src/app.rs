//! The app shell: header, connection banner and routes.

use leptos::prelude::*;
use leptos_router::components::{A, ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::connection::ConnectionBanner;
use crate::components::theme::ThemeToggle;
use crate::pages::escalate::EscalatePage;
use crate::pages::project::ProjectPage;
use crate::pages::projects::ProjectsPage;
use crate::pages::setup::SetupPage;
use crate::pages::timeline::TimelinePage;
use crate::pages::watch::WatchPage;
use crate::state::provide_playbook;

#[component]
pub fn App() -> impl IntoView {
    provide_playbook();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="app-header">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Watchpost"
                </A>
                <ThemeToggle/>
            </header>
            <ConnectionBanner/>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! {
                    <section class="page" data-testid="not-found">
                        <h1>"Page not found"</h1>
                        <p><A href="/">"Back to the projects"</A></p>
                    </section>
                }>
                    <Route path=path!("/") view=ProjectsPage/>
                    <ParentRoute path=path!("/projects/:id") view=ProjectPage>
                        <Route path=path!("") view=SetupPage/>
                        <Route path=path!("setup") view=SetupPage/>
                        <Route path=path!("watch") view=WatchPage/>
                        <Route path=path!("escalate") view=EscalatePage/>
                        <Route path=path!("timeline") view=TimelinePage/>
                    </ParentRoute>
                </Routes>
            </main>
        </Router>
    }
}
