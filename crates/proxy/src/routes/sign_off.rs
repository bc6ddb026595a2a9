//! The 24-hour sign-off, measured: `GET /api/projects/{id}/sign-off` judges
//! each success criterion from what the watch recorded (as JSON, the app's
//! binary form, a Markdown report, or a page to print); `POST` it (admins)
//! to waive what cannot be measured, with a reason, and to sign off when
//! nothing blocks.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::api::Role;
use domain::errors::{hourly_errors, hourly_rates};
use domain::health::Stats;
use domain::project::Project;
use domain::run::{Change, RunState};
use domain::signoff::{
    self, Closed, Refused, RunHealth, SignOffReport, closed, evaluate_in, markdown,
};
use serde::Deserialize;

use super::Routes;
use super::checks::runnable;
use super::projects::find;
use super::watch::health_report;
use crate::AppState;
use crate::clock::local_date_time;
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Path, Query};
use crate::guard::CurrentUser;
use crate::report::{self as page, LaunchReport};

pub fn router() -> Routes {
    Routes::new().route("/projects/{id}/sign-off", get(show).post(sign_off))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShowQuery {
    /// `markdown` for the report as a file, `html` for a page to print.
    #[serde(default)]
    format: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ShowQuery>,
    format: Format,
) -> Result<Response> {
    let project = find(&state, id).await?;
    let run = state.runs.state(project.id).await?;
    let report = report(&state, &project, &run).await?;
    match query.format.as_deref() {
        None => Ok(format.reply(&report)),
        Some("markdown") => Ok((
            [
                (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"sign-off.md\"",
                ),
            ],
            markdown(&project.name, &report, &run, &|at| {
                local_date_time(at, &project.timezone)
            }),
        )
            .into_response()),
        Some("html") => Ok((
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    page::CONTENT_SECURITY_POLICY.as_str(),
                ),
            ],
            printable(&state, &project, &run, &report).await?,
        )
            .into_response()),
        Some(other) => Err(Error::Invalid(format!(
            "format “{other}” is not markdown or html; leave it out for JSON"
        ))),
    }
}

/// The report as a page to print: with the charts and the timeline.
async fn printable(
    state: &AppState,
    project: &Project,
    run: &RunState,
    sign_off: &SignOffReport,
) -> Result<String> {
    // The watch's whole run, or the last day before one starts.
    let window = if run.watch.is_some() { "run" } else { "24h" };
    let health = health_report(state, project, run, window).await?;
    let mut timeline = Vec::new();
    state
        .store
        .each_entry(project.id, 0, |entry| timeline.push(entry))
        .await?;
    Ok(page::html(&LaunchReport {
        project,
        playbook: &state.playbook,
        run,
        sign_off,
        health: &health,
        timeline: &timeline,
        generated_at: state.clock().now(),
    }))
}

/// Every criterion judged now.
async fn report(state: &AppState, project: &Project, run: &RunState) -> Result<SignOffReport> {
    Ok(evaluate_in(
        &state.playbook,
        run,
        &run_health(state, project, run).await?,
        &|at| local_date_time(at, &project.timezone),
    ))
}

/// What the sampler and the error watch measured since the watch's start.
async fn run_health(state: &AppState, project: &Project, run: &RunState) -> Result<RunHealth> {
    let Some(watch) = &run.watch else {
        return Ok(RunHealth::default());
    };
    let samples = state
        .store
        .samples(
            project.id,
            watch.schedule.start * 1000,
            state.clock().now_ms(),
        )
        .await?;
    let stats = Stats::of(samples.iter().map(|(_, sample)| sample));
    let downs = state
        .store
        .entries_of_kinds(project.id, &["health_changed"])
        .await?
        .iter()
        .filter(|entry| matches!(entry.change, Change::HealthChanged { up: false, .. }))
        .count();
    let points = state
        .store
        .error_points(project.id, watch.schedule.start, state.clock().now())
        .await?;
    Ok(RunHealth {
        samples: stats.samples,
        uptime_percent: stats.uptime_percent,
        downs,
        error_hours: hourly_rates(&points),
        errors_per_hour: hourly_errors(&points),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignOff {
    /// Criterion id → why it is accepted without being measured.
    #[serde(default)]
    waivers: BTreeMap<String, String>,
    #[serde(default)]
    note: String,
}

async fn sign_off(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    format: Format,
    Json(body): Json<SignOff>,
) -> Result<Response> {
    user.require(Role::Admin, "signing off the launch")?;
    let project = runnable(&state, id).await?;
    // Two admins signing off at once, on any replica, must not both find it open.
    let _one_at_a_time = state.sign_offs.lock().await;
    let _across = state.store.lock(&format!("sign-off {id}")).await?;
    let run = state.runs.state(project.id).await?;
    match closed(&state.playbook, &run, state.clock().now()) {
        Some(Closed::AlreadySigned) => {
            return Err(Error::Conflict(
                "the launch is already signed off".to_owned(),
            ));
        }
        Some(Closed::NotStarted) => {
            return Err(Error::Conflict(
                "start the watch first: the sign-off ends it".to_owned(),
            ));
        }
        Some(Closed::Until(due)) => {
            return Err(Error::Conflict(format!(
                "the sign-off opens at {}; the criteria are measured until then",
                local_date_time(&crate::clock::rfc3339(due), &project.timezone)
            )));
        }
        None => {}
    }
    let health = run_health(&state, &project, &run).await?;
    let in_zone = |at: &str| local_date_time(at, &project.timezone);
    let at = state.clock().now_rfc3339();
    let changes = signoff::sign_off(
        &state.playbook,
        &run,
        &health,
        &in_zone,
        body.waivers,
        body.note,
        (&user.name, &at),
    )
    .map_err(|refused| match refused {
        Refused::Invalid(why) => Error::Invalid(why),
        Refused::Blocked(why) => Error::Conflict(why),
    })?;
    state
        .runs
        .record_together(project.id, &changes, &user.name)
        .await?;
    let run = state.runs.state(project.id).await?;
    Ok(format.reply(&report(&state, &project, &run).await?))
}
