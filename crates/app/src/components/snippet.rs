//! The SDK's start-up code, as the proxy fills it in (the project's platform
//! and public DSN), ready to copy: at the step that installs the SDK and
//! while waiting for the first event. Asked for when first opened, so a
//! setup page does not ask Sentry for a DSN nobody looks at.

use domain::api::Snippet;
use leptos::prelude::*;

use crate::api;
use crate::sync::use_run;

#[component]
pub fn SdkSnippet(#[prop(optional)] open: bool) -> impl IntoView {
    let run = use_run();
    // One signal for every state (not asked, asking, failed, read): a
    // second signal type or a second view costs the wasm more than this.
    let snippet = RwSignal::new(Snippet::default());
    let copied = RwSignal::new(false);
    let load = move || {
        if snippet.with_untracked(|s| s.code.is_empty() && s.problem.is_none()) {
            snippet.set(Snippet {
                problem: Some("Asking Sentry for the project's DSN…".to_owned()),
                ..Snippet::default()
            });
            leptos::task::spawn_local(async move {
                let read = api::sdk_snippet(run.project())
                    .await
                    .unwrap_or_else(|err| Snippet {
                        problem: Some(err.to_string()),
                        ..Snippet::default()
                    });
                let _ = snippet.try_set(read);
            });
        }
    };
    if open {
        load();
    }
    let shown = move || {
        let Snippet {
            caption,
            code,
            problem,
        } = snippet.get();
        let to_copy = code.clone();
        let copy = move |_| {
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().clipboard().write_text(&to_copy);
                copied.set(true);
            }
        };
        view! {
            <p class="hint" role="status">{problem}</p>
            {(!code.is_empty()).then(|| view! {
                <figure>
                    <figcaption>
                        {caption}" "
                        <button type="button" class="quiet" on:click=copy data-testid="copy-snippet">
                            {move || if copied.get() { "Copied" } else { "Copy" }}
                        </button>
                    </figcaption>
                    <pre tabindex="0"><code>{code}</code></pre>
                </figure>
            })}
        }
    };
    // A summary's click is also its keyboard activation (Enter, Space).
    view! {
        <details class="snippet" data-testid="sdk-snippet" open=open>
            <summary on:click=move |_| load()>"The SDK's start-up code, to copy"</summary>
            {shown}
        </details>
    }
}
