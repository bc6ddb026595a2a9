//! What has been done in this run, newest first.

use leptos::prelude::*;

use crate::components::item::short_time;
use crate::components::with_playbook;
use crate::state::use_run;

#[component]
pub fn TimelinePage() -> impl IntoView {
    let run = use_run();
    view! {
        <section class="page" data-testid="timeline-page">
            <h2>"Timeline"</h2>
            <p class="lede">"Every tick, with who made it and when. Not saved yet: this run lives in this tab."</p>
            {with_playbook(move |playbook| {
                move || {
                    let mut entries = run.entries();
                    entries.reverse();
                    if entries.is_empty() {
                        return view! {
                            <p class="empty" data-testid="timeline-empty">"Nothing has happened yet. Tick an item in Setup or Watch and it appears here."</p>
                        }.into_any();
                    }
                    let playbook = playbook.clone();
                    view! {
                        <ol class="timeline" data-testid="timeline">
                            {entries.into_iter().map(|entry| view! {
                                <li data-testid="timeline-entry">
                                    <time datetime=entry.at.clone()>{short_time(&entry.at)}</time>
                                    <span>{format!("{} {}", entry.actor, entry.describe(&playbook))}</span>
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }
            })}
        </section>
    }
}
