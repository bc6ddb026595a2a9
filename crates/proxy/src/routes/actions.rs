//! `POST /api/projects/{id}/actions/{action}`: an admin asks the proxy to
//! do a piece of the setup (create the Sentry project or the alert rules,
//! set Render's env vars, deploy, post to Slack, send a test event). What it
//! did is appended to the run's log as an `action_taken` entry, so every
//! open browser sees it; a test event's arrival follows in a second entry.

use axum::extract::State;
use axum::routing::get;
use domain::action::{ActionKind, ActionStatus};
use domain::api::{ActionPreview, Role, Snippet};
use domain::keyed::Keyed;
use domain::run::{Change, Entry};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Routes;
use super::checks::runnable;
use crate::AppState;
use crate::actions::{Acted, ActionOptions};
use crate::error::{Error, Result};
use crate::extract::{Format, Json, Path, Reply};
use crate::guard::CurrentUser;
use crate::services::run_and_record;
use crate::watcher::ACTOR;

pub fn router() -> Routes {
    Routes::new()
        .route("/projects/{id}/actions/{action}", get(preview).post(act))
        .route("/projects/{id}/rollback", get(plan).post(rollback))
        .route("/projects/{id}/sdk-snippet", get(snippet))
}

/// How often a rollback's deploy is asked about, at most.
const DEPLOY_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    /// The Render service's name, typed by the admin.
    confirm: String,
    /// The newer deploy in progress the admin has seen and rolls back over.
    #[serde(default)]
    over_deploy: Option<String>,
}

/// `POST /api/projects/{id}/rollback`: rolls the service back to its
/// previous live deploy, then follows the new deploy until it is live or has
/// failed, logs each step, tells Slack, and checks the health endpoint again.
async fn rollback(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<RollbackBody>,
) -> Result<Json<ActionReport>> {
    user.require(Role::Admin, "rolling production back")?;
    let kind = ActionKind::Rollback;
    let project = runnable(&state, id).await?;
    // One rollback at a time per Render service, whichever project asks.
    let running = state
        .services
        .begin_rollback(&project)
        .await?
        .ok_or_else(|| {
            Error::Conflict(
                "a rollback of this service is already under way; it is followed in the timeline"
                    .to_owned(),
            )
        })?;
    let (acted, rolling) = state
        .services
        .rollback(&project, &body.confirm, body.over_deploy.as_deref())
        .await?;
    let entry = record(&state, id, kind, acted, &user.name).await?;
    if let Some(rolling) = rolling {
        let start = format!(
            ":rewind: {}: {} started a rollback on Render (deploy {}).",
            project.name, user.name, rolling.deploy
        );
        state.services.notifier.post(id, &start).await;
        let (state, actor) = (state.clone(), user.name.clone());
        state.clone().spawn(async move {
            let every = state.watcher.interval.min(DEPLOY_POLL);
            let ended = rolling.outcome(every).await;
            let live = ended.status == ActionStatus::Done;
            state.services.forget(id);
            let text = format!(
                "{}: the rollback {}. {}",
                project.name,
                if live { "is live" } else { "failed" },
                ended.message
            );
            if let Err(err) = record(&state, id, kind, ended, &actor).await {
                tracing::error!(%err, "the rollback's end could not be recorded");
            }
            // The rollback is over once its deploy has ended, before the
            // notice and the health check: another may start from here.
            drop(running);
            state.services.notifier.post(id, &text).await;
            if let Some(health) = state.playbook.health_item().cloned()
                && let Err(err) = run_and_record(&state, &project, &health, ACTOR).await
            {
                tracing::error!(%err, "the health check after a rollback could not be recorded");
            }
        });
    }
    ActionReport::from_entry(&entry)
        .map(Json)
        .ok_or_else(|| Error::Internal("a rollback was stored as another kind".to_owned()))
}

/// `GET /api/projects/{id}/rollback`: what a rollback would do now, for
/// the confirmation to show before anyone types: the service's name, the
/// deploy it leaves, the one it returns to, a newer one under way. What
/// cannot be read is the `problem`, in words.
async fn plan(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
    format: Format,
) -> Result<Reply<ActionPreview>> {
    let project = runnable(&state, id).await?;
    let preview = state.services.rollback_preview(&project).await;
    Ok(Reply(format, preview))
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

/// An action of the actions route (a rollback has its own).
fn action_kind(action: &str) -> Result<ActionKind> {
    ActionKind::from_name(action)
        .filter(|kind| *kind != ActionKind::Rollback)
        .ok_or_else(|| {
            let known: Vec<&str> = ActionKind::ALL
                .iter()
                .filter(|kind| **kind != ActionKind::Rollback)
                .map(|kind| kind.name())
                .collect();
            Error::NotFound(format!(
                "there is no action “{action}”; the actions are: {}",
                known.join(", ")
            ))
        })
}

/// `GET /api/projects/{id}/actions/{action}`: what the action would do now,
/// for its confirmation to show; what cannot be read is the `problem`.
async fn preview(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path((id, action)): Path<(i64, String)>,
    format: Format,
) -> Result<Reply<ActionPreview>> {
    let kind = action_kind(&action)?;
    let project = runnable(&state, id).await?;
    let preview = state
        .services
        .preview(&state.playbook, &project, kind)
        .await;
    Ok(Reply(format, preview))
}

/// `GET /api/projects/{id}/sdk-snippet`: the SDK's start-up code, filled in
/// with the project's public DSN, for anyone following the setup.
async fn snippet(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
    format: Format,
) -> Result<Reply<Snippet>> {
    let project = runnable(&state, id).await?;
    let snippet = state.services.snippet(&state.playbook, &project).await;
    Ok(Reply(format, snippet))
}

async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(i64, String)>,
    Json(options): Json<ActionOptions>,
) -> Result<Json<ActionReport>> {
    user.require(Role::Admin, "changing Sentry, Render or Slack")?;
    let kind = action_kind(&action)?;
    let project = runnable(&state, id).await?;
    let running = state.services.begin(id, kind).await?.ok_or_else(|| {
        Error::Conflict(format!(
            "“{}” is already under way for this project; its result will appear in the timeline",
            kind.label()
        ))
    })?;
    let (acted, on_its_way) = state
        .services
        .act(&state.playbook, &project, kind, options, &user.name)
        .await;
    state.services.forget(id);
    let entry = record(&state, id, kind, acted, &user.name).await?;
    match on_its_way {
        // The wait outlives the request; its place is freed when it ends.
        Some(on_its_way) => {
            let (state, actor) = (state.clone(), user.name.clone());
            state.clone().spawn(async move {
                let _running = running;
                let arrived = on_its_way.arrival().await;
                state.services.forget(id);
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
