//! The sign-off at 24 hours: each success criterion as the proxy measured it,
//! with its evidence; for admins, a reason to waive what cannot be measured,
//! and "Sign off"; the report, to print (it links its Markdown form).

use std::sync::Arc;

use domain::Playbook;
use domain::api::Role;
use domain::signoff::{Closed, SignOffReport, Standing, closed};
use domain::watch::span;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::clock::{ServerClock, clock_time};
use crate::components::{Submitted, project_zone};
use crate::state::use_auth;
use crate::sync::use_run;

#[component]
pub fn SignOffPanel(playbook: Arc<Playbook>) -> impl IntoView {
    let run = use_run();
    let clock = expect_context::<ServerClock>();
    let zone = project_zone();
    // Why "Sign off" cannot succeed now, said beside it: the time it opens,
    // or the criteria not met (what cannot be measured is waived instead).
    let why_not = move |report: &SignOffReport| -> Option<String> {
        let now = clock.now();
        match run.with_state(|state| closed(&playbook, state, now)) {
            Some(Closed::AlreadySigned) => None,
            Some(Closed::NotStarted) => {
                Some("The sign-off opens 24 hours after the watch starts.".to_owned())
            }
            Some(Closed::Until(due)) => Some(format!(
                "The sign-off opens {}, in {}.",
                clock_time(due * 1000, Some(&zone())),
                span(due - now)
            )),
            None => {
                let not_met: Vec<&str> = report
                    .criteria
                    .iter()
                    .filter(|c| c.standing == Standing::NotMet)
                    .map(|c| c.text.as_str())
                    .collect();
                (!not_met.is_empty())
                    .then(|| format!("Not met, which no waiver covers: {}.", not_met.join("; ")))
            }
        }
    };
    let is_admin = use_auth().can(Role::Admin);
    let report = RwSignal::new_local(None::<Result<SignOffReport, ApiError>>);
    let refused = RwSignal::new(None::<String>);
    // Judged again whenever the run changes (a snapshot, a check, a tick).
    Effect::new(move |_| {
        run.with_state(|state| state.last_entry);
        leptos::task::spawn_local(async move {
            let result = api::sign_off_report(run.project()).await;
            let _ = report.try_set(Some(result));
        });
    });
    let sign = move |ev: leptos::ev::SubmitEvent| {
        let Some(form) = Submitted::read(&ev) else {
            return;
        };
        // One reason, given for every criterion nothing could measure.
        let reason = form.text("reason");
        let waivers: Vec<(String, String)> = report.with_untracked(|report| match report {
            Some(Ok(report)) => report
                .criteria
                .iter()
                .filter(|c| c.standing == Standing::Unmeasured)
                .map(|c| (c.id.clone(), reason.clone()))
                .collect(),
            _ => Vec::new(),
        });
        let note = form.text("note");
        leptos::task::spawn_local(async move {
            let result = api::sign_off(run.project(), &waivers, &note).await;
            let _ = refused.try_set(result.err().map(|err| err.to_string()));
        });
    };
    let why = Memo::new(move |_| {
        report.with(|report| match report {
            Some(Ok(report)) => why_not(report),
            _ => None,
        })
    });
    let body = move || {
        let report = match report.get() {
            None => {
                return view! { <p class="loading" role="status">"Measuring the criteria…"</p> }
                    .into_any();
            }
            Some(Err(err)) => {
                return view! { <p class="failure" role="alert">{err.to_string()}</p> }.into_any();
            }
            Some(Ok(report)) => report,
        };
        let verdict = report.verdict();
        let open = report.signed_off_by.is_none() && is_admin;
        let unmeasured = report
            .criteria
            .iter()
            .any(|c| c.standing == Standing::Unmeasured);

        let rows = report
            .criteria
            .into_iter()
            .map(|c| {
                let (label, class) = c.standing.badge();
                view! {
                    <li class="judgment" data-testid=format!("criterion-{}", c.id)>
                        <span class=format!("check-status {class}")>{label}</span>
                        <span>{c.text}</span>
                        <small class="measure">{c.evidence}</small>
                    </li>
                }
            })
            .collect_view();
        view! {
            <p class="watch-status" data-testid="verdict">{verdict}</p>
            <form class="shift-note-form" on:submit=sign>
                <ul class="judgments">{rows}</ul>
                {open.then(|| view! {
                    {unmeasured.then(|| view! {
                        <label>
                            "Waive every unmeasured criterion, because"
                            <input type="text" name="reason" maxlength="2000" required data-testid="waive-reason"/>
                        </label>
                    })}
                    <label>"Note" <input type="text" name="note" maxlength="2000"/></label>
                    <div class="row">
                        <button type="submit" disabled=move || why.get().is_some() data-testid="sign-off">"Sign off"</button>
                        {move || why.get().map(|why| view! { <p class="why-not" data-testid="sign-off-why-not">{why}</p> })}
                    </div>
                })}
            </form>
        }
        .into_any()
    };
    view! {
        <article class="card" data-testid="sign-off-panel">
            <header>
                <h3>"Sign-off"</h3>
                <a href=format!("/api/projects/{}/sign-off?format=html", run.project()) target="_blank" data-testid="print-report">"Report"</a>
            </header>
            {body}
            {move || refused.get().map(|why| view! { <p class="failure" role="alert" data-testid="sign-off-refused">{why}</p> })}
        </article>
    }
}
