//! The setup wizard: Sentry, Render and Slack, one section at a time.

use std::sync::Arc;

use domain::Playbook;
use domain::playbook::{SetupSection, Step};
use leptos::prelude::*;

use crate::components::item::Checklist;
use crate::components::{TextList, with_playbook};
use crate::sync::use_run;

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <section class="page" data-testid="setup-page">
            <h2>"Setup"</h2>
            {with_playbook(|playbook| view! { <Wizard playbook/> })}
        </section>
    }
}

#[component]
fn Wizard(playbook: Arc<Playbook>) -> impl IntoView {
    let current = RwSignal::new(0usize);
    let sections = playbook.setup.clone();
    let count = sections.len();
    let picker = sections
        .iter()
        .enumerate()
        .map(|(index, section)| {
            let progress = section_progress(section.clone());
            view! {
                <li>
                    <button
                        type="button"
                        class="section-pick"
                        aria-current=move || (current.get() == index).then_some("step")
                        on:click=move |_| current.set(index)
                        data-testid=format!("section-{}", section.id)
                    >
                        <span class="section-number">{index + 1}</span>
                        <span>{section.title.clone()}</span>
                        <span class="section-progress">{progress}</span>
                    </button>
                </li>
            }
        })
        .collect_view();

    view! {
        <ol class="wizard-sections">{picker}</ol>
        {move || {
            let section = sections[current.get()].clone();
            view! {
                <div class="wizard-section" data-testid="wizard-section">
                    <h3>{section.title}</h3>
                    <p class="lede">{section.summary}</p>
                    {section.steps.into_iter().map(|step| view! { <StepCard step/> }).collect_view()}
                </div>
            }
        }}
        <div class="wizard-nav">
            <button type="button" disabled=move || current.get() == 0 on:click=move |_| current.update(|i| *i -= 1)>
                "Previous section"
            </button>
            <button
                type="button"
                disabled=move || { current.get() + 1 >= count }
                on:click=move |_| current.update(|i| *i += 1)
                data-testid="next-section"
            >
                "Next section"
            </button>
        </div>
    }
}

/// "2 of 9 done", counting the items ticked by hand in this run.
fn section_progress(section: SetupSection) -> impl Fn() -> String {
    let run = use_run();
    move || {
        let items = section.steps.iter().flat_map(|step| &step.items);
        let total = items.clone().count();
        let done = items.filter(|item| run.tick(&item.id).is_some()).count();
        format!("{done} of {total} done")
    }
}

#[component]
fn StepCard(step: Step) -> impl IntoView {
    view! {
        <article class="card step" data-testid=format!("step-{}", step.id)>
            <header>
                <h4>{step.title}</h4>
                {step.optional.then(|| view! { <span class="badge">"Optional"</span> })}
            </header>
            <TextList lines=step.instructions ordered=true class="instructions"/>
            <Checklist items=step.items/>
        </article>
    }
}
