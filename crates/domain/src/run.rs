//! The run: what a team has done so far, as a log of entries folded into a state.
//!
//! The log is the truth; the state is derived from it by a pure fold, so every
//! copy of the log (the proxy's, each browser's) agrees on the state. Entries
//! are ordered by their server-assigned id; when two people change the same
//! thing at once, both entries stay in the log and the later id wins.

mod export;
mod submit;

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

pub(crate) use export::cell;
pub use export::{EntryFilter, KINDS, actors, markdown};
pub use submit::{NewEntry, OP_ID_MAX, TEXT_MAX, note_text_problem, op_id_problem};

use crate::action::ActionKind;
pub use crate::action::ActionStatus;
use crate::keyed::Keyed;
use crate::playbook::{Decimal, Outcome, Playbook};
use crate::snapshot::{Judgment, Verdict};
use crate::watch::{Completion, Schedule, span};

/// One thing someone did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Entry {
    /// Position in the log, assigned by the server, increasing.
    pub id: u64,
    /// Chosen by the client; the same operation sent twice is stored once.
    pub op_id: String,
    pub actor: String,
    /// Server time, RFC 3339.
    pub at: String,
    #[serde(flatten)]
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(
    tag = "kind",
    content = "payload",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Change {
    /// A manual item was ticked by hand.
    Ticked {
        item: String,
    },
    Unticked {
        item: String,
    },
    /// A remark, on the run or on one item.
    Note {
        text: String,
        #[serde(default)]
        item: Option<String>,
    },
    /// A value measured for a target of the routine checks.
    MetricRecorded {
        target: String,
        value: f64,
    },
    /// What a live check observed: recorded by the proxy when it runs one.
    CheckResult {
        item: String,
        /// The check's name, such as `sentry.project`.
        check: String,
        status: CheckStatus,
        /// What was seen, by name, as a person would verify it: "platform" →
        /// "node". Secrets only ever in masked form.
        observed: Keyed<String>,
        /// What the result means, and what to do next when it is not passed.
        message: String,
        duration_ms: u64,
    },
    /// The end of an escalation walk.
    DecisionTaken {
        escalation: String,
        answers: Vec<usize>,
        outcome: Outcome,
        #[serde(default)]
        note: String,
    },
    /// The watch passes to someone else.
    Handover {
        to: String,
        #[serde(default)]
        note: String,
    },
    /// The 24-hour sign-off, approved or not.
    SignOff {
        approved: bool,
        #[serde(default)]
        note: String,
    },
    /// What an action changed on a service, recorded by the proxy when an
    /// admin asks it to act.
    ActionTaken {
        /// The action's name, such as `render.set_env_vars`.
        action: String,
        status: ActionStatus,
        /// What was changed (or found), by name; secrets only ever masked.
        changed: Keyed<String>,
        message: String,
    },
    /// The 24-hour watch starts, or its schedule changes: the later entry wins.
    WatchScheduled {
        /// Unix seconds.
        start: i64,
        grace_seconds: i64,
    },
    /// A checkpoint is done, with the shift note for whoever comes next.
    CheckpointCompleted {
        hour: u32,
        #[serde(default)]
        note: String,
    },
    /// Every routine target judged, by the proxy: when a checkpoint fell due
    /// (`checkpoint`), or when a member asked.
    Snapshot {
        #[serde(default)]
        checkpoint: Option<u32>,
        judgments: Vec<Judgment>,
    },
    /// A health URL went down or came back, by the sampler's thresholds.
    HealthChanged {
        url: String,
        up: bool,
        /// When the new state began (Unix ms): for down, the first failing sample.
        since: i64,
        #[serde(default)]
        detail: String,
    },
    /// A health URL's `uptime` went down: the service started again.
    Restarted {
        url: String,
        uptime_before: u64,
        uptime_after: u64,
    },
    /// Someone read the shift note of the checkpoint at `hour` and takes the watch.
    HandoverAcknowledged {
        hour: u32,
    },
    /// An admin accepts that a success criterion cannot be measured.
    CriterionWaived {
        criterion: String,
        reason: String,
    },
    /// The error watch saw the failure rate cross the error-rate
    /// escalation's threshold, up or back down, between checkpoints.
    ErrorRateChanged {
        above: bool,
        /// The share of failed transactions in the round's window.
        percent: f64,
        transactions: u64,
        window_seconds: u32,
        /// The threshold it was held to, as the playbook writes it: `> 5%`.
        threshold: String,
    },
    /// A Watchpost replica took the watch over (several replicas on one
    /// PostgreSQL store: the one that held it stopped answering).
    WatchTakenOver {
        replica: String,
    },
}

impl Entry {
    /// What the entry did, in one line, for the timeline: "ticked “Baseline
    /// metrics recorded”"; what it saw in detail is [`Entry::details`].
    pub fn describe(&self, playbook: &Playbook) -> String {
        let item = |id| playbook.label_of(id);
        match &self.change {
            Change::Ticked { item: id } => format!("ticked “{}”", item(id)),
            Change::Unticked { item: id } => format!("unticked “{}”", item(id)),
            Change::Note { text, item: None } => format!("noted: {text}"),
            Change::Note {
                text,
                item: Some(id),
            } => format!("noted on “{}”: {text}", item(id)),
            Change::MetricRecorded { target, value } => {
                let label = playbook
                    .target(target)
                    .map_or(target.as_str(), |t| t.label.as_str());
                format!("recorded {label}: {}", Decimal(*value))
            }
            Change::CheckResult {
                item: id, status, ..
            } => format!("checked “{}”: {}", item(id), status.label()),
            Change::DecisionTaken {
                escalation,
                outcome,
                ..
            } => {
                let title = playbook
                    .escalations
                    .iter()
                    .find(|e| e.id == *escalation)
                    .map_or(escalation.as_str(), |e| e.title.as_str());
                format!("decided “{}” for {title}", outcome.label())
            }
            Change::Handover { to, .. } => format!("handed the watch to {to}"),
            Change::SignOff { approved: true, .. } => "signed off: approved for launch".to_owned(),
            Change::SignOff {
                approved: false, ..
            } => "signed off: not approved".to_owned(),
            Change::ActionTaken { action, status, .. } => {
                let label = ActionKind::from_name(action).map(ActionKind::label);
                format!("{}: {}", label.unwrap_or(action), status.label())
            }
            Change::WatchScheduled {
                start,
                grace_seconds,
            } => format!(
                "scheduled the watch from {}, overdue {} after each checkpoint",
                crate::watch::utc(*start),
                span(*grace_seconds)
            ),
            Change::CheckpointCompleted { hour, .. } => {
                let title = playbook
                    .watch
                    .checkpoints
                    .iter()
                    .find(|c| c.hour == *hour)
                    .map_or("", |c| c.title.as_str());
                format!("completed hour {hour} “{title}”")
            }
            Change::Snapshot {
                checkpoint,
                judgments,
            } => {
                let tally = snapshot_tally(judgments);
                match checkpoint {
                    Some(hour) => format!("snapshot at hour {hour}: {tally}"),
                    None => format!("snapshot: {tally}"),
                }
            }
            Change::HealthChanged {
                url, up, detail, ..
            } => match (up, detail.is_empty()) {
                (true, _) => format!("{url} is up again"),
                (false, true) => format!("{url} is down"),
                (false, false) => format!("{url} is down: {detail}"),
            },
            Change::Restarted {
                url,
                uptime_before,
                uptime_after,
            } => format!(
                "{url} restarted (uptime {} → {})",
                span(*uptime_before as i64),
                span(*uptime_after as i64)
            ),
            Change::ErrorRateChanged {
                above,
                percent,
                transactions,
                window_seconds,
                threshold,
            } => format!(
                "error rate {} the escalation's {threshold}: {}% of {transactions} transactions in the last {}",
                if *above { "beyond" } else { "back within" },
                Decimal((percent * 100.0).round() / 100.0),
                span(i64::from(*window_seconds))
            ),
            Change::WatchTakenOver { replica } => {
                format!("keeps the watch from server {replica} now")
            }
            Change::HandoverAcknowledged { hour } => {
                format!("took the watch, acknowledging the handover at hour {hour}")
            }
            Change::CriterionWaived { criterion, reason } => {
                format!("waived “{}”: {reason}", item(criterion))
            }
        }
    }

    /// What the entry saw or said beyond its line, one point each: a
    /// check's or an action's message, a snapshot's every target, a shift
    /// note's lines, a decision's evidence. Empty when the line says it all.
    pub fn details(&self) -> Vec<String> {
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match &self.change {
            Change::CheckResult { message, .. }
            | Change::ActionTaken { message, .. }
            | Change::CheckpointCompleted { note: message, .. }
            | Change::DecisionTaken { note: message, .. }
            | Change::Handover { note: message, .. }
            | Change::SignOff { note: message, .. } => lines(message),
            Change::Snapshot { judgments, .. } => {
                judgments.iter().map(Judgment::condition).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The line and its details together, for the exports and the report.
    pub fn describe_fully(&self, playbook: &Playbook) -> String {
        let details = self.details();
        if details.is_empty() {
            self.describe(playbook)
        } else {
            format!("{}: {}", self.describe(playbook), details.join("; "))
        }
    }
}

/// A snapshot in a few words: "5 on target, 1 off (p99 1240 ms > 1000 ms
/// target), 2 not measurable".
fn snapshot_tally(judgments: &[Judgment]) -> String {
    let count = |verdict| judgments.iter().filter(|j| j.status == verdict).count();
    let off: Vec<String> = judgments
        .iter()
        .filter(|j| j.status == Verdict::Failed)
        .map(Judgment::condition)
        .collect();
    let mut parts = vec![format!("{} on target", count(Verdict::Passed))];
    if !off.is_empty() {
        parts.push(format!("{} off ({})", off.len(), off.join("; ")));
    }
    let unmeasured = count(Verdict::NotMeasurable);
    if unmeasured > 0 {
        parts.push(format!("{unmeasured} not measurable"));
    }
    parts.join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// The upstream server lacks the endpoint the check needs.
    Unsupported,
    /// The check could not run (timeout, 401, 429, 5xx, not JSON).
    Error,
    /// A setting the check needs is missing; the message says which.
    NotConfigured,
}

impl CheckStatus {
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Unsupported => "unsupported",
            CheckStatus::Error => "error",
            CheckStatus::NotConfigured => "not_configured",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Unsupported => "not supported by this server",
            CheckStatus::Error => "could not run",
            CheckStatus::NotConfigured => "not configured",
        }
    }
}

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub value: f64,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub check: String,
    pub status: CheckStatus,
    pub observed: Keyed<String>,
    pub message: String,
    pub duration_ms: u64,
    /// Who asked for the check to run.
    pub by: String,
    pub at: String,
}

/// The latest run of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub status: ActionStatus,
    pub changed: Keyed<String>,
    pub message: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub escalation: String,
    pub outcome: Outcome,
    pub by: String,
    pub at: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remark {
    pub text: String,
    pub item: Option<String>,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub approved: bool,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchRun {
    pub schedule: Schedule,
    /// Who started it (or last changed its schedule), and when.
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub reason: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    pub checkpoint: Option<u32>,
    pub judgments: Vec<Judgment>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthState {
    pub up: bool,
    /// Unix ms.
    pub since: i64,
    pub detail: String,
    /// When the change was recorded (the entry's time).
    pub changed_at: String,
}

/// Where the error watch last saw the failure rate: beyond the error-rate
/// escalation's threshold or back under it, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRateState {
    pub above: bool,
    pub percent: f64,
    /// When the crossing was recorded (the entry's time).
    pub changed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRecord {
    pub url: String,
    pub at: String,
    pub uptime_before: u64,
    pub uptime_after: u64,
}

/// Everything the log says, folded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub ticks: Keyed<Tick>,
    /// The latest measurement of each target.
    pub metrics: Keyed<Measurement>,
    /// The latest result of each live check.
    pub checks: Keyed<Observation>,
    /// The latest run of each action, by its name.
    pub actions: Keyed<ActionRecord>,
    pub notes: Vec<Remark>,
    pub decisions: Vec<Decision>,
    /// Who has the watch, after the last handover.
    pub on_watch: Option<String>,
    pub sign_off: Option<SignOff>,
    /// The watch's schedule, once started.
    pub watch: Option<WatchRun>,
    /// The completed checkpoints, by hour.
    pub completed: Keyed<Completion>,
    /// Who acknowledged each checkpoint's handover, by hour.
    pub acknowledged: Keyed<Tick>,
    /// The success criteria an admin waived, by id.
    pub waivers: Keyed<Waiver>,
    /// Every snapshot, oldest first.
    pub snapshots: Vec<SnapshotRecord>,
    /// Each health URL's state, after its last change.
    pub health: Keyed<HealthState>,
    /// The error watch's last crossing of the escalation's threshold.
    pub error_rate: Option<ErrorRateState>,
    pub restarts: Vec<RestartRecord>,
    /// The id of the last entry folded in.
    pub last_entry: u64,
}

impl RunState {
    pub fn fold<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Self {
        let mut state = RunState::default();
        for entry in entries {
            state.apply(entry);
        }
        state
    }

    /// Applies an entry as a stream delivers it, unless this state already
    /// holds it (a stream resumed after a reconnect replays from the last id
    /// it knew). Returns whether the entry was new.
    pub fn receive(&mut self, entry: &Entry) -> bool {
        if entry.id <= self.last_entry {
            return false;
        }
        self.apply(entry);
        true
    }

    /// Applies the next entry of the log: the later entry about a thing wins.
    pub fn apply(&mut self, entry: &Entry) {
        let who = || Tick {
            by: entry.actor.clone(),
            at: entry.at.clone(),
        };
        match &entry.change {
            Change::Ticked { item } => {
                self.ticks.insert(item, who());
            }
            Change::Unticked { item } => {
                self.ticks.remove(item);
            }
            Change::Note { text, item } => self.notes.push(Remark {
                text: text.clone(),
                item: item.clone(),
                by: entry.actor.clone(),
                at: entry.at.clone(),
            }),
            Change::MetricRecorded { target, value } => {
                let measurement = Measurement {
                    value: *value,
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                };
                self.metrics.insert(target, measurement);
            }
            Change::CheckResult {
                item,
                check,
                status,
                observed,
                message,
                duration_ms,
            } => {
                let observation = Observation {
                    check: check.clone(),
                    status: *status,
                    observed: observed.clone(),
                    message: message.clone(),
                    duration_ms: *duration_ms,
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                };
                self.checks.insert(item, observation);
            }
            Change::DecisionTaken {
                escalation,
                outcome,
                note,
                ..
            } => self.decisions.push(Decision {
                escalation: escalation.clone(),
                outcome: *outcome,
                by: entry.actor.clone(),
                at: entry.at.clone(),
                note: note.clone(),
            }),
            Change::Handover { to, .. } => self.on_watch = Some(to.clone()),
            Change::SignOff { approved, .. } => {
                self.sign_off = Some(SignOff {
                    approved: *approved,
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                });
            }
            Change::ActionTaken {
                action,
                status,
                changed,
                message,
            } => {
                let record = ActionRecord {
                    status: *status,
                    changed: changed.clone(),
                    message: message.clone(),
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                };
                self.actions.insert(action, record);
            }
            Change::WatchScheduled {
                start,
                grace_seconds,
            } => {
                self.watch = Some(WatchRun {
                    schedule: Schedule {
                        start: *start,
                        grace_seconds: *grace_seconds,
                    },
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                });
                self.on_watch.get_or_insert_with(|| entry.actor.clone());
            }
            Change::CheckpointCompleted { hour, note } => {
                let done = Completion {
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                    note: note.clone(),
                };
                self.completed.insert(&hour.to_string(), done);
            }
            Change::Snapshot {
                checkpoint,
                judgments,
            } => self.snapshots.push(SnapshotRecord {
                checkpoint: *checkpoint,
                judgments: judgments.clone(),
                at: entry.at.clone(),
            }),
            Change::HealthChanged {
                url,
                up,
                since,
                detail,
            } => {
                let state = HealthState {
                    up: *up,
                    since: *since,
                    detail: detail.clone(),
                    changed_at: entry.at.clone(),
                };
                self.health.insert(url, state);
            }
            Change::ErrorRateChanged { above, percent, .. } => {
                self.error_rate = Some(ErrorRateState {
                    above: *above,
                    percent: *percent,
                    changed_at: entry.at.clone(),
                });
            }
            Change::CriterionWaived { criterion, reason } => {
                let waiver = Waiver {
                    reason: reason.clone(),
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                };
                self.waivers.insert(criterion, waiver);
            }
            // The timeline's: what the watch saw is in the other entries.
            Change::WatchTakenOver { .. } => {}
            Change::HandoverAcknowledged { hour } => {
                self.acknowledged.insert(&hour.to_string(), who());
                self.on_watch = Some(entry.actor.clone());
            }
            Change::Restarted {
                url,
                uptime_before,
                uptime_after,
            } => self.restarts.push(RestartRecord {
                url: url.clone(),
                at: entry.at.clone(),
                uptime_before: *uptime_before,
                uptime_after: *uptime_after,
            }),
        }
        self.last_entry = self.last_entry.max(entry.id);
    }

    pub fn tick(&self, item: &str) -> Option<&Tick> {
        self.ticks.get(item)
    }

    /// Who completed the checkpoint at `hour`, if anyone.
    pub fn completion(&self, hour: u32) -> Option<&Completion> {
        self.completed.get(&hour.to_string())
    }

    /// The latest completed checkpoint whose handover nobody has
    /// acknowledged yet, with its completion; none when the last one is the
    /// final checkpoint (nobody comes after it).
    pub fn pending_handover(&self, playbook: &Playbook) -> Option<(u32, &Completion)> {
        let last = playbook.watch.checkpoints.iter().map(|c| c.hour).max()?;
        let (hour, done) = self
            .completed
            .iter()
            .filter_map(|(hour, done)| Some((hour.parse::<u32>().ok()?, done)))
            .max_by_key(|(hour, _)| *hour)?;
        (hour != last && self.acknowledged.get(&hour.to_string()).is_none()).then_some((hour, done))
    }

    /// Why this run cannot take `change` now, if it cannot: the rules that
    /// depend on what the run holds (see [`Change::problem`] for the rest).
    pub fn refuses(&self, playbook: &Playbook, change: &Change) -> Option<String> {
        match change {
            Change::CheckpointCompleted { hour, .. } => {
                if self.watch.is_none() {
                    return Some("start the watch before completing a checkpoint".to_owned());
                }
                match self.pending_handover(playbook) {
                    Some((earlier, done)) if earlier != *hour => Some(format!(
                        "acknowledge {}'s handover of hour {earlier} before completing hour {hour}",
                        done.by
                    )),
                    _ => None,
                }
            }
            Change::HandoverAcknowledged { hour } => self
                .completion(*hour)
                .is_none()
                .then(|| format!("hour {hour} is not completed, so it has no handover yet")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
