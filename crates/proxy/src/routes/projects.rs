//! `/api/projects`: the launches a team keeps watch over, and their settings.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use domain::api::Role;
use domain::project::{Project, ProjectPatch};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Reply};
use crate::guard::CurrentUser;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{id}", get(show).patch(update))
}

async fn list(State(state): State<AppState>, format: Format) -> Result<Reply<Vec<Project>>> {
    Ok(Reply(format, state.store.projects().await?))
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    format: Format,
    Json(patch): Json<ProjectPatch>,
) -> Result<(StatusCode, Reply<Project>)> {
    user.require(Role::Admin, "creating a project")?;
    let project = Project::blank(0).patched(patch);
    validate(&project)?;
    let project = state.store.create_project(&project).await?;
    tracing::info!(project = project.id, by = user.name, "project created");
    Ok((StatusCode::CREATED, Reply(format, project)))
}

async fn show(
    State(state): State<AppState>,
    format: Format,
    Path(id): Path<String>,
) -> Result<Reply<Project>> {
    Ok(Reply(format, find(&state, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    format: Format,
    Path(id): Path<String>,
    Json(patch): Json<ProjectPatch>,
) -> Result<Reply<Project>> {
    user.require(Role::Admin, "changing a project's settings")?;
    let project = find(&state, &id).await?.patched(patch);
    validate(&project)?;
    state.store.update_project(&project).await?;
    tracing::info!(
        project = project.id,
        by = user.name,
        "project settings changed"
    );
    Ok(Reply(format, project))
}

/// The project named by a path segment, or 404.
pub async fn find(state: &AppState, id: &str) -> Result<Project> {
    let missing = || Error::NotFound(format!("there is no project {id}"));
    let number: i64 = id.parse().map_err(|_| missing())?;
    state.store.project(number).await?.ok_or_else(missing)
}

fn validate(project: &Project) -> Result<()> {
    let problems = project.problems(|name| jiff::tz::db().get(name).is_ok());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidFields(problems))
    }
}
