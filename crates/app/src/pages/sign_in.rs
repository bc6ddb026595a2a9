//! Signing in with a display name and the team passcode.

use domain::api::validated_display_name;
use leptos::prelude::*;

use crate::api;
use crate::components::{Submitted, storage};
use crate::state::{SignedIn, use_auth};

/// The name typed last time, so the next sign-in is one field.
const NAME_KEY: &str = "watchpost-name";

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = use_auth();
    let reason = match auth.0.get_untracked() {
        SignedIn::No { reason } => reason,
        SignedIn::Checking | SignedIn::Yes(_) => None,
    };
    let last_name = storage()
        .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
        .unwrap_or_default();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(reason);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(form) = Submitted::read(&ev) else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        let passcode = form.text("passcode");
        // The shared rule, so the message is the proxy's before any round trip.
        let typed = match validated_display_name(&form.text("name")) {
            Ok(typed) => typed,
            Err(message) => return error.set(Some(format!("Your name: {message}."))),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::sign_in(typed.clone(), passcode).await {
                Ok(session) => {
                    if let Some(storage) = storage() {
                        let _ = storage.set_item(NAME_KEY, &typed);
                    }
                    auth.0.set(SignedIn::Yes(session));
                }
                Err(err) => {
                    error.set(Some(err.to_string()));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <section class="page narrow" data-testid="sign-in-page">
            <h1>"Sign in"</h1>
            <p class="lede">"Your name shows the team who ticked, noted or decided what. The passcode comes from whoever runs Watchpost."</p>
            <form class="card form" on:submit=submit data-testid="sign-in">
                <label for="sign-in-name">"Your name"</label>
                <input id="sign-in-name" type="text" autocomplete="name" maxlength="40" required name="name" value=last_name data-testid="sign-in-name"/>
                <label for="sign-in-passcode">"Team passcode"</label>
                <input id="sign-in-passcode" type="password" autocomplete="current-password" required name="passcode" data-testid="sign-in-passcode"/>
                {move || error.get().map(|message| view! {
                    <p class="field-error" role="alert" data-testid="sign-in-error">{message}</p>
                })}
                <button type="submit" data-testid="sign-in-submit">
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}
