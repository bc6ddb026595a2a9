//! `POST /api/projects/{id}/checks/{item}` and `POST /api/projects/{id}/checks`:
//! members ask the proxy to verify items against the real services. Each
//! result is appended to the run's log as a `check_result` entry, with who
//! asked, so every open browser sees it live.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use domain::api::Role;
use domain::keyed::Keyed;
use domain::playbook::Item;
use domain::project::Project;
use domain::run::{Change, CheckStatus, Entry};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::projects::find;
use crate::AppState;
use crate::checks::Outcome;
use crate::error::{Error, Result};
use crate::extract::{Json, Path};
use crate::guard::CurrentUser;

/// Checks of one "check all" that run at once.
const CONCURRENT_CHECKS: usize = 32;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/checks", post(run_many))
        .route("/projects/{id}/checks/{item}", post(run_one))
}

/// A check's result, as the API answers it.
#[derive(Debug, Serialize)]
pub(crate) struct CheckReport {
    item: String,
    check: String,
    status: CheckStatus,
    observed: Keyed<String>,
    message: String,
    at: String,
    duration_ms: u64,
}

impl CheckReport {
    pub(crate) fn from_entry(entry: &Entry) -> Option<Self> {
        match &entry.change {
            Change::CheckResult {
                item,
                check,
                status,
                observed,
                message,
                duration_ms,
            } => Some(CheckReport {
                item: item.clone(),
                check: check.clone(),
                status: *status,
                observed: observed.clone(),
                message: message.clone(),
                at: entry.at.clone(),
                duration_ms: *duration_ms,
            }),
            _ => None,
        }
    }
}

async fn run_one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, item)): Path<(i64, String)>,
) -> Result<Json<CheckReport>> {
    user.require(Role::Member, "running a check")?;
    let project = runnable(&state, id).await?;
    let item = live_item(&state, &item)?;
    Ok(Json(run(&state, &project, &item, &user.name).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Many {
    /// Item ids; empty for every live item of the setup.
    #[serde(default)]
    items: Vec<String>,
}

async fn run_many(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(many): Json<Many>,
) -> Result<Json<Vec<CheckReport>>> {
    user.require(Role::Member, "running checks")?;
    let project = Arc::new(runnable(&state, id).await?);
    let items: Vec<Item> = if many.items.is_empty() {
        state
            .playbook
            .setup
            .iter()
            .flat_map(|section| &section.steps)
            .flat_map(|step| &step.items)
            .filter(|item| item.verify.check().is_some())
            .cloned()
            .collect()
    } else {
        let most = state.playbook.checkable_count();
        if many.items.len() > most {
            return Err(Error::Invalid(format!(
                "ask for at most {most} items at once: the playbook has {most} live checks"
            )));
        }
        // The same item twice is checked (and logged) once.
        let mut seen = std::collections::HashSet::new();
        // An unknown id in the body is content the rules refuse (422), not
        // a missing resource: the project exists.
        many.items
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .map(|id| {
                live_item(&state, id).map_err(|err| match err {
                    Error::NotFound(message) => Error::Invalid(message),
                    other => other,
                })
            })
            .collect::<Result<_>>()?
    };
    let results = run_all(&state, project, items, &user.name).await?;
    let reports = results
        .iter()
        .filter_map(|(_, entry)| CheckReport::from_entry(entry))
        .collect();
    Ok(Json(reports))
}

/// Runs `items`' checks, [`CONCURRENT_CHECKS`] at a time, records each, and
/// answers what each found in the order asked.
pub(crate) async fn run_all(
    state: &AppState,
    project: Arc<Project>,
    items: Vec<Item>,
    actor: &str,
) -> Result<Vec<(Outcome, Entry)>> {
    let slots = Arc::new(Semaphore::new(CONCURRENT_CHECKS));
    let mut running = tokio::task::JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let (state, project, slots, actor) = (
            state.clone(),
            project.clone(),
            slots.clone(),
            actor.to_owned(),
        );
        running.spawn(async move {
            let _slot = slots.acquire().await;
            (index, run_and_record(&state, &project, &item, &actor).await)
        });
    }
    let mut results = Vec::new();
    while let Some(done) = running.join_next().await {
        let (index, result) =
            done.map_err(|err| Error::Internal(format!("a check stopped: {err}")))?;
        results.push((index, result?));
    }
    results.sort_by_key(|(index, _)| *index);
    Ok(results.into_iter().map(|(_, result)| result).collect())
}

pub(super) async fn runnable(state: &AppState, id: i64) -> Result<Project> {
    let project = find(state, id).await?;
    if project.archived {
        return Err(Error::Conflict(format!(
            "“{}” is archived, so its run is read-only; an admin can unarchive it in its settings",
            project.name
        )));
    }
    Ok(project)
}

fn live_item(state: &AppState, id: &str) -> Result<Item> {
    let item = state
        .playbook
        .checkable(id)
        .ok_or_else(|| Error::NotFound(format!("the playbook has no item or target “{id}”")))?;
    if item.verify.check().is_none() {
        return Err(Error::Invalid(format!(
            "“{}” is ticked by hand; it has no live check",
            item.text
        )));
    }
    Ok(item)
}

/// Runs the check and records its result in the log.
async fn run(state: &AppState, project: &Project, item: &Item, actor: &str) -> Result<CheckReport> {
    let (_, entry) = run_and_record(state, project, item, actor).await?;
    CheckReport::from_entry(&entry)
        .ok_or_else(|| Error::Internal("a check result was stored as another kind".to_owned()))
}

/// Runs the check, records its result, and returns what it found (with
/// what it measured, which the entry does not keep) and the entry. A result
/// reused while fresh comes with the entry that recorded it, not a new one.
pub(crate) async fn run_and_record(
    state: &AppState,
    project: &Project,
    item: &Item,
    actor: &str,
) -> Result<(Outcome, Entry)> {
    state
        .checks
        .run(&state.playbook, project, item, |outcome, duration_ms| {
            let change = Change::CheckResult {
                item: item.id.clone(),
                check: item
                    .verify
                    .check()
                    .map(|kind| kind.name())
                    .unwrap_or_default()
                    .to_owned(),
                status: outcome.status,
                observed: outcome.observed.clone(),
                message: outcome.message.clone(),
                duration_ms,
            };
            async move { state.runs.record(project.id, &change, actor).await }
        })
        .await
        .map_err(Error::from)
}
