//! Light, dark or the system's choice, remembered in this browser.

use leptos::prelude::*;

use super::storage;

const KEY: &str = "watchpost-theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    fn from_name(name: &str) -> Self {
        match name {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
}

fn saved() -> Theme {
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .map_or(Theme::System, |name| Theme::from_name(&name))
}

/// `data-theme` on `<html>` overrides the system's preference in the CSS.
fn apply(theme: Theme) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = match theme {
            Theme::System => root.remove_attribute("data-theme"),
            other => root.set_attribute("data-theme", other.name()),
        };
    }
}

/// Called before mounting, so the first paint already has the right colours.
pub fn apply_saved_theme() {
    apply(saved());
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(saved());
    let switch = move |_| {
        let next = theme.get_untracked().next();
        theme.set(next);
        apply(next);
        if let Some(storage) = storage() {
            let _ = storage.set_item(KEY, next.name());
        }
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            data-testid="theme-toggle"
            on:click=switch
            title="Switch between the system's theme, light and dark"
        >
            {move || format!("Theme: {}", theme.get().name())}
        </button>
    }
}
