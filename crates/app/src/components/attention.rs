//! "Needs attention": the strip above every project tab. It shows what
//! `domain::attention::needs` finds, each with where to act (the handover is
//! taken right here), and stays one calm line when nothing needs anyone.

use domain::attention::{Need, host_and_path, needs, settings_headline};
use domain::route::{ProjectView, Route};
use domain::run::Change;
use domain::watch::span;
use leptos::prelude::*;

use crate::components::clock::{ServerClock, clock_time};
use crate::components::{project_zone, use_can_write, with_playbook};
use crate::load::Load;
use crate::router::Link;
use crate::state::use_project;
use crate::sync::use_run;

#[component]
pub fn AttentionStrip() -> impl IntoView {
    with_playbook(|playbook| {
        let run = use_run();
        let project = use_project();
        let clock = expect_context::<ServerClock>();
        // Whole minutes of the server's clock: the list changes with the run
        // or when a checkpoint's time comes, not with every second.
        let minute = Memo::new(move |_| clock.now() / 60 * 60);
        let found = Memo::new(move |_| {
            let now = minute.get();
            let Load::Ready(project) = project.get() else {
                return Vec::new();
            };
            run.with_state(|state| needs(&playbook, &project, state, now))
        });
        view! {
            <section class="attention" aria-label="Needs attention" data-testid="attention">
                {move || {
                    let found = found.get();
                    if found.is_empty() {
                        view! { <p class="calm" data-testid="attention-calm">"Nothing needs anyone right now."</p> }.into_any()
                    } else {
                        view! {
                            <ul>{found.into_iter().map(|need| view! { <NeedLine need/> }).collect_view()}</ul>
                        }
                        .into_any()
                    }
                }}
            </section>
        }
    })
}

#[component]
fn NeedLine(need: Need) -> impl IntoView {
    let run = use_run();
    let clock = expect_context::<ServerClock>();
    let can_write = use_can_write();
    let zone = project_zone();
    let id = run.project();
    let tab = move |view: ProjectView, text: &'static str| {
        view! { <Link to=Route::Project { id, view } class="go">{text}</Link> }
    };
    let class = if need.is_alarm() {
        "need alarm"
    } else {
        "need"
    };
    let testid = format!("need-{}", need.kind());
    let time = |unix_ms: i64| clock_time(unix_ms, Some(&zone()));
    // What it is, its detail, since when (Unix ms: "since Mon 14:05 CET,
    // 12 min ago", kept current by the server's clock), where to act.
    let (what, detail, since, act) = match &need {
        Need::Escalation {
            title,
            trigger,
            since,
            ..
        } => (
            format!("Happening now: {title}"),
            trigger.clone(),
            Some(since),
            tab(ProjectView::Escalate, "Open the procedure").into_any(),
        ),
        Need::Down { url, detail, since } => (
            format!("{} is down", host_and_path(url)),
            detail.clone(),
            Some(since),
            tab(ProjectView::Watch, "See the health").into_any(),
        ),
        Need::Checkpoint { hour, due, overdue } => (
            format!(
                "Hour {hour} is {}",
                if *overdue { "overdue" } else { "due now" }
            ),
            format!("due at {}", time(due * 1000)),
            None,
            tab(ProjectView::Watch, "Complete it").into_any(),
        ),
        Need::SignOff { due, overdue } => (
            format!(
                "The sign-off is {}",
                if *overdue { "overdue" } else { "due" }
            ),
            format!("due at {}", time(due * 1000)),
            None,
            tab(ProjectView::Watch, "Go to the sign-off").into_any(),
        ),
        Need::Handover { hour, from } => {
            let hour = *hour;
            (
                format!("{from} handed the watch over"),
                format!("hour {hour}: read the shift note on the Watch tab"),
                None,
                view! {
                    <button type="button" class="go" disabled=move || !can_write.get()
                        on:click=move |_| run.record(Change::HandoverAcknowledged { hour })
                        data-testid="take-watch">"Take the watch"</button>
                }
                .into_any(),
            )
        }
        // Each missing setting links to its field; a setting the server
        // lacks is said at its checks, on the setup.
        Need::Settings { missing, items } => (
            settings_headline(items),
            // One check is named by the headline already.
            if items.len() > 1 {
                items.join(" · ")
            } else {
                String::new()
            },
            None,
            if missing.is_empty() {
                tab(ProjectView::Setup, "See the setup").into_any()
            } else {
                let links = missing
                    .clone()
                    .into_iter()
                    .map(|setting| view! {
                        <Link to=Route::Project { id, view: ProjectView::Settings } field=setting.field>
                            {setting.label}
                        </Link>
                    })
                    .collect_view();
                view! { <span class="fields">{links}</span> }.into_any()
            },
        ),
    };
    let since = since
        .map(|at| js_sys::Date::parse(at))
        .filter(|at| !at.is_nan())
        .map(|at| (at as i64, time(at as i64)));
    let detail = move || match &since {
        Some((at_ms, at)) => {
            let ago = (clock.now_ms.get() - at_ms) / 1000;
            format!("{detail} · since {at}, {} ago", span(ago))
        }
        None => detail.clone(),
    };
    view! {
        <li class=class data-testid=testid>
            <strong>{what}</strong>
            <span class="detail">{detail}</span>
            {act}
        </li>
    }
}
