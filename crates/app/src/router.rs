//! Client-side navigation over the routes of the shared crate.
//!
//! A few dozen lines instead of leptos_router: the app has five pages, and the
//! router library alone would cost about 65 KB of the 150 KB first-load budget.

use domain::route::Route;
use leptos::ev::MouseEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The current route, in context for every component.
#[derive(Debug, Clone, Copy)]
pub struct CurrentRoute(pub RwSignal<Route>);

fn location_route() -> Route {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    Route::parse(&path)
}

/// Starts routing: the route follows the address bar, including Back and Forward.
pub fn provide_router() {
    let route = RwSignal::new(location_route());
    provide_context(CurrentRoute(route));
    let listener =
        window_event_listener(leptos::ev::popstate, move |_| route.set(location_route()));
    on_cleanup(move || listener.remove());
}

pub fn use_route() -> RwSignal<Route> {
    expect_context::<CurrentRoute>().0
}

/// Goes to a route: a new history entry, and focus moves to the new page's
/// content so keyboard and screen-reader users land where the page changed.
/// Takes the route signal because event handlers run outside the component tree.
pub fn navigate(current: RwSignal<Route>, route: Route) {
    if let Some(window) = web_sys::window() {
        if let Ok(history) = window.history() {
            let _ =
                history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&route.path()));
        }
        window.scroll_to_with_x_and_y(0.0, 0.0);
        if let Some(main) = window.document().and_then(|d| d.get_element_by_id("main")) {
            let _ = main.unchecked_ref::<web_sys::HtmlElement>().focus();
        }
    }
    current.set(route);
}

/// A link to a route. Plain clicks navigate in place; clicks with a modifier
/// (new tab, new window) are left to the browser.
#[component]
pub fn Link(
    to: Route,
    children: Children,
    #[prop(optional, into)] class: Option<String>,
    #[prop(optional, into)] testid: Option<String>,
) -> impl IntoView {
    let route = use_route();
    let follow = move |ev: MouseEvent| {
        if ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
            ev.prevent_default();
            navigate(route, to);
        }
    };
    view! {
        <a
            href=to.path()
            class=class
            data-testid=testid
            aria-current=move || (route.get() == to).then_some("page")
            on:click=follow
        >
            {children()}
        </a>
    }
}
