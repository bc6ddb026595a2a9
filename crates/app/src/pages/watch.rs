//! The 24-hour watch, live: its schedule with countdowns on the server's
//! clock, the health the proxy samples, the latest snapshot of the targets,
//! each checkpoint to complete with a shift note, and the routine, what is
//! normal or critical, and the sign-off criteria.

use std::sync::Arc;

use domain::Playbook;
use domain::playbook::{Checkpoint, RoutineCheck};
use domain::run::Change;
use domain::watch::{CheckpointState, shift_note};
use leptos::prelude::*;

use crate::api;
use crate::components::chart::{ErrorsChart, ReportChart};
use crate::components::clock::{ServerClock, both_zones};
use crate::components::health::HealthPanel;
use crate::components::item::Checklist;
use crate::components::sign_off::SignOffPanel;
use crate::components::snapshot::SnapshotPanel;
use crate::components::{TextList, project_zone, use_can_write, with_playbook};
use crate::sync::use_run;

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
    let clock = expect_context::<ServerClock>();
    let watch = playbook.watch.clone();
    view! {
        <WatchHead clock/>
        <div class="grid two">
            <HealthPanel clock/>
            <SnapshotPanel/>
        </div>
        <article class="card chart-card" data-testid="errors">
            <header><h3>"Errors"</h3></header>
            <ErrorsChart clock/>
            <ReportChart clock chart=|report| report.failures testid="failures-chart"/>
        </article>
        <article class="card chart-card" data-testid="memory">
            <header><h3>"Memory (host)"</h3></header>
            <ReportChart clock chart=|report| report.memory testid="memory-chart"/>
        </article>
        <ol class="checkpoints">
            {watch.checkpoints.into_iter().map(|checkpoint| view! { <CheckpointCard checkpoint clock playbook=playbook.clone()/> }).collect_view()}
        </ol>

        <SignOffPanel playbook=playbook.clone()/>

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

/// Who started the watch and who has it, or a way to start it.
#[component]
fn WatchHead(clock: ServerClock) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let zone = project_zone();
    let asking = RwSignal::new(None::<String>);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let earlier = crate::components::Submitted::read(&ev)
            .map(|form| form.text("start"))
            .filter(|text| !text.is_empty())
            // The input is in the viewer's own zone; the browser converts it.
            .map(|text| String::from(js_sys::Date::new(&text.into()).to_iso_string()));
        asking.set(Some("Starting the watch…".to_owned()));
        leptos::task::spawn_local(async move {
            let result = api::start_watch(run.project(), earlier).await;
            let _ = asking.try_set(result.err().map(|err| err.to_string()));
            clock.refresh(run);
        });
    };
    let status = move || {
        let watch = run.with_state(|state| {
            state
                .watch
                .clone()
                .map(|watch| (watch, state.on_watch.clone()))
        });
        match watch {
            Some((watch, on_watch)) => view! {
                <p class="watch-status" data-testid="watch-status">
                    {format!(
                        "Started by {} from {}. On watch: {}.",
                        watch.by,
                        both_zones(watch.schedule.start * 1000, &zone()),
                        on_watch.unwrap_or_else(|| watch.by.clone())
                    )}
                </p>
            }
            .into_any(),
            None if can_write.get() => view! {
                <form class="start-watch" on:submit=start data-testid="start-watch">
                    <p>"The watch has not started. Start it when the launch deploy is live: Watchpost then probes the health endpoint every 30 seconds and measures the targets at each checkpoint, with or without this page open."</p>
                    <label>
                        "Started earlier? When (your time)"
                        <input type="datetime-local" name="start" data-testid="watch-start-time"/>
                    </label>
                    <button type="submit" data-testid="start-watch-button">"Start the watch"</button>
                </form>
            }
            .into_any(),
            None => view! { <p class="muted">"The watch has not started."</p> }.into_any(),
        }
    };
    view! {
        {status}
        {move || asking.get().map(|text| view! { <p class="checking" role="status">{text}</p> })}
        {move || (clock.speed() > 1).then(|| view! {
            <p class="badge" data-testid="test-clock">{format!("Test clock: time runs {}× faster", clock.speed())}</p>
        })}
    }
}

#[component]
fn CheckpointCard(
    checkpoint: Checkpoint,
    clock: ServerClock,
    playbook: Arc<Playbook>,
) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let zone = project_zone();
    let hour = checkpoint.hour;
    let label = if checkpoint.sign_off {
        format!("Hour {hour} · sign-off")
    } else {
        format!("Hour {hour}")
    };
    let stored = StoredValue::new(checkpoint.clone());
    let playbook = StoredValue::new(playbook);
    // Where it stands at the server's time, with its due time.
    let standing = move || {
        let now = clock.now();
        run.with_state(|state| {
            let watch = state.watch.as_ref()?;
            let checkpoint = stored.get_value();
            let due = watch.schedule.due_at(&checkpoint);
            let status = watch
                .schedule
                .state(&checkpoint, state.completion(hour), now);
            Some((due, status))
        })
    };
    let writing = RwSignal::new(None::<String>);
    let head = move || {
        standing().map(|(due, status)| {
            let class = format!("check-status state-{}", status.name());
            let note = match &status {
                CheckpointState::Done(done) if !done.note.is_empty() => Some(done.note.clone()),
                _ => None,
            };
            let open = !matches!(status, CheckpointState::Done(_) | CheckpointState::Upcoming { .. });
            // The rules of the run: a handover to acknowledge first, and
            // this checkpoint's own handover to take.
            let (blocked, handover) = playbook.with_value(|playbook| {
                run.with_state(|state| {
                    let blocked = state.refuses(playbook, &Change::CheckpointCompleted { hour, note: String::new() });
                    let handover = state
                        .pending_handover(playbook)
                        .filter(|(from, _)| *from == hour)
                        .map(|(_, done)| done.by.clone());
                    (blocked, handover)
                })
            });
            let can_complete = open && blocked.is_none();
            view! {
                <p class="due" data-testid="checkpoint-due">
                    <span class=class data-testid="checkpoint-state">{status.describe()}</span>
                    {format!(" · due {}", both_zones(due * 1000, &zone()))}
                </p>
                {note.map(|note| view! { <pre class="shift-note" data-testid="shift-note">{note}</pre> })}
                {handover.filter(|_| can_write.get()).map(|by| view! {
                    <button type="button" on:click=move |_| run.record(Change::HandoverAcknowledged { hour }) data-testid="acknowledge-handover">
                        {format!("I have read {by}'s note: take the watch")}
                    </button>
                })}
                {blocked.filter(|_| open).map(|why| view! { <p class="caption" data-testid="complete-blocked">{format!("To complete it: {why}.")}</p> })}
                {(can_complete && can_write.get() && writing.get().is_none()).then(|| view! {
                    <button
                        type="button"
                        on:click=move |_| {
                            let note = playbook.with_value(|playbook| run.with_state(|state| shift_note(playbook, state, hour)));
                            writing.set(Some(note));
                        }
                        data-testid="complete-checkpoint"
                    >
                        {format!("Complete hour {hour}")}
                    </button>
                })}
            }
        })
    };
    let complete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let note = crate::components::Submitted::read(&ev)
            .map(|form| form.text("note"))
            .unwrap_or_default();
        run.record(Change::CheckpointCompleted { hour, note });
        writing.set(None);
    };
    let form = move || {
        writing.get().map(|note| view! {
            <form class="shift-note-form" on:submit=complete data-testid="shift-note-form">
                <label>
                    "Shift note for whoever comes next (what is open, what to watch)"
                    <textarea name="note" rows="5" maxlength="2000" data-testid="shift-note-text">{note}</textarea>
                </label>
                <div class="row">
                    <button type="submit" data-testid="confirm-complete">{format!("Complete hour {hour}")}</button>
                    <button type="button" class="quiet" on:click=move |_| writing.set(None)>"Cancel"</button>
                </div>
            </form>
        })
    };
    view! {
        <li class="card checkpoint" class:sign-off=checkpoint.sign_off data-testid=format!("checkpoint-{hour}")>
            <header>
                <span class="hour">{label}</span>
                <h3>{checkpoint.title}</h3>
            </header>
            {head}
            <Checklist items=checkpoint.items/>
            {form}
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
