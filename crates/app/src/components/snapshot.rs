//! The latest snapshot: every routine target judged against its bound, and
//! a button to take one now.

use domain::snapshot::Verdict;
use leptos::prelude::*;

use crate::api;
use crate::components::item::short_time;
use crate::components::use_can_write;
use crate::sync::use_run;

#[component]
pub fn SnapshotPanel() -> impl IntoView {
    let run = use_run();
    let can_write = use_can_write();
    let asking = RwSignal::new(None::<String>);
    let take = move |_| {
        asking.set(Some("Measuring every target…".to_owned()));
        leptos::task::spawn_local(async move {
            let result = api::take_snapshot(run.project()).await;
            let _ = asking.try_set(result.err().map(|err| err.to_string()));
        });
    };
    let latest = move || {
        run.with_state(|state| state.snapshots.last().cloned())
            .map(|snapshot| {
                let when = match snapshot.checkpoint {
                    Some(hour) => format!("At hour {hour}, {}", short_time(&snapshot.at)),
                    None => format!("Taken {}", short_time(&snapshot.at)),
                };
                let rows = snapshot
                    .judgments
                    .iter()
                    .map(|judgment| {
                        let (class, mark) = match judgment.status {
                            Verdict::Passed => ("passed", "On target"),
                            Verdict::Failed => ("failed", "Off target"),
                            Verdict::NotMeasurable => ("not_measurable", "Not measurable"),
                        };
                        view! {
                            <li class=format!("judgment {class}") data-testid=format!("judgment-{}", judgment.target)>
                                <span class=format!("check-status {class}")>{mark}</span>
                                <span class="condition">{judgment.condition()}</span>
                                <small class="measure">{judgment.measure.clone()}</small>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p class="caption" data-testid="snapshot-when">{when}</p>
                    <ul class="judgments">{rows}</ul>
                }
            })
    };
    view! {
        <article class="card snapshot" data-testid="snapshot">
            <header>
                <h3>"Targets"</h3>
                {move || can_write.get().then(|| view! {
                    <button type="button" class="quiet" on:click=take data-testid="take-snapshot">"Take a snapshot now"</button>
                })}
            </header>
            {move || asking.get().map(|text| view! { <p class="checking" role="status">{text}</p> })}
            {move || latest().map_or_else(
                || view! { <p class="muted">"No snapshot yet: Watchpost takes one as each checkpoint falls due."</p> }.into_any(),
                IntoAny::into_any,
            )}
        </article>
    }
}
