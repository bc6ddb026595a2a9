//! What has been done in this run, newest first: who, when and what, filtered
//! by kind and person, with notes added here and the export links.

use domain::run::{Change, EntryFilter, KINDS, actors, note_text_problem};
use leptos::prelude::*;

use crate::components::item::{short_time, your_time};
use crate::components::{Submitted, TextList, use_can_write, with_playbook};
use crate::sync::use_run;

#[component]
pub fn TimelinePage() -> impl IntoView {
    let run = use_run();
    let kind = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let filter = Memo::new(move |_| EntryFilter {
        kind: Some(kind.get()).filter(|k| !k.is_empty()),
        actor: Some(actor.get()).filter(|a| !a.is_empty()),
    });
    // Each re-renders whole when its input changes (rarely): cheaper in the
    // wasm than a reactive attribute on every option and link.
    let people = move || {
        let entries = run.entries();
        let current = actor.get_untracked();
        actors(&entries)
            .into_iter()
            .map(|name| {
                let selected = name == current;
                view! { <option selected=selected>{name.to_owned()}</option> }
            })
            .collect_view()
    };
    let project = run.project();
    let export = move || {
        let query = filter.get().query();
        let base = format!("/api/projects/{project}/export?format=");
        view! {
            "Export: "
            <a href=format!("{base}json{query}") download data-testid="export-json">"JSON"</a>
            " · "
            <a href=format!("{base}markdown{query}") download data-testid="export-markdown">"Markdown"</a>
        }
    };

    view! {
        <section class="page" data-testid="timeline-page">
            <h2>"Timeline"</h2>
            <p class="lede">"Every tick, note and decision of this run, with who made it and when, as the whole team sees it."</p>
            <NoteForm/>
            <div class="filters" role="group" aria-label="Filter the timeline">
                <label>
                    "Kind "
                    <select on:change=move |ev| kind.set(event_target_value(&ev)) data-testid="filter-kind">
                        <option value="">"Everything"</option>
                        {KINDS.map(|(name, label)| view! { <option value=name>{label}</option> })}
                    </select>
                </label>
                <label>
                    "Person "
                    <select on:change=move |ev| actor.set(event_target_value(&ev)) data-testid="filter-actor">
                        <option value="">"Everyone"</option>
                        {people}
                    </select>
                </label>
                <span class="export">{export}</span>
            </div>
            {with_playbook(move |playbook| {
                move || {
                    let filter = filter.get();
                    let pending = run.pending();
                    let mut entries = run.entries();
                    entries.retain(|entry| filter.matches(entry));
                    entries.reverse();
                    if entries.is_empty() && pending.is_empty() {
                        return view! {
                            <p class="empty" data-testid="timeline-empty">"Nothing here yet. Tick an item in Setup or Watch, or add a note, and it appears here for everyone."</p>
                        }.into_any();
                    }
                    let waiting = pending.into_iter().rev().map(|entry| view! {
                        <li class="waiting" data-testid="timeline-pending">
                            <time datetime=entry.at.clone()>{short_time(&entry.at)}</time>
                            <span class="who">{entry.actor.clone()}</span>
                            <span>{entry.describe(&playbook)}</span>
                            <span class="pending">"waiting to be saved"</span>
                        </li>
                    }).collect_view();
                    // One line each; what it saw opens beneath it.
                    let stored = entries.into_iter().map(|entry| {
                        let details = entry.details();
                        let line = entry.describe(&playbook);
                        let said = if details.is_empty() {
                            view! { <span>{line}</span> }.into_any()
                        } else {
                            view! {
                                <details class="entry-details">
                                    <summary>{line}</summary>
                                    <TextList lines=details/>
                                </details>
                            }
                            .into_any()
                        };
                        view! {
                            <li data-testid="timeline-entry" data-kind=entry.change.kind()>
                                <time datetime=entry.at.clone() title=your_time(&entry.at)>{short_time(&entry.at)}</time>
                                <span class="who">{entry.actor.clone()}</span>
                                {said}
                            </li>
                        }
                    }).collect_view();
                    view! { <ol class="timeline" data-testid="timeline">{waiting}{stored}</ol> }.into_any()
                }
            })}
        </section>
    }
}

/// A remark on the run, for the next shift or the launch report.
#[component]
fn NoteForm() -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(submitted) = Submitted::read(&ev) else {
            return;
        };
        let text = submitted.text("text").trim().to_owned();
        match note_text_problem(&text) {
            Some(problem) => error.set(Some(problem)),
            None => {
                run.record(Change::Note { text, item: None });
                submitted.form.reset();
                error.set(None);
            }
        }
    };
    view! {
        <form class="note-form" on:submit=submit data-testid="note-form">
            <label for="note-text">"Add a note"</label>
            <fieldset disabled=move || !can_write.get()>
                <textarea id="note-text" name="text" rows="2" maxlength="2000"
                    placeholder="e.g. DB CPU at 40% after the 14:00 deploy; watching" data-testid="note-text"></textarea>
                {move || error.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
                <button type="submit" data-testid="add-note">"Add note"</button>
            </fieldset>
        </form>
    }
}
