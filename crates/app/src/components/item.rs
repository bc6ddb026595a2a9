//! One checklist item: a tick box when a person must confirm it, or the name
//! of the live check that will confirm it.

use domain::playbook::Item;
use leptos::prelude::*;

use crate::components::use_can_write;
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
        Some(check) => view! {
            <li class="item live" data-testid=testid>
                <span class="status-dot" aria-hidden="true"></span>
                <span class="item-text">{item.text}</span>
                <span class="badge badge-live" title=check.name()>{format!("Live check: {}", check.label())}</span>
                <span class="sr-only">"Not checked yet"</span>
            </li>
        }
        .into_any(),
    }
}

/// `2026-11-22T13:05:09.123Z` → `13:05 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(11..16)
        .map_or_else(|| rfc3339.to_owned(), |hm| format!("{hm} UTC"))
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
