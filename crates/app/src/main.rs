//! Watchpost's browser app. Everything it knows comes from the proxy's `/api`;
//! it never holds a token and never talks to another origin.

mod api;
mod app;
mod components;
mod load;
mod pages;
mod router;
mod state;
mod sync;

fn main() {
    // No panic hook: the wasm is built with panics that abort at once (see
    // scripts/lib.sh), so there is no message to report.
    components::theme::apply_saved_theme();
    leptos::mount::mount_to_body(app::App);
}
