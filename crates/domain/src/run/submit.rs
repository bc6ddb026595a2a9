//! What a client may add to a log, and the rules an entry must pass first.
//! The proxy checks them before storing; the app uses them to disable what
//! would be refused.

use serde::{Deserialize, Serialize};

use super::Change;
use crate::api::validated_display_name;
use crate::playbook::{Node, Playbook};

/// `POST /api/projects/{id}/log`: `{"op_id","kind","payload"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEntry {
    pub op_id: String,
    #[serde(flatten)]
    pub change: Change,
}

pub const OP_ID_MAX: usize = 64;
pub const TEXT_MAX: usize = 2000;

/// Why a client's operation id cannot be used, if it cannot.
pub fn op_id_problem(op_id: &str) -> Option<String> {
    let valid = !op_id.is_empty()
        && op_id.len() <= OP_ID_MAX
        && op_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    (!valid).then(|| {
        format!("op_id must be 1 to {OP_ID_MAX} letters, digits, -, _, . or :, unique per operation (a UUID does)")
    })
}

/// Why a note's text cannot be stored, if it cannot. The app asks before
/// sending; the proxy asks again as part of [`Change::problem`].
pub fn note_text_problem(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        Some("a note needs some text".to_owned())
    } else if text.chars().count() > TEXT_MAX {
        Some(format!("a note has at most {TEXT_MAX} characters"))
    } else {
        None
    }
}

impl Change {
    /// Why a person may not add this change to a run of `playbook`, if they may not.
    pub fn problem(&self, playbook: &Playbook) -> Option<String> {
        let text_problem = |what: &str, text: &str| {
            (text.chars().count() > TEXT_MAX)
                .then(|| format!("{what} has at most {TEXT_MAX} characters"))
        };
        let manual_item = |id: &str| match playbook.item(id) {
            None => Some(format!("the playbook has no item “{id}”")),
            Some(item) if item.verify.check().is_some() => Some(format!(
                "“{}” is confirmed by its live check, not by hand",
                item.text
            )),
            Some(_) => None,
        };
        match self {
            Change::Ticked { item } | Change::Unticked { item } => manual_item(item),
            Change::Note { text, item } => note_text_problem(text).or_else(|| {
                item.as_ref()
                    .filter(|id| playbook.item(id).is_none())
                    .map(|id| format!("the playbook has no item “{id}”"))
            }),
            Change::MetricRecorded { target, value } => {
                if playbook.target(target).is_none() {
                    Some(format!("the playbook has no target “{target}”"))
                } else if !value.is_finite() {
                    Some("a measurement must be a number".to_owned())
                } else {
                    None
                }
            }
            Change::CheckResult { .. } => Some(
                "check results are recorded by the proxy when it runs a live check: POST /api/projects/{id}/checks/{item}"
                    .to_owned(),
            ),
            Change::ActionTaken { .. } => Some(
                "actions are recorded by the proxy when an admin asks it to act: POST /api/projects/{id}/actions/{action}"
                    .to_owned(),
            ),
            Change::DecisionTaken {
                escalation,
                answers,
                outcome,
                note,
            } => {
                let Some(tree) = playbook.escalations.iter().find(|e| e.id == *escalation) else {
                    return Some(format!("the playbook has no escalation “{escalation}”"));
                };
                match tree.walk(answers).map(|path| path.last().copied()) {
                    Err(err) => Some(format!("the answers do not fit “{}”: {err}", tree.title)),
                    Ok(Some(Node::Outcome { outcome: end, .. })) if end == outcome => {
                        text_problem("a decision note", note)
                    }
                    Ok(_) => Some(format!(
                        "the answers do not lead to “{}” in “{}”",
                        outcome.label(),
                        tree.title
                    )),
                }
            }
            Change::Handover { to, note } => validated_display_name(to)
                .err()
                .or_else(|| text_problem("a handover note", note)),
            // Approving the launch is measured first and is an admin's: a
            // member's hand-written entry must never read "approved".
            Change::SignOff { .. } => Some(
                "an admin signs off with POST /api/projects/{id}/sign-off, which measures the criteria first"
                    .to_owned(),
            ),
            Change::WatchScheduled { .. } => Some(
                "a watch is started with POST /api/projects/{id}/watch, which checks its start"
                    .to_owned(),
            ),
            Change::CheckpointCompleted { hour, note } => {
                if playbook.watch.checkpoints.iter().any(|c| c.hour == *hour) {
                    text_problem("a shift note", note)
                } else {
                    Some(format!("the watch has no checkpoint at hour {hour}"))
                }
            }
            Change::HandoverAcknowledged { hour } => {
                (!playbook.watch.checkpoints.iter().any(|c| c.hour == *hour))
                    .then(|| format!("the watch has no checkpoint at hour {hour}"))
            }
            Change::CriterionWaived { .. } => {
                Some("an admin waives a criterion with POST /api/projects/{id}/sign-off".to_owned())
            }
            Change::Snapshot { .. } => Some(
                "snapshots are taken by the proxy, which measures every target: POST /api/projects/{id}/snapshots"
                    .to_owned(),
            ),
            Change::HealthChanged { .. } | Change::Restarted { .. } => Some(
                "health changes and restarts are recorded by the proxy's sampler, never by hand".to_owned(),
            ),
            Change::ErrorRateChanged { .. } => Some(
                "the error rate's crossings are recorded by the proxy's error watch, never by hand".to_owned(),
            ),
            Change::WatchTakenOver { .. } => Some(
                "a takeover of the watch is recorded by the proxy replica that takes it, never by hand".to_owned(),
            ),
        }
    }
}
