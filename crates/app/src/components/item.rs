//! One checklist item: a tick box when a person must confirm it, or the name
//! of the live check that will confirm it.

use domain::CheckKind;
use domain::action::ActionKind;
use domain::keyed::Keyed;
use domain::playbook::Item;
use domain::route::{ProjectView, Route};
use domain::run::CheckStatus;
use leptos::prelude::*;

use crate::api;
use crate::components::action::ItemActions;
use crate::components::clock::{clock_time, own_zone};
use crate::components::first_event::FirstEventWait;
use crate::components::use_can_write;
use crate::load::Load;
use crate::router::Link;
use crate::state::{OpenProject, use_project};
use crate::sync::use_run;

#[component]
pub fn ChecklistItem(item: Item) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let id = item.id.clone();
    let testid = format!("item-{}", item.id);
    match item.verify.check() {
        None => {
            let (ticked_id, pending_id) = (id.clone(), id.clone());
            let tick = Memo::new(move |_| run.tick(&ticked_id));
            let pending = Memo::new(move |_| run.is_pending(&pending_id));
            view! {
                <li class="item manual" data-testid=testid>
                    <label>
                        <input
                            type="checkbox"
                            prop:checked=move || tick.get().is_some()
                            disabled=move || !can_write.get()
                            on:change=move |_| run.toggle(&id)
                        />
                        <span class="item-text">{item.text}</span>
                    </label>
                    <span class="badge badge-manual">"By hand"</span>
                    {move || tick.get().map(|tick| view! {
                        <span class="tick-by" data-testid="tick-by">
                            {format!("Ticked by {} at {}", tick.by, short_time(&tick.at))}
                        </span>
                    })}
                    {move || pending.get().then(|| view! {
                        <span class="pending" data-testid="pending">"Saving…"</span>
                    })}
                </li>
            }
            .into_any()
        }
        Some(check) => {
            let observation = Memo::new(move |_| run.observation(&id));
            // Where a check that could not run for a project setting sends
            // the admin: that setting's field.
            let project = use_project();
            let with = item.with.clone();
            let lacking = Memo::new(move |_| match project.get() {
                Load::Ready(project) => project.missing_for(check, &with),
                _ => None,
            });
            // "Checking…" while a check runs, or why it could not be asked.
            let asking = RwSignal::new(None::<String>);
            let item_id = item.id.clone();
            let check_again = move |_| {
                asking.set(Some("Checking…".to_owned()));
                let items = [item_id.clone()];
                leptos::task::spawn_local(async move {
                    let result = api::run_checks(run.project(), &items).await;
                    asking.set(result.err().map(|err| err.to_string()));
                });
            };
            // One closure renders what changes: cheaper in the wasm than
            // reactive attributes (see ARCHITECTURE.md).
            let result = move || {
                let observation = observation.get();
                let status = observation
                    .as_ref()
                    .map_or("unchecked", |o| o.status.name());
                let label = observation
                    .as_ref()
                    .map_or("Not checked yet", |o| o.status.label());
                view! {
                    <span class=format!("check-status {status}") data-testid="check-status">{label}</span>
                    {can_write.get().then(|| view! {
                        <button type="button" class="quiet" on:click=check_again.clone() data-testid="check-again">
                            {if status == "unchecked" { "Check now" } else { "Check again" }}
                        </button>
                    })}
                    {asking.get().map(|text| view! { <span class="checking" role="status">{text}</span> })}
                    {observation.map(|o| view! {
                        <div class="observed" data-testid="observed">
                            <p class="check-message">{o.message}</p>
                            {(o.status == CheckStatus::NotConfigured).then(|| lacking.get()).flatten().map(|setting| view! {
                                <Link to=Route::Project { id: run.project(), view: ProjectView::Settings } class="go" field=setting.field testid="fill-setting">
                                    {format!("Fill in {}", setting.label)}
                                </Link>
                            })}
                            {pairs(&o.observed)}
                            <span class="tick-by">
                                {format!("Checked by {} at {} ({} ms)", o.by, short_time(&o.at), o.duration_ms)}
                            </span>
                        </div>
                    })}
                }
            };
            let actions = ActionKind::for_item(&item)
                .map(|kind| view! { <ItemActions item=item.clone() kind/> });
            let first_event = (check == CheckKind::SentryEvents)
                .then(|| view! { <FirstEventWait item=item.id.clone()/> });
            view! {
                <li class="item live" data-testid=testid>
                    <span class="item-text">{item.text}</span>
                    <span class="badge badge-live" title=check.name()>{check.label()}</span>
                    {result}
                    {actions}
                    {first_event}
                </li>
            }
            .into_any()
        }
    }
}

/// Names and values, as a description list.
pub fn pairs(pairs: &Keyed<String>) -> impl IntoView + use<> {
    let rows = pairs
        .iter()
        .map(|(name, value)| view! { <dt>{name.to_owned()}</dt><dd>{value.clone()}</dd> })
        .collect_view();
    view! { <dl>{rows}</dl> }
}

/// `2026-11-22T13:05:09.123Z` → `Sun, 14:05 CET`: in the project's time
/// zone (UTC outside a project), and with the day, as a watch spans two.
pub fn short_time(rfc3339: &str) -> String {
    let at = js_sys::Date::parse(rfc3339);
    if at.is_nan() {
        return rfc3339.to_owned();
    }
    clock_time(at as i64, Some(&page_zone()))
}

/// The same time in the viewer's own zone, where that differs from the
/// project's: a hover, so that the screen itself keeps one zone.
pub fn your_time(rfc3339: &str) -> Option<String> {
    let at = js_sys::Date::parse(rfc3339);
    (!at.is_nan() && own_zone() != page_zone())
        .then(|| format!("{} your time", clock_time(at as i64, None)))
}

/// The open project's time zone, UTC outside a project.
fn page_zone() -> String {
    use_context::<OpenProject>()
        .and_then(|project| match project.get() {
            Load::Ready(project) => Some(project.timezone),
            Load::Loading | Load::Failed(_) => None,
        })
        .unwrap_or_else(|| "UTC".to_owned())
}

/// A list of checklist items.
#[component]
pub fn Checklist(
    items: Vec<Item>,
    #[prop(optional, into)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <ul class="checklist" data-testid=testid>
            {items.into_iter().map(|item| view! { <ChecklistItem item/> }).collect_view()}
        </ul>
    }
}
