//! "Needs attention": the strip above every project tab. It shows what
//! `domain::attention::needs` finds, each with where to act (the handover is
//! taken right here), and stays one calm line when nothing needs anyone.

use domain::attention::{Need, host_and_path, needs};
use domain::route::{ProjectView, Route};
use domain::run::Change;
use domain::watch::span;
use leptos::prelude::*;

use crate::components::clock::{ServerClock, clock_time};
use crate::components::{project_zone, use_can_write, with_playbook};
use crate::router::Link;
use crate::sync::use_run;

#[component]
pub fn AttentionStrip() -> impl IntoView {
    with_playbook(|playbook| {
        let run = use_run();
        let clock = expect_context::<ServerClock>();
        // Whole minutes of the server's clock: the list changes with the run
        // or when a checkpoint's time comes, not with every second.
        let minute = Memo::new(move |_| clock.now() / 60 * 60);
        let found = Memo::new(move |_| {
            let now = minute.get();
            run.with_state(|state| needs(&playbook, state, now))
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
    // "since Mon 14:05 CET, 12 min ago", in the project's zone, kept
    // current by the server's clock.
    let since = move |at: &str| -> Box<dyn Fn() -> String + Send + Sync> {
        let at_ms = js_sys::Date::parse(at);
        if at_ms.is_nan() {
            return Box::new(String::new);
        }
        let at_ms = at_ms as i64;
        let at = clock_time(at_ms, Some(&zone()));
        Box::new(move || {
            let ago = (clock.now_ms.get() - at_ms) / 1000;
            format!("since {at}, {} ago", span(ago))
        })
    };
    let fixed =
        |text: String| -> Box<dyn Fn() -> String + Send + Sync> { Box::new(move || text.clone()) };
    let tab = move |view: ProjectView, text: &'static str| {
        view! { <Link to=Route::Project { id, view } class="go">{text}</Link> }
    };
    let class = if need.is_alarm() {
        "need alarm"
    } else {
        "need"
    };
    let testid = format!("need-{}", need.kind());
    let (what, detail, act) = match &need {
        Need::Escalation {
            title,
            trigger,
            since: at,
            ..
        } => (
            format!("Happening now: {title}"),
            {
                let (trigger, since) = (trigger.clone(), since(at));
                Box::new(move || format!("{trigger} · {}", since()))
                    as Box<dyn Fn() -> String + Send + Sync>
            },
            tab(ProjectView::Escalate, "Open the procedure").into_any(),
        ),
        Need::Down {
            url,
            detail,
            since: at,
        } => (
            format!("{} is down", host_and_path(url)),
            {
                let (detail, since) = (detail.clone(), since(at));
                Box::new(move || format!("{detail} · {}", since()))
                    as Box<dyn Fn() -> String + Send + Sync>
            },
            tab(ProjectView::Watch, "See the health").into_any(),
        ),
        Need::Checkpoint { hour, due, overdue } => (
            format!(
                "Hour {hour} is {}",
                if *overdue { "overdue" } else { "due now" }
            ),
            fixed(format!("due at {}", clock_time(due * 1000, Some(&zone())))),
            tab(ProjectView::Watch, "Complete it").into_any(),
        ),
        Need::SignOff { due, overdue } => (
            format!(
                "The sign-off is {}",
                if *overdue { "overdue" } else { "due" }
            ),
            fixed(format!("due at {}", clock_time(due * 1000, Some(&zone())))),
            tab(ProjectView::Watch, "Go to the sign-off").into_any(),
        ),
        Need::Handover { hour, from } => {
            let hour = *hour;
            (
                format!("{from} handed the watch over"),
                fixed(format!("hour {hour}: read the shift note on the Watch tab")),
                view! {
                    <button type="button" class="go" disabled=move || !can_write.get()
                        on:click=move |_| run.record(Change::HandoverAcknowledged { hour })
                        data-testid="take-watch">"Take the watch"</button>
                }
                .into_any(),
            )
        }
        Need::Settings { items } => (
            need.sentence().trim_end_matches('.').to_owned(),
            fixed(items.join(" · ")),
            tab(ProjectView::Settings, "Open the settings").into_any(),
        ),
    };
    view! {
        <li class=class data-testid=testid>
            <strong>{what}</strong>
            <span class="detail">{detail}</span>
            {act}
        </li>
    }
}
