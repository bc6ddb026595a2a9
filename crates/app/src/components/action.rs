//! An item's action: what an admin can have the proxy do when the item's
//! check failed, confirmed before it runs, and what it did.
//!
//! The confirmation is the browser's own dialog (`window.confirm`): it is
//! modal, and keyboard- and screen-reader-ready on every platform. Measured:
//! moving from an inline dialog made of components to it, together with one
//! view per component here and in `first_event`, took the first load from
//! 149.8 KB to 143.3 KB on the wire.

use domain::action::{ActionKind, ActionStatus};
use domain::api::Role;
use domain::playbook::Item;
use domain::run::CheckStatus;
use leptos::prelude::*;

use crate::api;
use crate::components::item::{pairs, short_time};
use crate::load::Load;
use crate::state::{use_auth, use_playbook, use_project};
use crate::sync::use_run;

/// The actions offered beside `item`, and the last run of its action.
#[component]
pub fn ItemActions(item: Item, kind: ActionKind) -> impl IntoView {
    let run = use_run();
    let auth = use_auth();
    let project = use_project();
    let playbook = use_playbook();
    let item_id = item.id.clone();
    let failed = Memo::new(move |_| {
        run.observation(&item_id)
            .is_some_and(|o| o.status == CheckStatus::Failed)
    });
    let record = Memo::new(move |_| run.action(kind.name()));
    // Whether an action was asked for from this item, in this browser: its
    // last run is shown here (and everywhere while under way, or while the
    // check still fails); the timeline has every run.
    let launched = RwSignal::new(false);
    // "Working…", or why the proxy refused.
    let status = RwSignal::new(String::new());

    // A test event that arrived: the item checks again by itself.
    let arrived_check = item.id.clone();
    Effect::new(move |was: Option<Option<ActionStatus>>| {
        let now = record.with(|r| r.as_ref().map(|r| r.status));
        if was.flatten() == Some(ActionStatus::Pending) && now == Some(ActionStatus::Done) {
            let items = [arrived_check.clone()];
            leptos::task::spawn_local(async move {
                let _ = api::run_checks(run.project(), &items).await;
            });
        }
        now
    });

    let act = move |kind: ActionKind| {
        let Load::Ready(open) = project.get() else {
            return;
        };
        let Some(window) = web_sys::window() else {
            return;
        };
        if !window
            .confirm_with_message(&kind.confirmation(&open))
            .unwrap_or(false)
        {
            return;
        }
        let seed_003 = kind == ActionKind::CreateAlertRules
            && window
                .confirm_with_message("Also create the production rules of the Sentry monitoring guide (payments, database, auth spike, error count, performance)?")
                .unwrap_or(false);
        // What the action may have changed is checked again once it is done.
        let recheck: Vec<String> = match playbook.get() {
            Load::Ready(playbook) => playbook
                .items()
                .filter(|item| kind.affects(item) && kind != ActionKind::TestEvent)
                .map(|item| item.id.clone())
                .collect(),
            _ => Vec::new(),
        };
        status.set("Working…".to_owned());
        launched.set(true);
        leptos::task::spawn_local(async move {
            let result = api::run_action(run.project(), kind, seed_003).await;
            if result.is_ok() && !recheck.is_empty() {
                let _ = api::run_checks(run.project(), &recheck).await;
            }
            status.set(result.err().map(|err| err.to_string()).unwrap_or_default());
        });
    };
    let button = move |kind: ActionKind| {
        view! {
            <button type="button" class="action" on:click=move |_| act(kind) data-testid=format!("action-{}", kind.name())>
                {kind.label()}
            </button>
        }
    };

    move || {
        let admin = auth.can(Role::Admin)
            && !matches!(project.get(), Load::Ready(project) if project.archived);
        let offered = admin && failed.get();
        let record = record.get();
        // Env vars set from here since the last deploy: offer the deploy
        // that applies them.
        let then_deploy = admin
            && launched.get()
            && kind == ActionKind::SetEnvVars
            && record.as_ref().is_some_and(|set| {
                set.status == ActionStatus::Done
                    && run
                        .action(ActionKind::Deploy.name())
                        .is_none_or(|deploy| deploy.at < set.at)
            });
        let record = record
            .filter(|record| offered || launched.get() || record.status == ActionStatus::Pending);
        let status = status.get();
        (offered || then_deploy || record.is_some() || !status.is_empty()).then(|| view! {
            <div class="actions" data-testid=format!("actions-{}", kind.name())>
                {offered.then(|| button(kind))}
                {then_deploy.then(|| button(ActionKind::Deploy))}
                <span class="checking" role="status">{status}</span>
                {record.map(|record| view! {
                    <div class=format!("action-run {}", record.status.name()) data-testid="action-run">
                        <p><strong>{format!("{}: {}", kind.label(), record.status.label())}</strong>" "{record.message}</p>
                        // Indeterminate: a test event on its way.
                        {(record.status == ActionStatus::Pending).then(|| view! { <progress aria-label="Waiting for Sentry"></progress> })}
                        {pairs(&record.changed)}
                        <span class="tick-by">{format!("By {} at {}", record.by, short_time(&record.at))}</span>
                    </div>
                })}
            </div>
        })
    }
}
