//! The escalation procedures, walked one decision at a time.

use std::sync::Arc;

use domain::Playbook;
use domain::playbook::{Escalation, Node, Outcome};
use domain::run::Change;
use leptos::prelude::*;

use crate::components::item::short_time;
use crate::components::rollback::RollbackPanel;
use crate::components::{TextList, use_can_write, with_playbook};
use crate::sync::use_run;

#[component]
pub fn EscalatePage() -> impl IntoView {
    view! {
        <section class="page" data-testid="escalate-page">
            <h2>"When things go wrong"</h2>
            {with_playbook(|playbook: Arc<Playbook>| view! {
                <p class="lede">"Pick what is happening and answer each question; the procedure ends in a decision."</p>
                <div class="grid">
                    {playbook.escalations.iter().cloned().map(|escalation| view! { <Procedure escalation/> }).collect_view()}
                </div>
            })}
        </section>
    }
}

#[component]
fn Procedure(escalation: Escalation) -> impl IntoView {
    // The answers given so far; the walk itself is a rule of the shared crate.
    let answers = RwSignal::new(Vec::<usize>::new());
    let testid = format!("procedure-{}", escalation.id);
    let escalation = Arc::new(escalation);
    let header = {
        let escalation = escalation.clone();
        let id = escalation.id.clone();
        let run = use_run();
        let last = move || {
            run.last_decision(&id).map(|d| {
                format!(
                    "Last decided: {} by {} at {}",
                    d.outcome.label(),
                    d.by,
                    short_time(&d.at)
                )
            })
        };
        view! {
            <header>
                <h3>{escalation.title.clone()}</h3>
                <p>{escalation.trigger.clone()}</p>
                <p class="detected-by">
                    {escalation.detected_by.check().map(|check| format!("Detected by {}", check.label()))}
                </p>
                <p class="decided" data-testid="last-decision">{last}</p>
            </header>
        }
    };
    let walk = move || {
        let given = answers.get();
        let path = match escalation.walk(&given) {
            Ok(path) => path,
            Err(err) => {
                return view! { <p class="failure" role="alert">{err.to_string()}</p> }.into_any();
            }
        };
        let (current, passed) = path
            .split_last()
            .map_or((None, &[][..]), |(last, rest)| (Some(*last), rest));
        view! {
            <ol class="walk-path">
                {passed.iter().zip(&given).map(|(node, answer)| view! {
                    <li>
                        <span>{node.text().to_owned()}</span>
                        {node.answer_label(*answer).map(|label| view! { <strong>{format!(" → {label}")}</strong> })}
                    </li>
                }).collect_view()}
            </ol>
            {current.cloned().map(|node| view! { <CurrentNode node answers escalation=escalation.id.clone()/> })}
        }
        .into_any()
    };
    view! {
        <article class="card procedure" data-testid=testid>
            {header}
            <div class="walk" aria-live="polite">{walk}</div>
        </article>
    }
}

#[component]
fn CurrentNode(node: Node, answers: RwSignal<Vec<usize>>, escalation: String) -> impl IntoView {
    let answer = move |index: usize| answers.update(|answers| answers.push(index));
    match node {
        Node::Step { text, .. } => view! {
            <div class="node step">
                <p>{text}</p>
                <button type="button" on:click=move |_| answer(0) data-testid="walk-done">"Done, next"</button>
            </div>
        }
        .into_any(),
        Node::Question { text, options, .. } => view! {
            <div class="node question">
                <p><strong>{text}</strong></p>
                <div class="options">
                    {options.into_iter().enumerate().map(|(index, choice)| view! {
                        <button type="button" on:click=move |_| answer(index) data-testid="walk-option">{choice.label}</button>
                    }).collect_view()}
                </div>
            </div>
        }
        .into_any(),
        Node::Outcome { text, outcome, steps, .. } => view! {
            <div class=format!("node outcome outcome-{}", outcome.name()) data-testid="walk-outcome">
                <p class="decision">{format!("Decision: {}", outcome.label())}</p>
                <p>{text}</p>
                <TextList lines=steps ordered=true/>
                {(outcome == Outcome::Rollback).then(|| view! { <RollbackPanel/> })}
                <div class="row">
                    <RecordDecision escalation answers outcome/>
                    <button type="button" class="quiet" on:click=move |_| answers.set(Vec::new()) data-testid="walk-restart">"Start over"</button>
                </div>
            </div>
        }
        .into_any(),
    }
}

/// Puts the decision on the run's record, for the team and the launch report.
#[component]
fn RecordDecision(
    escalation: String,
    answers: RwSignal<Vec<usize>>,
    outcome: Outcome,
) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let recorded = RwSignal::new(false);
    let record = move |_| {
        run.record(Change::DecisionTaken {
            escalation: escalation.clone(),
            answers: answers.get_untracked(),
            outcome,
            note: String::new(),
        });
        recorded.set(true);
    };
    view! {
        <button type="button" on:click=record disabled=move || recorded.get() || !can_write.get() data-testid="record-decision">
            {move || if recorded.get() { "Recorded" } else { "Record this decision" }}
        </button>
    }
}
