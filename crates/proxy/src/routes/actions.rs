//! `POST /api/projects/{id}/actions/{action}`: an admin asks the proxy to
//! do a piece of the setup (create the Sentry project or the alert rules,
//! set Render's env vars, deploy, post to Slack, send a test event). What it
//! did is appended to the run's log as an `action_taken` entry, so every
//! open browser sees it; a test event's arrival follows in a second entry.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use domain::action::{ActionKind, ActionStatus};
use domain::api::Role;
use domain::keyed::Keyed;
use domain::run::{Change, Entry};
use serde::Serialize;

use super::checks::runnable;
use crate::AppState;
use crate::actions::{Acted, ActionOptions};
use crate::error::{Error, Result};
use crate::extract::{Json, Path};
use crate::guard::CurrentUser;

pub fn router() -> Router<AppState> {
    Router::new().route("/projects/{id}/actions/{action}", post(act))
}

/// What an action did, as the API answers it.
#[derive(Debug, Serialize)]
struct ActionReport {
    action: String,
    status: ActionStatus,
    changed: Keyed<String>,
    message: String,
    by: String,
    at: String,
}

impl ActionReport {
    fn from_entry(entry: &Entry) -> Option<Self> {
        match &entry.change {
            Change::ActionTaken {
                action,
                status,
                changed,
                message,
            } => Some(ActionReport {
                action: action.clone(),
                status: *status,
                changed: changed.clone(),
                message: message.clone(),
                by: entry.actor.clone(),
                at: entry.at.clone(),
            }),
            _ => None,
        }
    }
}

async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(i64, String)>,
    Json(options): Json<ActionOptions>,
) -> Result<Json<ActionReport>> {
    user.require(Role::Admin, "changing Sentry, Render or Slack")?;
    let kind = ActionKind::from_name(&action).ok_or_else(|| {
        let known: Vec<&str> = ActionKind::ALL.iter().map(|kind| kind.name()).collect();
        Error::NotFound(format!(
            "there is no action “{action}”; the actions are: {}",
            known.join(", ")
        ))
    })?;
    let project = runnable(&state, id).await?;
    let running = state.checks.begin(id, kind).ok_or_else(|| {
        Error::Conflict(format!(
            "“{}” is already under way for this project; its result will appear in the timeline",
            kind.label()
        ))
    })?;
    let (acted, on_its_way) = state.checks.act(&project, kind, options, &user.name).await;
    state.checks.forget(id);
    let entry = record(&state, id, kind, acted, &user.name).await?;
    match on_its_way {
        // The wait outlives the request; its place is freed when it ends.
        Some(on_its_way) => {
            let (state, actor) = (state.clone(), user.name.clone());
            tokio::spawn(async move {
                let _running = running;
                let arrived = on_its_way.arrival().await;
                state.checks.forget(id);
                if let Err(err) = record(&state, id, kind, arrived, &actor).await {
                    tracing::error!(%err, "the test event's arrival could not be recorded");
                }
            });
        }
        None => drop(running),
    }
    ActionReport::from_entry(&entry)
        .map(Json)
        .ok_or_else(|| Error::Internal("an action was stored as another kind".to_owned()))
}

async fn record(
    state: &AppState,
    project: i64,
    kind: ActionKind,
    acted: Acted,
    actor: &str,
) -> Result<Entry> {
    tracing::info!(project, action = kind.name(), status = acted.status.name(), %actor, "action");
    let change = Change::ActionTaken {
        action: kind.name().to_owned(),
        status: acted.status,
        changed: acted.changed,
        message: acted.message,
    };
    Ok(state.runs.record(project, &change, actor).await?)
}
