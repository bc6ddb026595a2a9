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

/// Goes to a route at `href` (its path, perhaps with a `#field` to focus): a
/// new history entry, and focus moves to the new page's content so keyboard
/// and screen-reader users land where the page changed. Takes the route
/// signal because event handlers run outside the component tree.
fn navigate(current: RwSignal<Route>, route: Route, href: &str) {
    if let Some(window) = web_sys::window() {
        if let Ok(history) = window.history() {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
        }
        window.scroll_to_with_x_and_y(0.0, 0.0);
        if let Some(main) = window.document().and_then(|d| d.get_element_by_id("main")) {
            let _ = main.unchecked_ref::<web_sys::HtmlElement>().focus();
        }
    }
    current.set(route);
    // A page already shown has its field now; a page still loading focuses
    // it when drawn (`focus_named_field`).
    request_animation_frame(focus_named_field);
}

/// Focuses (and so scrolls to) the element the address's `#fragment` names,
/// if the page has it: a link to one setting lands on its field.
pub fn focus_named_field() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let hash = document
        .location()
        .and_then(|l| l.hash().ok())
        .unwrap_or_default();
    if let Some(field) = hash
        .strip_prefix('#')
        .and_then(|id| document.get_element_by_id(id))
    {
        let _ = field.unchecked_ref::<web_sys::HtmlElement>().focus();
    }
}

/// A link to a route (and to one field of its page, by id). Plain clicks
/// navigate in place; clicks with a modifier (new tab, new window) are left
/// to the browser.
#[component]
pub fn Link(
    to: Route,
    children: Children,
    #[prop(optional, into)] class: Option<String>,
    #[prop(optional, into)] testid: Option<String>,
    #[prop(optional)] field: Option<&'static str>,
) -> impl IntoView {
    let route = use_route();
    let href = match field {
        Some(field) => format!("{}#{field}", to.path()),
        None => to.path(),
    };
    let target = href.clone();
    let follow = move |ev: MouseEvent| {
        if ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
            ev.prevent_default();
            navigate(route, to, &target);
        }
    };
    view! {
        <a
            href=href
            class=class
            data-testid=testid
            aria-current=move || (route.get() == to).then_some("page")
            on:click=follow
        >
            {children()}
        </a>
    }
}
