//! `POST /api/projects/{id}/checks/{item}` and `POST /api/projects/{id}/checks`:
//! members ask the proxy to verify items against the real services. Each
//! result is appended to the run's log as a `check_result` entry, with who
//! asked, so every open browser sees it live.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use domain::api::Role;
use domain::playbook::Item;
use domain::project::Project;
use serde::Deserialize;

use super::Routes;
use super::projects::find;
use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Json, Path};
use crate::guard::CurrentUser;
use crate::services::{CheckReport, run_all, run_and_record};

pub fn router() -> Routes {
    Routes::new()
        .route("/projects/{id}/checks", post(run_many))
        .route("/projects/{id}/checks/{item}", post(run_one))
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
