//! `/api/projects`: the launches a team keeps watch over.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use domain::api::{NewProject, Project};

use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::Json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{id}", get(show))
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Project>>> {
    Ok(Json(state.store.projects().await?))
}

async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewProject>,
) -> Result<(StatusCode, Json<Project>)> {
    let name = new.validated_name().map_err(Error::Invalid)?;
    let project = state.store.create_project(&name).await?;
    tracing::info!(project = project.id, "project created");
    Ok((StatusCode::CREATED, Json(project)))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Project>> {
    let missing = || Error::NotFound(format!("there is no project {id}"));
    let number: i64 = id.parse().map_err(|_| missing())?;
    state
        .store
        .project(number)
        .await?
        .map(Json)
        .ok_or_else(missing)
}
