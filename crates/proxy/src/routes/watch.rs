//! The 24-hour watch: `POST/GET /api/projects/{id}/watch` (its schedule),
//! `POST /api/projects/{id}/snapshots` (every target judged now) and
//! `GET /api/projects/{id}/health?window=` (the sampler's figures).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use domain::api::Role;
use domain::chart::{Chart, ErrorHours};
use domain::health::{
    Report, Sample, Stats, TransitionReport, UrlReport, downsample, failing_since,
};
use domain::project::Project;
use domain::run::{Change, RunState};
use domain::watch::{CheckpointState, Glance, Schedule, glance, is_running};
use serde::{Deserialize, Serialize};

use super::Routes;
use super::checks::runnable;
use super::projects::find;
use crate::AppState;
use crate::charts::Charts;
use crate::clock::{rfc3339, unix_seconds};
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Path, Query, Reply};
use crate::guard::CurrentUser;
use crate::services::{SnapshotReport, take_snapshot};

/// Points per URL in a chart.
const CHART_POINTS: usize = 288;

pub fn router() -> Routes {
    Routes::new()
        .route("/projects/{id}/watch", get(show).post(start))
        .route("/projects/{id}/snapshots", post(snapshot))
        .route("/projects/{id}/health", get(health))
        .route("/projects/{id}/errors", get(errors))
        .route("/watches", get(watches))
}

/// Sentry's accepted errors per hour over the window, for the chart.
async fn errors(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<WindowQuery>,
    format: Format,
) -> Result<Reply<ErrorHours>> {
    let project = find(&state, id).await?;
    let run = state.runs.state(project.id).await?;
    let window = query.window.as_deref().unwrap_or("24h");
    Ok(Reply(
        format,
        error_hours(&state, &project, &run, window).await?,
    ))
}

/// Sentry's accepted errors per hour over `window`.
async fn error_hours(
    state: &AppState,
    project: &Project,
    run: &RunState,
    window: &str,
) -> Result<ErrorHours> {
    let now = state.clock().now_ms();
    let from = window_start(window, run, now)?;
    // Whole hours back to the window's start; a watch runs two days at most.
    let hours = u32::try_from((now - from).div_euclid(3_600_000) + 1)
        .unwrap_or(1)
        .clamp(1, 48);
    let mut errors = state.services.error_hours(project, hours).await;
    if errors.problem.is_none() {
        errors.chart =
            Charts::of_hours(&state.playbook, &project.timezone, run, &errors.hours, now)
                .errors(&errors.hours);
    }
    Ok(errors)
}

/// Every open project's watch at a glance, for the project list.
async fn watches(
    State(state): State<AppState>,
    _user: CurrentUser,
    format: Format,
) -> Result<Reply<Vec<Glance>>> {
    let now = state.clock().now();
    let mut glances = Vec::new();
    for project in state.store.projects().await? {
        if project.archived {
            continue;
        }
        let run = state.runs.state(project.id).await?;
        glances.push(glance(&state.playbook, &project, &run, now));
    }
    Ok(Reply(format, glances))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    /// RFC 3339; now when absent.
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    grace_minutes: Option<u32>,
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<Start>,
) -> Result<(StatusCode, Json<WatchView>)> {
    user.require(Role::Member, "starting the watch")?;
    let project = runnable(&state, id).await?;
    let now = state.clock().now();
    let start = match body.start.as_deref() {
        None => now,
        Some(text) => unix_seconds(text).ok_or_else(|| {
            Error::Invalid(format!(
                "start “{text}” is not a time in RFC 3339, such as 2026-11-23T14:00:00Z"
            ))
        })?,
    };
    let change = domain::watch::schedule(start, body.grace_minutes, now).map_err(Error::Invalid)?;
    state.runs.record(project.id, &change, &user.name).await?;
    let run = state.runs.state(project.id).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &project, &run))))
}

/// The schedule as the API answers it.
#[derive(Debug, Serialize)]
struct WatchView {
    started: bool,
    /// Whether the proxy is sampling and scheduling snapshots now.
    running: bool,
    start: Option<String>,
    grace_seconds: Option<i64>,
    started_by: Option<String>,
    on_watch: Option<String>,
    timezone: String,
    /// The server's clock (Unix ms), and how much faster than real time it
    /// runs (1 but in tests): the app's countdowns follow it.
    now_ms: i64,
    clock_speed: u32,
    sample_interval_seconds: u64,
    checkpoints: Vec<CheckpointView>,
    /// The earliest checkpoint not done.
    next: Option<u32>,
}

#[derive(Debug, Serialize)]
struct CheckpointView {
    hour: u32,
    title: String,
    sign_off: bool,
    due_at: Option<String>,
    /// `not_started`, `upcoming`, `due`, `overdue` or `done`.
    state: &'static str,
    /// "in 3 h 05 min", "overdue by 20 min", "done by Ana at 03:49 UTC".
    describe: String,
    completed_by: Option<String>,
    completed_at: Option<String>,
    note: Option<String>,
}

fn view(state: &AppState, project: &Project, run: &RunState) -> WatchView {
    let clock = state.clock();
    let now = clock.now();
    let schedule: Option<Schedule> = run.watch.as_ref().map(|watch| watch.schedule);
    let checkpoints = &state.playbook.watch.checkpoints;
    let views = checkpoints
        .iter()
        .map(|checkpoint| {
            let done = run.completion(checkpoint.hour);
            let status = schedule.map(|schedule| schedule.state(checkpoint, done, now));
            CheckpointView {
                hour: checkpoint.hour,
                title: checkpoint.title.clone(),
                sign_off: checkpoint.sign_off,
                due_at: schedule.map(|schedule| rfc3339(schedule.due_at(checkpoint))),
                state: status.as_ref().map_or("not_started", CheckpointState::name),
                describe: status
                    .as_ref()
                    .map_or_else(|| "not started".to_owned(), CheckpointState::describe),
                completed_by: done.map(|done| done.by.clone()),
                completed_at: done.map(|done| done.at.clone()),
                note: done.map(|done| done.note.clone()),
            }
        })
        .collect();
    let next = schedule
        .and_then(|schedule| {
            schedule.next(checkpoints, |checkpoint| {
                run.completion(checkpoint.hour).is_some()
            })
        })
        .map(|checkpoint| checkpoint.hour);
    WatchView {
        started: schedule.is_some(),
        running: is_running(&state.playbook, run, now),
        start: schedule.map(|schedule| rfc3339(schedule.start)),
        grace_seconds: schedule.map(|schedule| schedule.grace_seconds),
        started_by: run.watch.as_ref().map(|watch| watch.by.clone()),
        on_watch: run.on_watch.clone(),
        timezone: project.timezone.clone(),
        now_ms: clock.now_ms(),
        clock_speed: clock.speed(),
        sample_interval_seconds: state.watcher.interval.as_secs(),
        checkpoints: views,
        next,
    }
}

async fn show(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<WatchView>> {
    let project = find(&state, id).await?;
    let run = state.runs.state(project.id).await?;
    Ok(Json(view(&state, &project, &run)))
}

async fn snapshot(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<SnapshotReport>> {
    user.require(Role::Member, "taking a snapshot")?;
    let project = runnable(&state, id).await?;
    Ok(Json(
        take_snapshot(&state, &project, None, &user.name).await?,
    ))
}

/// When `window` (`1h`, `24h` or `run`, the watch's whole run) starts,
/// in Unix ms, ending at `now`.
fn window_start(window: &str, run: &RunState, now: i64) -> Result<i64> {
    match window {
        "1h" => Ok(now - 3_600_000),
        "24h" => Ok(now - 24 * 3_600_000),
        "run" => run
            .watch
            .as_ref()
            .map(|watch| watch.schedule.start * 1000)
            .ok_or_else(|| Error::NotFound("no watch has started for this project".to_owned())),
        other => Err(Error::Invalid(format!(
            "window “{other}” is not one of 1h, 24h, run"
        ))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowQuery {
    #[serde(default)]
    window: Option<String>,
}

async fn health(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<WindowQuery>,
    format: Format,
) -> Result<Reply<Report>> {
    let project = find(&state, id).await?;
    let run = state.runs.state(project.id).await?;
    let window = query.window.as_deref().unwrap_or("1h");
    Ok(Reply(
        format,
        health_report(&state, &project, &run, window).await?,
    ))
}

/// The sampler's figures for `project` over `window`.
pub(super) async fn health_report(
    state: &AppState,
    project: &Project,
    run: &RunState,
    window: &str,
) -> Result<Report> {
    let to = state.clock().now_ms();
    let from = window_start(window, run, to)?;
    let samples = state.store.samples(project.id, from, to).await?;
    let charts = Charts::new(&state.playbook, &project.timezone, run, from, to);
    let sampling = is_running(&state.playbook, run, to.div_euclid(1000))
        .then(|| state.watcher.interval.as_secs());
    let overall = Stats::of(samples.iter().map(|(_, sample)| sample));
    let mut urls: Vec<UrlReport> = project
        .health_urls
        .iter()
        .map(|url| {
            let mine: Vec<Sample> = samples
                .iter()
                .filter(|(of, _)| of == url)
                .map(|(_, sample)| sample.clone())
                .collect();
            let known = run.health.get(url);
            let state = match (known, mine.last()) {
                (Some(known), _) if !known.up => "down",
                (Some(_), _) | (None, Some(_)) => "up",
                (None, None) => "unknown",
            };
            UrlReport {
                url: url.clone(),
                state: state.to_owned(),
                since: known.map(|known| rfc3339(known.since.div_euclid(1000))),
                stats: Stats::of(&mine),
                failing_since: failing_since(&mine),
                points: downsample(&mine, from, to, CHART_POINTS),
                chart: Chart::default(),
            }
        })
        .collect();
    urls.sort_by(|a, b| a.url.cmp(&b.url));
    for url in &mut urls {
        url.chart = charts.latency(&url.url, &url.points, sampling);
    }
    let from_text = rfc3339(from.div_euclid(1000));
    let transitions = state
        .store
        .entries_of_kinds(project.id, &["health_changed", "restarted"])
        .await?
        .into_iter()
        .filter(|entry| entry.at >= from_text)
        .filter_map(|entry| match entry.change {
            Change::HealthChanged {
                url, up, detail, ..
            } => Some(TransitionReport {
                url,
                kind: if up { "up" } else { "down" }.to_owned(),
                at: entry.at,
                detail,
            }),
            Change::Restarted {
                url,
                uptime_before,
                uptime_after,
            } => Some(TransitionReport {
                url,
                kind: "restarted".to_owned(),
                at: entry.at,
                detail: format!("uptime {uptime_before} s → {uptime_after} s"),
            }),
            _ => None,
        })
        .collect();
    // Errors over the run, or the last day before it: never one hour only.
    let errors_window = if window == "run" { "run" } else { "24h" };
    let errors = match error_hours(state, project, run, errors_window).await? {
        ErrorHours {
            problem: Some(problem),
            ..
        } => Chart {
            svg: String::new(),
            caption: problem,
        },
        counted => counted.chart,
    };
    let points = state
        .store
        .error_points(project.id, from.div_euclid(1000), to.div_euclid(1000))
        .await?;
    let failures = charts.failures(&points);
    let memory = charts.memory(&state.services.memory_readings(project, (from, to)).await);
    let clock = state.clock();
    Ok(Report {
        window: window.to_owned(),
        from: from_text,
        to: rfc3339(to.div_euclid(1000)),
        from_ms: from,
        now_ms: to,
        clock_speed: clock.speed(),
        sample_interval_seconds: state.watcher.interval.as_secs(),
        overall,
        urls,
        transitions,
        errors,
        failures,
        memory,
    })
}
