//! Watchpost's browser app. Everything it knows comes from the proxy's `/api`;
//! it never holds a token and never talks to another origin.

mod api;
mod app;
mod components;
mod pages;
mod router;
mod state;

fn main() {
    console_error_panic_hook::set_once();
    components::theme::apply_saved_theme();
    leptos::mount::mount_to_body(app::App);
}
