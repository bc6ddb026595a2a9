//! An item's action: what an admin can have the proxy do when the item's
//! check failed, confirmed before it runs, and what it did.
//!
//! The confirmation is an in-page dialog that says what the action will do,
//! as the proxy reads it now (for the env vars, each variable, masked where
//! it is a secret): it takes the focus, Escape or "Cancel" closes it, and a
//! screen reader reads its heading and list. (The browser's own
//! `window.confirm`, used before, could not list anything.)

use domain::action::{ActionKind, ActionStatus};
use domain::api::{ActionPreview, Role};
use domain::playbook::Item;
use domain::run::CheckStatus;
use leptos::prelude::*;

use crate::api;
use crate::components::Submitted;
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

    // The action waiting for its confirmation, and what it would do.
    let asking = RwSignal::new(None::<ActionKind>);
    let preview = RwSignal::new_local(None::<Result<ActionPreview, api::ApiError>>);
    let ask = move |kind: ActionKind| {
        asking.set(Some(kind));
        preview.set(None);
        leptos::task::spawn_local(async move {
            let read = api::action_preview(run.project(), kind).await;
            let _ = preview.try_set(Some(read));
        });
    };
    let act = move |kind: ActionKind, guide: bool| {
        asking.set(None);
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
            let result = api::run_action(run.project(), kind, guide).await;
            if result.is_ok() && !recheck.is_empty() {
                let _ = api::run_checks(run.project(), &recheck).await;
            }
            status.set(result.err().map(|err| err.to_string()).unwrap_or_default());
        });
    };
    let dialog = move || {
        let kind = asking.get()?;
        let confirm = move |ev: leptos::ev::SubmitEvent| {
            let guide = Submitted::read(&ev).is_some_and(|form| form.text("guide") == "1");
            act(kind, guide);
        };
        let escape = move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" {
                asking.set(None);
            }
        };
        // Only what the proxy could read can be confirmed.
        let ready = move || matches!(preview.get(), Some(Ok(ActionPreview { problem: None, .. })));
        let focus = NodeRef::<leptos::html::Div>::new();
        focus.on_load(|dialog| {
            let _ = dialog.focus();
        });
        Some(view! {
            <div class="card confirm" role="dialog" aria-label=kind.label() tabindex="-1" node_ref=focus on:keydown=escape data-testid="confirm-dialog">
                <h4>{kind.label()}</h4>
                {plan(preview, "confirm-plan")}
                <form on:submit=confirm>
                    {(kind == ActionKind::CreateAlertRules).then(|| view! {
                        <label><input type="checkbox" name="guide" value="1" data-testid="confirm-guide"/>" Also create the production rules of the Sentry monitoring guide (payments, database, auth spike, error count, performance)"</label>
                    })}
                    <div class="row">
                        <button type="submit" disabled=move || !ready() data-testid="confirm-yes">{kind.label()}</button>
                        <button type="button" class="quiet" on:click=move |_| asking.set(None) data-testid="confirm-no">"Cancel"</button>
                    </div>
                </form>
            </div>
        })
    };
    let button = move |kind: ActionKind| {
        view! {
            <button type="button" class="action" on:click=move |_| ask(kind) data-testid=format!("action-{}", kind.name())>
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
                {dialog}
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

/// What an action would do, as its preview says: each line, or what could
/// not be read; progress while it is read. The rollback shows it too.
pub fn plan(
    preview: RwSignal<Option<Result<ActionPreview, api::ApiError>>, LocalStorage>,
    testid: &'static str,
) -> impl Fn() -> AnyView {
    move || {
        preview.with(|preview| match preview {
            None => view! { <p class="loading" role="status">"Asking what it would change…"</p> }
                .into_any(),
            Some(Err(err)) => {
                view! { <p class="failure" role="alert">{err.to_string()}</p> }.into_any()
            }
            Some(Ok(ActionPreview {
                problem: Some(problem),
                ..
            })) => view! { <p class="failure" role="alert">{problem.clone()}</p> }.into_any(),
            Some(Ok(ActionPreview { plan, .. })) => view! {
                <ul class="plan" data-testid=testid>
                    {plan.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
                </ul>
            }
            .into_any(),
        })
    }
}
