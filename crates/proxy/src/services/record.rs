//! What a route or the watcher asks of the services beyond reading the
//! store, run and recorded the same way for both. A check's
//! result goes into the run's log as a `check_result` entry by whoever
//! asked (a person, or the watcher as "Watchpost"); a snapshot judges every
//! target from those results and is logged as one `snapshot` entry. Routes
//! and the watcher call these; neither calls the other.

use std::sync::Arc;

use domain::keyed::Keyed;
use domain::playbook::{Checkpoint, Item};
use domain::project::Project;
use domain::run::{Change, CheckStatus, Entry};
use domain::snapshot::{Judgment, judge};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::Outcome;
use crate::AppState;
use crate::error::{Error, Result};

/// Checks of one "check all" that run at once.
const CONCURRENT_CHECKS: usize = 32;

/// A check's result, as the API answers it.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    item: String,
    check: String,
    status: CheckStatus,
    observed: Keyed<String>,
    message: String,
    at: String,
    duration_ms: u64,
}

impl CheckReport {
    pub fn from_entry(entry: &Entry) -> Option<Self> {
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

/// Runs `items`' checks, [`CONCURRENT_CHECKS`] at a time, records each, and
/// answers what each found in the order asked.
pub async fn run_all(
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

/// The entry that records `item`'s check result.
pub(crate) fn check_result(item: &Item, outcome: &Outcome, duration_ms: u64) -> Change {
    Change::CheckResult {
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
    }
}

/// Runs the check, records its result, and returns what it found (with
/// what it measured, which the entry does not keep) and the entry. A result
/// reused while fresh comes with the entry that recorded it, not a new one.
pub async fn run_and_record(
    state: &AppState,
    project: &Project,
    item: &Item,
    actor: &str,
) -> Result<(Outcome, Entry)> {
    state
        .services
        .run(&state.playbook, project, item, |outcome, duration_ms| {
            let change = check_result(item, outcome, duration_ms);
            async move { state.runs.record(project.id, &change, actor).await }
        })
        .await
        .map_err(Error::from)
}

/// A snapshot as the API answers it.
#[derive(Debug, Serialize)]
pub struct SnapshotReport {
    pub(crate) checkpoint: Option<u32>,
    pub(crate) at: String,
    pub(crate) targets: Vec<TargetReport>,
    /// The checkpoint's and the routine's live checks, run with it.
    pub(crate) checks: Vec<CheckReport>,
}

#[derive(Debug, Serialize)]
pub struct TargetReport {
    #[serde(flatten)]
    pub judgment: Judgment,
    /// `Error rate 0.4% < 1%`.
    pub condition: String,
}

/// Runs every live check of the routine (and of the checkpoint at `hour`),
/// judges every target, and logs each result and the snapshot.
pub async fn take_snapshot(
    state: &AppState,
    project: &Project,
    hour: Option<u32>,
    actor: &str,
) -> Result<SnapshotReport> {
    let playbook = &state.playbook;
    let checkpoint: Option<&Checkpoint> =
        hour.and_then(|hour| playbook.watch.checkpoints.iter().find(|c| c.hour == hour));
    let routine = &playbook.watch.routine;
    let items: Vec<Item> = checkpoint
        .into_iter()
        .flat_map(|checkpoint| &checkpoint.items)
        .chain(routine.iter().flat_map(|check| &check.items))
        .filter(|item| item.verify.check().is_some())
        .cloned()
        .collect();
    let targets: Vec<Item> = routine
        .iter()
        .flat_map(|check| &check.targets)
        .filter_map(|target| playbook.checkable(&target.id))
        .filter(|item| item.verify.check().is_some())
        .collect();
    let target_count = targets.len();
    let items = targets.into_iter().chain(items).collect();
    let results = run_all(state, Arc::new(project.clone()), items, actor).await?;
    let mut judgments = Vec::new();
    let mut checks = Vec::new();
    for (index, (outcome, entry)) in results.into_iter().enumerate() {
        if index < target_count {
            let Change::CheckResult { item, .. } = &entry.change else {
                continue;
            };
            if let Some(target) = playbook.target(item) {
                let why_not = &outcome.message;
                judgments.push(judge(playbook, target, outcome.measure.as_ref(), why_not));
            }
        } else {
            checks.extend(CheckReport::from_entry(&entry));
        }
    }
    let change = Change::Snapshot {
        checkpoint: hour,
        judgments,
    };
    let entry: Entry = state.runs.record(project.id, &change, actor).await?;
    let Change::Snapshot { judgments, .. } = entry.change else {
        return Err(Error::Internal(
            "a snapshot was stored as another kind".into(),
        ));
    };
    Ok(SnapshotReport {
        checkpoint: hour,
        at: entry.at,
        targets: judgments
            .into_iter()
            .map(|judgment| TargetReport {
                condition: judgment.condition(),
                judgment,
            })
            .collect(),
        checks,
    })
}
