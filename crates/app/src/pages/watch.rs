//! The 24-hour watch: checkpoints, the routine at each, targets, and what is
//! normal or critical.

use std::sync::Arc;

use domain::Playbook;
use domain::playbook::{Checkpoint, RoutineCheck};
use leptos::prelude::*;

use crate::components::item::Checklist;
use crate::components::{TextList, with_playbook};

#[component]
pub fn WatchPage() -> impl IntoView {
    view! {
        <section class="page" data-testid="watch-page">
            <h2>"24-hour watch"</h2>
            {with_playbook(|playbook| view! { <Watch playbook/> })}
        </section>
    }
}

#[component]
fn Watch(playbook: Arc<Playbook>) -> impl IntoView {
    let watch = playbook.watch.clone();
    view! {
        <p class="lede">
            {format!("Checkpoints every few hours for {} hours, then sign-off.", watch.duration_hours)}
        </p>
        <ol class="checkpoints">
            {watch.checkpoints.into_iter().map(|checkpoint| view! { <CheckpointCard checkpoint/> }).collect_view()}
        </ol>

        <h3>"At each checkpoint"</h3>
        <div class="grid">
            {watch.routine.into_iter().map(|check| view! { <RoutineCard check/> }).collect_view()}
        </div>

        <div class="grid two">
            <article class="card normal" data-testid="normal">
                <h4>"Normal: no action"</h4>
                <TextList lines=watch.normal/>
            </article>
            <article class="card critical" data-testid="critical">
                <h4>"Critical: must fix"</h4>
                <TextList lines=watch.critical/>
            </article>
        </div>

        <h3>"Success criteria for the sign-off"</h3>
        <div class="card">
            <Checklist items=playbook.success_criteria.clone() testid="success-criteria"/>
        </div>
    }
}

#[component]
fn CheckpointCard(checkpoint: Checkpoint) -> impl IntoView {
    let label = if checkpoint.sign_off {
        format!("Hour {} · sign-off", checkpoint.hour)
    } else {
        format!("Hour {}", checkpoint.hour)
    };
    view! {
        <li class="card checkpoint" class:sign-off=checkpoint.sign_off data-testid=format!("checkpoint-{}", checkpoint.hour)>
            <header>
                <span class="hour">{label}</span>
                <h4>{checkpoint.title}</h4>
            </header>
            <Checklist items=checkpoint.items/>
        </li>
    }
}

#[component]
fn RoutineCard(check: RoutineCheck) -> impl IntoView {
    view! {
        <article class="card routine" data-testid=format!("routine-{}", check.id)>
            <header>
                <h4>{check.title}</h4>
                <span class="badge">{format!("{} min", check.minutes)}</span>
            </header>
            <TextList lines=check.instructions class="instructions"/>
            {(!check.targets.is_empty()).then(|| view! {
                <table class="targets">
                    <thead><tr><th scope="col">"Metric"</th><th scope="col">"Target"</th><th scope="col">"Measured by"</th></tr></thead>
                    <tbody>
                        {check.targets.into_iter().map(|target| view! {
                            <tr data-testid=format!("target-{}", target.id)>
                                <td>{target.label}</td>
                                <td class="bound">{target.bound.to_string()}</td>
                                <td>{target.verify.check().map_or("by hand", |check| check.label())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <Checklist items=check.items/>
            {(!check.if_failing.is_empty()).then(|| view! {
                <div class="if-failing">
                    <strong>"If it fails"</strong>
                    <TextList lines=check.if_failing/>
                </div>
            })}
        </article>
    }
}
