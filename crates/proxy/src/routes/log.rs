//! A project's run: its append-only log, the state folded from it, the live
//! stream of new entries, and the timeline export.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::api::Role;
use domain::run::{Entry, EntryFilter, KINDS, NewEntry, RunState, markdown, op_id_problem};
use serde::Deserialize;

use super::Routes;
use super::projects::find;
use crate::AppState;
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Path, Query, Reply};
use crate::guard::CurrentUser;
use crate::live::{self, StreamFormat};

/// Entries per `GET .../log` answer; page on with `after=<the last id>`.
const LOG_LIMIT: u32 = 10_000;

pub fn router() -> Routes {
    Routes::new()
        .route("/projects/{id}/log", get(read).post(append))
        .route("/projects/{id}/state", get(state))
        .route("/projects/{id}/stream", get(stream))
        .route("/projects/{id}/export", get(export))
}

async fn append(
    State(state): State<AppState>,
    user: CurrentUser,
    format: Format,
    Path(id): Path<i64>,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<(StatusCode, Reply<Entry>)> {
    user.require(Role::Member, "changing the run")?;
    let new = new_entry(body)?;
    let project = find(&state, id).await?;
    if let Some(problem) = op_id_problem(&new.op_id) {
        return Err(Error::Invalid(problem));
    }
    if let Some(problem) = new.change.problem(&state.playbook) {
        return Err(Error::Invalid(problem));
    }
    if project.archived {
        return Err(Error::Conflict(format!(
            "“{}” is archived, so its run is read-only; an admin can unarchive it in its settings",
            project.name
        )));
    }
    let run = state.runs.state(project.id).await?;
    if let Some(problem) = run.refuses(&state.playbook, &new.change) {
        return Err(Error::Conflict(problem));
    }
    let (entry, created) = state
        .runs
        .append(project.id, &new.op_id, &new.change, &user.name)
        .await?;
    if created {
        return Ok((StatusCode::CREATED, Reply(format, entry)));
    }
    if entry.change != new.change {
        return Err(Error::Conflict(format!(
            "op_id {} was already used for another change (entry {}); use a new op_id for each operation",
            new.op_id, entry.id
        )));
    }
    // A retry of an operation already stored: the same answer, not a second entry.
    Ok((StatusCode::OK, Reply(format, entry)))
}

/// The body of an append: exactly `op_id`, `kind` and `payload`. (Serde
/// cannot refuse unknown fields beside a flattened enum, and an `actor` that
/// is silently ignored would look like it worked.)
fn new_entry(body: serde_json::Map<String, serde_json::Value>) -> Result<NewEntry> {
    if let Some(unknown) = body
        .keys()
        .find(|key| !["op_id", "kind", "payload"].contains(&key.as_str()))
    {
        return Err(Error::bad_request(format!(
            "an entry has op_id, kind and payload, not `{unknown}`; who and when come from the session and the server"
        )));
    }
    serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|err| Error::bad_request(format!("the entry cannot be read: {err}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<LogQuery>,
) -> Result<Json<Vec<Entry>>> {
    let project = find(&state, id).await?;
    let after = entry_id(query.after)?;
    let limit = query.limit.unwrap_or(LOG_LIMIT);
    if !(1..=LOG_LIMIT).contains(&limit) {
        return Err(Error::bad_request(format!(
            "limit must be 1 to {LOG_LIMIT}"
        )));
    }
    Ok(Json(state.store.entries(project.id, after, limit).await?))
}

async fn state(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<RunState>> {
    let project = find(&state, id).await?;
    Ok(Json(state.runs.state(project.id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamQuery {
    after: Option<u64>,
    #[serde(default)]
    format: StreamFormat,
}

/// Server-Sent Events: first the entries after the client's last one
/// (`Last-Event-ID`, or `?after=` for a first connection), then each new entry
/// as it is stored. Each event's `id` is the entry id. The stream ends when the
/// session does, so a signed-out browser stops receiving.
async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let project = find(&state, id).await?;
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| Error::bad_request("Last-Event-ID must be an entry id"))
        })
        .transpose()?;
    let after = entry_id(last_event_id.or(query.after).unwrap_or(0))?;
    let ticket = state.sessions.open_stream(&user.session)?;
    // Subscribed before the backlog is read, so nothing falls between the two.
    let live = state.runs.subscribe(project.id).await?;
    Ok(live::response(
        state.store.clone(),
        project.id,
        after,
        live,
        query.format,
        ticket,
        user.session_left(state.clock()),
    ))
}

/// An entry id from a client: ids are SQLite rowids, so at most `i64::MAX`.
fn entry_id(after: u64) -> Result<u64> {
    if i64::try_from(after).is_ok() {
        Ok(after)
    } else {
        Err(Error::bad_request(format!(
            "after must be an entry id from 0 to {}",
            i64::MAX
        )))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    #[serde(default)]
    format: ExportFormat,
    kind: Option<String>,
    actor: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ExportFormat {
    #[default]
    Json,
    Markdown,
}

/// The timeline, filtered by kind and person, as a file to keep with the launch report.
async fn export(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let project = find(&state, id).await?;
    if let Some(kind) = &query.kind
        && !KINDS.iter().any(|(name, _)| name == kind)
    {
        let names: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
        return Err(Error::Invalid(format!(
            "there is no entry kind “{kind}”; the kinds are {}",
            names.join(", ")
        )));
    }
    let filter = EntryFilter {
        kind: query.kind,
        actor: query.actor,
    };
    let mut entries = Vec::new();
    state
        .store
        .each_entry(project.id, 0, |entry| {
            if filter.matches(&entry) {
                entries.push(entry);
            }
        })
        .await?;
    let (body, content_type, extension) = match query.format {
        ExportFormat::Json => (
            serde_json::to_string_pretty(&entries)
                .map_err(|err| Error::Internal(err.to_string()))?,
            "application/json",
            "json",
        ),
        ExportFormat::Markdown => (
            markdown(&project.name, &entries, &state.playbook),
            "text/markdown; charset=utf-8",
            "md",
        ),
    };
    let disposition = format!(
        "attachment; filename=\"watchpost-project-{}-timeline.{extension}\"",
        project.id
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
