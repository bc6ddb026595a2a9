//! The setup wizard: Sentry, Render and Slack, one section at a time.

use std::sync::Arc;

use domain::Playbook;
use domain::playbook::{Item, SetupSection, Step};
use domain::run::CheckStatus;
use leptos::prelude::*;

use crate::api;
use crate::components::item::Checklist;
use crate::components::snippet::SdkSnippet;
use crate::components::{TextList, use_can_write, with_playbook};
use crate::sync::{Run, use_run};

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

    let every_item: Vec<Item> = playbook
        .setup
        .iter()
        .flat_map(|section| &section.steps)
        .flat_map(|step| step.items.clone())
        .collect();
    let run = use_run();
    let overall = move || {
        let done = every_item.iter().filter(|item| is_done(run, item)).count();
        let total = every_item.len();
        view! {
            <div class="setup-progress" data-testid="setup-progress">
                <progress max=total value=done aria-label="Setup progress"></progress>
                <span>{format!("{done} of {total} steps confirmed")}</span>
            </div>
        }
    };
    view! {
        {overall}
        <ol class="wizard-sections">{picker}</ol>
        {move || {
            let section = sections[current.get()].clone();
            view! {
                <div class="wizard-section" data-testid="wizard-section">
                    <h3>{section.title}</h3>
                    <p class="lede">{section.summary}</p>
                    <CheckAll section=section.id.clone() items=section.steps.iter().flat_map(|step| &step.items).filter(|item| item.verify.check().is_some()).map(|item| item.id.clone()).collect()/>
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

/// Done: ticked by hand, or its live check passed.
fn is_done(run: Run, item: &Item) -> bool {
    match item.verify.check() {
        None => run.tick(&item.id).is_some(),
        Some(_) => run
            .observation(&item.id)
            .is_some_and(|o| o.status == CheckStatus::Passed),
    }
}

/// "2 of 9 done", counting ticks and passed checks in this run.
fn section_progress(section: SetupSection) -> impl Fn() -> String {
    let run = use_run();
    move || {
        let items = section.steps.iter().flat_map(|step| &step.items);
        let total = items.clone().count();
        let done = items.filter(|item| is_done(run, item)).count();
        format!("{done} of {total} done")
    }
}

/// Runs every live check of a section at once.
#[component]
fn CheckAll(section: String, items: Vec<String>) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let asking = RwSignal::new(None::<String>);
    let items = StoredValue::new(items);
    let check_all = move |_| {
        asking.set(Some("Checking every live step…".to_owned()));
        leptos::task::spawn_local(async move {
            let result = api::run_checks(run.project(), &items.get_value()).await;
            asking.set(result.err().map(|err| err.to_string()));
        });
    };
    move || {
        (can_write.get() && !items.with_value(Vec::is_empty)).then(|| view! {
            <p class="check-all">
                <button type="button" on:click=check_all data-testid=format!("check-all-{section}")>
                    "Check all"
                </button>
                {asking.get().map(|text| view! { <span class="checking" role="status">{text}</span> })}
            </p>
        })
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
            {step.sdk_snippet.then(|| view! { <SdkSnippet/> })}
            <Checklist items=step.items/>
        </article>
    }
}
