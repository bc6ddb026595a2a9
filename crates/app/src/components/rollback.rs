//! Rolling back, where a decision tree ends in "roll back": the seeds' route
//! (`git revert HEAD && git push`) and, for admins, "Roll back on Render"
//! after typing the service's name; then the rollback as the proxy follows
//! it (under way, live, or failed with what to do).

use domain::action::ActionKind;
use domain::api::Role;
use leptos::prelude::*;

use crate::api;
use crate::components::Submitted;
use crate::components::item::short_time;
use crate::state::use_auth;
use crate::sync::use_run;

#[component]
pub fn RollbackPanel() -> impl IntoView {
    let run = use_run();
    let is_admin = use_auth().can(Role::Admin);
    let asking = RwSignal::new(None::<String>);
    // A newer deploy in progress: the name typed and that deploy, to confirm again.
    let over = RwSignal::new(None::<(String, String)>);
    let send = move |confirm: String, over_deploy: Option<String>| {
        asking.set(Some("Asking Render to roll back…".to_owned()));
        over.set(None);
        leptos::task::spawn_local(async move {
            let result = api::rollback(run.project(), confirm.clone(), over_deploy).await;
            if let Err(api::ApiError::Refused { fields, .. }) = &result
                && let Some(deploy) = fields.get("over_deploy")
            {
                let _ = over.try_set(Some((confirm, deploy.clone())));
            }
            let _ = asking.try_set(result.err().map(|err| err.to_string()));
        });
    };
    let roll_back = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let confirm = Submitted::read(&ev)
            .map(|form| form.text("confirm"))
            .unwrap_or_default();
        send(confirm, None);
    };
    let anyway = move |_| {
        if let Some((confirm, deploy)) = over.get_untracked() {
            send(confirm, Some(deploy));
        }
    };
    let last = move || {
        run.action(ActionKind::Rollback.name()).map(|record| {
            let class = format!("action-run {}", record.status.name());
            view! {
                <div class=class role="status" data-testid="rollback-status">
                    <p><strong>{format!("Rollback: {}", record.status.label())}</strong>" "{record.message}</p>
                    <p class="caption">{format!("Asked by {} at {}", record.by, short_time(&record.at))}</p>
                </div>
            }
        })
    };
    view! {
        <div class="rollback" data-testid="rollback">
            <p>"The seeds' route (Render then deploys the previous version):"</p>
            <pre class="shift-note">"git revert HEAD && git push"</pre>
            {is_admin.then(|| view! {
                <form class="start-watch" on:submit=roll_back data-testid="rollback-form">
                    <label>
                        "Or roll back on Render: type the service's name"
                        <input type="text" name="confirm" autocomplete="off" data-testid="rollback-confirm"/>
                    </label>
                    <button type="submit" data-testid="rollback-button">"Roll back on Render"</button>
                </form>
            })}
            {move || asking.get().map(|text| view! { <p class="checking" role="status">{text}</p> })}
            {move || over.get().map(|_| view! {
                <button type="button" on:click=anyway data-testid="rollback-anyway">"Roll back anyway"</button>
            })}
            {last}
        </div>
    }
}
