//! `/api/projects`: the launches a team keeps watch over, and their settings.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use domain::api::Role;
use domain::project::{Project, ProjectPatch};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Path, Reply};
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
    Path(id): Path<i64>,
) -> Result<Reply<Project>> {
    Ok(Reply(format, find(&state, id).await?))
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    format: Format,
    Path(id): Path<i64>,
    Json(patch): Json<ProjectPatch>,
) -> Result<Reply<Project>> {
    user.require(Role::Admin, "changing a project's settings")?;
    let project = find(&state, id).await?.patched(patch);
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
pub async fn find(state: &AppState, id: i64) -> Result<Project> {
    state
        .store
        .project(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no project {id}")))
}

fn validate(project: &Project) -> Result<()> {
    let problems = project.problems(|name| jiff::tz::db().get(name).is_ok());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidFields(problems))
    }
}
