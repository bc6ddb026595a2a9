//! The app shell: header, connection banner, and the sign-in page or the page
//! for the current route.

use domain::route::Route;
use leptos::prelude::*;

use crate::components::Loading;
use crate::components::account::Account;
use crate::components::connection::ConnectionBanner;
use crate::components::notify::Notifications;
use crate::components::theme::ThemeToggle;
use crate::pages::project::ProjectPage;
use crate::pages::projects::ProjectsPage;
use crate::pages::sign_in::SignInPage;
use crate::router::{Link, provide_router, use_route};
use crate::state::{Auth, SignedIn, provide_playbook};

#[component]
pub fn App() -> impl IntoView {
    provide_router();
    let auth = Auth::provide();
    // Only signing in or out swaps the content, not a refreshed session.
    let signed_in = Memo::new(move |_| match auth.0.get() {
        SignedIn::Checking => None,
        SignedIn::No { .. } => Some(false),
        SignedIn::Yes(_) => Some(true),
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <Link to=Route::Projects class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Watchpost"
            </Link>
            <Account/>
            {move || (signed_in.get() == Some(true)).then(|| view! { <Notifications/> })}
            <ThemeToggle/>
        </header>
        <ConnectionBanner/>
        <main id="main" tabindex="-1">
            {move || match signed_in.get() {
                None => view! { <Loading what="your session"/> }.into_any(),
                Some(false) => view! { <SignInPage/> }.into_any(),
                Some(true) => view! { <Pages/> }.into_any(),
            }}
        </main>
    }
}

/// The pages of a signed-in person.
#[component]
fn Pages() -> impl IntoView {
    provide_playbook();
    let route = use_route();
    // Only a change of page rebuilds it: moving between a project's tabs keeps
    // the project page (and its run) alive.
    let page = Memo::new(move |_| match route.get() {
        Route::Project { id, .. } => Page::Project(id),
        Route::Projects => Page::Projects,
        Route::NotFound => Page::NotFound,
    });
    move || {
        match page.get() {
        Page::Projects => view! { <ProjectsPage/> }.into_any(),
        Page::Project(id) => view! { <ProjectPage id/> }.into_any(),
        Page::NotFound => view! {
            <section class="page" data-testid="not-found">
                <h1>"Page not found"</h1>
                <p>"This address is not a page of Watchpost. "<Link to=Route::Projects>"Back to the projects"</Link></p>
            </section>
        }
        .into_any(),
    }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Projects,
    Project(i64),
    NotFound,
}
