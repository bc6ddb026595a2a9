//! The escalation procedures, walked one decision at a time.

use std::sync::Arc;

use domain::Playbook;
use domain::escalation::open_escalations;
use domain::playbook::{Escalation, Node, Outcome};
use domain::run::{Change, CheckStatus};
use domain::watch::span;
use leptos::prelude::*;

use crate::api;
use crate::components::clock::{ServerClock, clock_time};
use crate::components::item::short_time;
use crate::components::rollback::RollbackPanel;
use crate::components::{TextList, project_zone, use_can_write, with_playbook};
use crate::sync::use_run;

/// A walk through one procedure: each answer so far, which of them
/// Watchpost's own measurements gave (by depth), and the walk's retry once
/// it has a result: when (server ms) and whether it passed. (Signals of
/// types the app already has: each new one costs the wasm.)
#[derive(Clone, Copy)]
struct Walk {
    answers: RwSignal<Vec<usize>>,
    measured: RwSignal<Vec<usize>>,
    retried: RwSignal<Option<(i64, bool)>>,
}

impl Walk {
    fn new() -> Self {
        Walk {
            answers: RwSignal::new(Vec::new()),
            measured: RwSignal::new(Vec::new()),
            retried: RwSignal::new(None),
        }
    }
}

#[component]
pub fn EscalatePage() -> impl IntoView {
    view! {
        <section class="page" data-testid="escalate-page">
            <h2>"When things go wrong"</h2>
            {with_playbook(|playbook: Arc<Playbook>| {
                // What is happening, by the run: those procedures come first,
                // open; the others fold away while one is happening. The
                // list is drawn again when that changes; each walk's answers
                // live here, so a walk under way keeps them. (A keyed list
                // that moves the components instead cost 6.1 KB on the wire.)
                let run = use_run();
                let walks: Vec<(Escalation, Option<String>, Walk)> = playbook
                    .escalations
                    .iter()
                    .map(|escalation| {
                        // The item whose check detects this trouble: what a retry runs again.
                        let probe = playbook
                            .items()
                            .find(|item| item.verify.check().is_some() && item.verify == escalation.detected_by)
                            .map(|item| item.id.clone());
                        (escalation.clone(), probe, Walk::new())
                    })
                    .collect();
                let happening = {
                    let playbook = playbook.clone();
                    Memo::new(move |_| {
                        run.with_state(|state| {
                            open_escalations(&playbook, state)
                                .into_iter()
                                .map(|open| (open.escalation.id.clone(), open.since))
                                .collect::<Vec<_>>()
                        })
                    })
                };
                view! {
                    <p class="lede">"What is happening comes first. Answer each question; the procedure ends in a decision."</p>
                    <div class="grid procedures">
                        {move || {
                            let open = happening.get();
                            let since_of = |id: &str| open.iter().find(|(open, _)| open == id).map(|(_, since)| since.clone());
                            let mut ordered = walks.clone();
                            ordered.sort_by_key(|(escalation, ..)| since_of(&escalation.id).is_none());
                            ordered.into_iter().map(|(escalation, probe, walk)| {
                                let since = since_of(&escalation.id);
                                let quiet = !open.is_empty();
                                view! { <Procedure escalation probe walk since quiet/> }
                            }).collect_view()
                        }}
                    </div>
                }
            })}
        </section>
    }
}

/// One procedure, with its `walk` so far (the walk itself is a rule of the
/// shared crate): when `since` is set it is happening (since then); while
/// another is happening (`quiet`) it is folded.
#[component]
fn Procedure(
    escalation: Escalation,
    probe: Option<String>,
    walk: Walk,
    since: Option<String>,
    quiet: bool,
) -> impl IntoView {
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
        let detected_by = escalation.detected_by.check().map(|check| check.label());
        let zone = project_zone();
        let is_happening = since.is_some();
        let happening = since.as_deref().map(|since| {
                let at = js_sys::Date::parse(since);
                let when = if at.is_nan() {
                    String::new()
                } else {
                    format!(" since {}", clock_time(at as i64, Some(&zone())))
                };
                let by = detected_by.map(|label| format!(", detected by {label}")).unwrap_or_default();
                view! { <p class="happening" data-testid="happening">{format!("Happening now{when}{by}.")}</p> }
            });
        view! {
            <summary>
                <h3>{escalation.title.clone()}</h3>
            </summary>
            {happening}
            <p>{escalation.trigger.clone()}</p>
            // Said in the "happening" line while it happens: never twice.
            <p class="detected-by">
                {(!is_happening).then_some(detected_by).flatten().map(|label| format!("Detected by {label}"))}
            </p>
            <p class="decided" data-testid="last-decision">{last}</p>
        }
    };
    let steps = move || {
        let given = walk.answers.get();
        let measured = walk.measured.get();
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
                {passed.iter().zip(&given).enumerate().map(|(depth, (node, answer))| {
                    // What answered it, when Watchpost's measurements did.
                    let by = measured.contains(&depth).then_some(match node {
                        Node::Question { answered_by_retry: true, .. } => " (by the retry)",
                        _ => " (by the health samples)",
                    });
                    view! {
                        <li>
                            <span>{node.text().to_owned()}</span>
                            {node.answer_label(*answer).map(|label| view! { <strong>{format!(" → {label}")}</strong> })}
                            {by.map(|by| view! { <span class="caption" data-testid="measured-answer">{by}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {current.cloned().map(|node| view! { <CurrentNode node walk depth=given.len() escalation=escalation.id.clone() probe=probe.clone()/> })}
        }
        .into_any()
    };
    let happening = since.is_some();
    view! {
        <details
            class="card procedure"
            class:is-happening=happening
            open=happening || !quiet
            data-testid=testid
        >
            {header}
            <div class="walk" aria-live="polite">{steps}</div>
        </details>
    }
}

/// The node the walk is at, `depth` answers in. A question that Watchpost's
/// measurements answer is answered by them, and the walk goes on.
#[component]
fn CurrentNode(
    node: Node,
    walk: Walk,
    depth: usize,
    escalation: String,
    probe: Option<String>,
) -> impl IntoView {
    let answer = move |index: usize| walk.answers.update(|answers| answers.push(index));
    let clock = expect_context::<ServerClock>();
    {
        let node = node.clone();
        Effect::new(move |_| {
            let failing = longest_failing(clock);
            let retried = walk.retried.get().map(|(_, passed)| passed);
            let Some(index) = node.measured_answer(retried, failing) else {
                return;
            };
            // Once, at this depth: the effect may run again before the walk moves on.
            if walk.answers.with_untracked(Vec::len) == depth {
                walk.measured.update(|measured| measured.push(depth));
                walk.answers.update(|answers| answers.push(index));
            }
        });
    }
    match node {
        Node::Step {
            text,
            retry_after_seconds,
            ..
        } => view! {
            <div class="node step">
                <p>{text}</p>
                {retry_after_seconds.zip(probe.clone()).map(|(seconds, probe)| view! { <Retry seconds probe retried=walk.retried/> })}
                <button type="button" on:click=move |_| answer(0) data-testid="walk-done">"Done, next"</button>
            </div>
        }
        .into_any(),
        Node::Question {
            text,
            options,
            failing_for_seconds,
            ..
        } => view! {
            <div class="node question">
                <p><strong>{text}</strong></p>
                {failing_for_seconds.map(|seconds| {
                    view! { <p class="caption" data-testid="failing-for">{move || failing_for(clock, seconds)}</p> }
                })}
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
                    <RecordDecision escalation walk outcome probe/>
                    <button type="button" class="quiet" on:click=move |_| { walk.answers.set(Vec::new()); walk.measured.set(Vec::new()); walk.retried.set(None); } data-testid="walk-restart">"Start over"</button>
                </div>
            </div>
        }
        .into_any(),
    }
}

/// "Wait 30 s and retry": a timer on the server's clock, then the
/// detecting check runs again by itself and its result is shown.
#[component]
fn Retry(seconds: u32, probe: String, retried: RwSignal<Option<(i64, bool)>>) -> impl IntoView {
    let run = use_run();
    let clock = expect_context::<ServerClock>();
    // When the retry is due (server ms), and whether it was asked.
    let due = RwSignal::new(None::<(i64, bool)>);
    let probe = StoredValue::new(probe);
    Effect::new(move |_| {
        let now = clock.now_ms.get();
        if let Some((at, false)) = due.get()
            && now >= at
        {
            due.set(Some((at, true)));
            let items = [probe.get_value()];
            leptos::task::spawn_local(async move {
                let _ = api::run_checks(run.project(), &items).await;
            });
        }
    });
    // The retry's result, once the log has it: what answers the question
    // after this step. Only a pass or a failure answers it.
    Effect::new(move |_| {
        if let Some((at, true)) = due.get()
            && let Some(seen) = run.observation(&probe.get_value())
            && js_sys::Date::parse(&seen.at) as i64 >= at - 1000
        {
            match seen.status {
                CheckStatus::Passed => retried.set(Some((at, true))),
                CheckStatus::Failed => retried.set(Some((at, false))),
                _ => {}
            }
        }
    });
    let status = move || {
        let (at, asked) = due.get()?;
        let left = (at - clock.now_ms.get()).div_euclid(1000);
        Some(if !asked {
            format!("Retrying in {} s…", left.max(0) + 1)
        } else {
            match run.observation(&probe.get_value()) {
                Some(seen) => format!(
                    "Retried: {} at {}. {}",
                    seen.status.label(),
                    short_time(&seen.at),
                    seen.message
                ),
                None => "Retrying…".to_owned(),
            }
        })
    };
    let start = move |_| {
        due.set(Some((
            clock.now_ms.get_untracked() + i64::from(seconds) * 1000,
            false,
        )))
    };
    view! {
        <button type="button" on:click=start data-testid="retry">{format!("Wait {seconds} s and retry")}</button>
        <p class="caption" role="status" data-testid="retry-status">{status}</p>
    }
}

/// How long (seconds) the health URL failing longest has been failing by
/// the samples: 0 when none is, `None` when no URL has been sampled.
fn longest_failing(clock: ServerClock) -> Option<i64> {
    let now = clock.now_ms.get();
    clock.report.with(|report| {
        let urls = &report.as_ref()?.as_ref().ok()?.urls;
        let sampled = urls.iter().filter(|url| url.state != "unknown");
        sampled
            .map(|url| {
                url.failing_since
                    .map_or(0, |since| (now - since).div_euclid(1000))
            })
            .max()
    })
}

/// What the samples say of how long the health URLs have been failing, and
/// whether that is longer than `seconds` (when it is not 0).
fn failing_for(clock: ServerClock, seconds: u32) -> String {
    let now = clock.now_ms.get();
    let report = clock.report.get();
    let Some(Ok(report)) = report else {
        return "Reading the health samples…".to_owned();
    };
    let failing: Vec<String> = report
        .urls
        .iter()
        .filter_map(|url| {
            let since = url.failing_since?;
            let lasted = (now - since).div_euclid(1000);
            let verdict = match seconds {
                0 => String::new(),
                _ if lasted > i64::from(seconds) => format!(": more than {}", span(seconds.into())),
                _ => format!(": not yet {}", span(seconds.into())),
            };
            Some(format!("{} failing for {}{verdict}", url.url, span(lasted)))
        })
        .collect();
    if failing.is_empty() {
        "By the health samples, no URL is failing now.".to_owned()
    } else {
        format!("By the health samples: {}.", failing.join("; "))
    }
}

/// Puts the decision on the run's record, for the team and the launch report.
#[component]
fn RecordDecision(
    escalation: String,
    walk: Walk,
    outcome: Outcome,
    probe: Option<String>,
) -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let clock = expect_context::<ServerClock>();
    let recorded = RwSignal::new(false);
    let record = move |_| {
        // The values that drove the decision: the check's latest result and
        // how long the samples say it has been failing.
        let mut evidence = Vec::new();
        if let Some(seen) = probe.as_deref().and_then(|probe| run.observation(probe)) {
            evidence.push(format!(
                "{} at {}: {}",
                seen.status.label(),
                short_time(&seen.at),
                seen.message
            ));
        }
        if escalation == "health-check" {
            evidence.push(failing_for(clock, 0));
        }
        run.record(Change::DecisionTaken {
            escalation: escalation.clone(),
            answers: walk.answers.get_untracked(),
            outcome,
            note: evidence.join(" "),
        });
        recorded.set(true);
    };
    view! {
        <button type="button" on:click=record disabled=move || recorded.get() || !can_write.get() data-testid="record-decision">
            {move || if recorded.get() { "Recorded" } else { "Record this decision" }}
        </button>
    }
}
