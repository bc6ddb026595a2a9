//! Who is signed in, and signing out.

use leptos::prelude::*;

use crate::api;
use crate::state::{SignedIn, use_auth};

#[component]
pub fn Account() -> impl IntoView {
    let auth = use_auth();
    let sign_out = move |_| {
        leptos::task::spawn_local(async move {
            let reason = api::sign_out().await.err().map(|err| {
                format!("Signing out did not reach Watchpost ({err}); the session still ends by itself when it expires.")
            });
            auth.0.set(SignedIn::No { reason });
        });
    };
    move || {
        auth.session().map(|session| {
            view! {
                <div class="account">
                    <span class="who" data-testid="signed-in-as">
                        {format!("{} ({})", session.name, session.role.name())}
                    </span>
                    <button type="button" class="quiet" on:click=sign_out data-testid="sign-out">"Sign out"</button>
                </div>
            }
        })
    }
}
