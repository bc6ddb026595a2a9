//! `/api/projects`: the launches a team keeps watch over, and their settings.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::api::Role;
use domain::project::{Project, ProjectPatch};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Routes;
use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Path, Reply};
use crate::guard::CurrentUser;
use crate::secret::Secret;

pub fn router() -> Routes {
    Routes::new()
        .route("/projects", get(list).post(create))
        .route("/projects/changes", get(changes))
        .route("/projects/{id}", get(show).patch(update))
}

async fn list(State(state): State<AppState>, format: Format) -> Result<Reply<Vec<Project>>> {
    Ok(Reply(format, state.store.projects().await?))
}

/// Server-Sent Events: a `projects` event when the stream opens and after
/// each change to any project (created, renamed, archived, its settings), so
/// an open list reads `GET /api/projects` again, also after a reconnection.
/// Changes close together are one event. The stream ends with the session.
async fn changes(State(state): State<AppState>, user: CurrentUser) -> Result<Response> {
    let ticket = state.sessions.open_stream(&user.session)?;
    let mut changed = state.store.watch_projects();
    changed.mark_changed();
    let session_left = user.session_left(state.clock());
    let (sender, receiver) = mpsc::channel::<Result<Event, Infallible>>(1);
    tokio::spawn(async move {
        let relay = async {
            while changed.changed().await.is_ok() {
                let count = *changed.borrow_and_update();
                let event = Event::default().event("projects").data(count.to_string());
                if sender.send(Ok(event)).await.is_err() {
                    break;
                }
            }
        };
        tokio::select! {
            () = relay => {},
            () = sender.closed() => {},
            () = ticket.ended.cancelled() => {},
            () = tokio::time::sleep(session_left) => {},
        }
    });
    Ok(Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::default())
        .into_response())
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    format: Format,
    Json(patch): Json<ProjectPatch>,
) -> Result<(StatusCode, Reply<Project>)> {
    user.require(Role::Admin, "creating a project")?;
    let project = Project::blank(0).patched(patch.clone());
    validate(&project, &patch)?;
    let project = state.store.create_project(&project).await?;
    if let Some(url) = database_url(&patch) {
        state
            .store
            .save_project(&project, Some(url.as_ref()))
            .await?;
    }
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
    let project = find(&state, id).await?.patched(patch.clone());
    validate(&project, &patch)?;
    let url = database_url(&patch);
    state
        .store
        .save_project(&project, url.as_ref().map(Option::as_ref))
        .await?;
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

/// The patch's connection string, trimmed, as the store keeps it: absent,
/// unchanged; `Some(None)`, forgotten.
fn database_url(patch: &ProjectPatch) -> Option<Option<Secret>> {
    patch.database_url.as_ref().map(|url| {
        url.as_ref()
            .map(|url| url.expose().trim())
            .filter(|url| !url.is_empty())
            .map(Secret::new)
    })
}

fn validate(project: &Project, patch: &ProjectPatch) -> Result<()> {
    let mut problems = project.problems(|name| jiff::tz::db().get(name).is_ok());
    problems.extend(patch.problems());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidFields(problems))
    }
}
