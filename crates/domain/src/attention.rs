//! What needs someone in a project's watch, most urgent first: the one list
//! that the strip on every project tab, the project list's line and the
//! browser's notifications all read.

use crate::escalation::open_escalations;
use crate::playbook::Playbook;
use crate::project::{Project, Setting};
use crate::run::{CheckStatus, RunState};
use crate::watch::CheckpointState;

/// One thing that needs someone. Times are RFC 3339 (`since`) or Unix
/// seconds (`due`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// An escalation procedure is happening: its trigger is true, and no
    /// decision was taken since.
    Escalation {
        id: String,
        title: String,
        /// What detected it, in the playbook's words.
        trigger: String,
        since: String,
    },
    /// A health URL is down, as the sampler saw it.
    Down {
        url: String,
        detail: String,
        since: String,
    },
    /// A checkpoint past its time and grace, or due now.
    Checkpoint { hour: u32, due: i64, overdue: bool },
    /// The sign-off's time has come and nobody has signed off.
    SignOff { due: i64, overdue: bool },
    /// A shift note nobody has acknowledged: the watch waits to be taken.
    Handover { hour: u32, from: String },
    /// Settings the setup cannot do without, by label, and the checks that
    /// could not run for a setting, by item text.
    Settings {
        missing: Vec<Setting>,
        items: Vec<String>,
    },
}

impl Need {
    /// The need as a sentence, as a notification says it.
    pub fn sentence(&self) -> String {
        match self {
            Need::Escalation { title, .. } => format!("{ESCALATION_OPEN}{title}."),
            Need::Down { url, .. } => format!("{}{DOWN}", host_and_path(url)),
            Need::Checkpoint {
                hour,
                overdue: true,
                ..
            } => format!("Hour {hour} is overdue."),
            Need::Checkpoint { hour, .. } => format!("Hour {hour} is due."),
            Need::SignOff { overdue: true, .. } => "The sign-off is overdue.".to_owned(),
            Need::SignOff { .. } => "The sign-off is due.".to_owned(),
            Need::Handover { from, .. } => {
                format!("{from} handed the watch over: take it.")
            }
            Need::Settings { missing, items } => {
                let mut said = settings_headline(items);
                // By hand: joining `&str`s would add its own code to the wasm.
                for (index, setting) in missing.iter().enumerate() {
                    said.push_str(if index == 0 { ": " } else { ", " });
                    said.push_str(setting.label);
                }
                said.push('.');
                said
            }
        }
    }

    /// A few words, for the project list's line.
    fn short(&self) -> String {
        match self {
            Need::Escalation { title, .. } => format!("open: {title}"),
            Need::Down { .. } => "health down".to_owned(),
            Need::Checkpoint {
                hour,
                overdue: true,
                ..
            } => format!("hour {hour} overdue"),
            Need::Checkpoint { hour, .. } => format!("hour {hour} due"),
            Need::SignOff { overdue: true, .. } => "sign-off overdue".to_owned(),
            Need::SignOff { .. } => "sign-off due".to_owned(),
            Need::Handover { from, .. } => format!("{from}'s handover waits"),
            Need::Settings { missing, .. } if !missing.is_empty() => "settings missing".to_owned(),
            Need::Settings { items, .. } => format!("settings missing for {}", items.len()),
        }
    }

    /// Whether something is wrong (red), rather than something to do.
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            Need::Escalation { .. }
                | Need::Down { .. }
                | Need::Checkpoint { overdue: true, .. }
                | Need::SignOff { overdue: true, .. }
        )
    }

    /// A name for its kind, stable for styles and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Need::Escalation { .. } => "escalation",
            Need::Down { .. } => "down",
            Need::Checkpoint { .. } => "checkpoint",
            Need::SignOff { .. } => "sign-off",
            Need::Handover { .. } => "handover",
            Need::Settings { .. } => "settings",
        }
    }
}

/// What a settings need says before the settings it lists: "Fill in the
/// settings first" for a new project, else which checks wait for one.
pub fn settings_headline(items: &[String]) -> String {
    match items {
        [] => "Fill in the settings first".to_owned(),
        [one] => format!("“{one}” needs a setting"),
        many => format!("{} checks need a setting", many.len()),
    }
}

/// How the sentences of an escalation and of a URL down begin and end: a
/// notification tells when they go away too.
pub const ESCALATION_OPEN: &str = "Escalation open: ";
pub const DOWN: &str = " is down.";

/// `api.example.com/health` of `https://api.example.com/health`: what people
/// read of a URL.
pub fn host_and_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.strip_suffix('/').unwrap_or(rest)
}

/// What needs someone in `project`'s `run` at `now` (Unix seconds), most
/// urgent first: escalations happening, health down, what is overdue, the
/// handover to take, what is due, and the settings still missing (before
/// anyone runs a check: a new admin's first step) or that checks wait for.
pub fn needs(playbook: &Playbook, project: &Project, run: &RunState, now: i64) -> Vec<Need> {
    let mut alarms: Vec<Need> = open_escalations(playbook, run)
        .into_iter()
        .map(|open| Need::Escalation {
            id: open.escalation.id.clone(),
            title: open.escalation.title.clone(),
            trigger: open.escalation.trigger.clone(),
            since: open.since,
        })
        .collect();
    alarms.extend(
        run.health
            .iter()
            .filter(|(_, health)| !health.up)
            .map(|(url, health)| Need::Down {
                url: url.to_owned(),
                detail: health.detail.clone(),
                since: health.changed_at.clone(),
            }),
    );
    let mut to_do = Vec::new();
    if let Some(watch) = run.watch.as_ref().filter(|_| run.sign_off.is_none()) {
        for checkpoint in &playbook.watch.checkpoints {
            let due = watch.schedule.due_at(checkpoint);
            let overdue =
                match watch
                    .schedule
                    .state(checkpoint, run.completion(checkpoint.hour), now)
                {
                    CheckpointState::Overdue { .. } => true,
                    CheckpointState::Due { .. } => false,
                    CheckpointState::Upcoming { .. } | CheckpointState::Done(_) => continue,
                };
            let need = if checkpoint.sign_off {
                Need::SignOff { due, overdue }
            } else {
                Need::Checkpoint {
                    hour: checkpoint.hour,
                    due,
                    overdue,
                }
            };
            if overdue { &mut alarms } else { &mut to_do }.push(need);
        }
    }
    if let Some((hour, done)) = run.pending_handover(playbook) {
        alarms.push(Need::Handover {
            hour,
            from: done.by.clone(),
        });
    }
    alarms.extend(to_do);
    // The first-run settings, then those that checks which could not run lack.
    let mut missing = project.missing_settings();
    let first_run = !missing.is_empty();
    let mut unset: Vec<String> = Vec::new();
    for (id, seen) in run.checks.iter() {
        if seen.status != CheckStatus::NotConfigured {
            continue;
        }
        unset.push(playbook.label_of(id).to_owned());
        let lacking = playbook
            .checkable(id)
            .and_then(|item| project.missing_for(item.verify.check()?, &item.with));
        if let Some(setting) = lacking.filter(|setting| !missing.contains(setting)) {
            missing.push(setting);
        }
    }
    if first_run {
        // Until the first settings are in, checks waiting for them are no news.
        unset.clear();
    }
    if !unset.is_empty() || !missing.is_empty() {
        alarms.push(Need::Settings {
            missing,
            items: unset,
        });
    }
    alarms
}

/// The needs in a line: "hour 4 overdue · health down (2) · open: Health
/// check fails".
pub fn summary(needs: &[Need]) -> String {
    let down = needs
        .iter()
        .filter(|need| matches!(need, Need::Down { .. }))
        .count();
    let mut parts: Vec<String> = Vec::new();
    for need in needs {
        match need {
            Need::Down { .. } if parts.iter().any(|p| p.starts_with("health down")) => {}
            Need::Down { .. } => parts.push(format!("health down ({down})")),
            need => parts.push(need.short()),
        }
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Change, Entry};

    const START: i64 = 1_795_000_000;

    fn entry(id: u64, actor: &str, change: Change) -> Entry {
        Entry {
            id,
            op_id: format!("op-{id}"),
            actor: actor.into(),
            at: "2026-11-23T10:00:00Z".into(),
            change,
        }
    }

    fn set_up() -> Project {
        Project::set_up(7)
    }

    /// A watch started at `START` whose hour 0 Ana has completed.
    fn hour_0_done() -> RunState {
        let mut run = RunState::default();
        run.apply(&entry(
            1,
            "Ana",
            Change::WatchScheduled {
                start: START,
                grace_seconds: 900,
            },
        ));
        run.apply(&entry(
            2,
            "Ana",
            Change::CheckpointCompleted {
                hour: 0,
                note: String::new(),
            },
        ));
        run
    }

    #[test]
    fn nothing_needs_anyone_before_the_watch_or_when_all_is_well() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        assert!(needs(&playbook, &set_up(), &RunState::default(), START).is_empty());
        let mut run = hour_0_done();
        run.apply(&entry(3, "Ben", Change::HandoverAcknowledged { hour: 0 }));
        assert!(needs(&playbook, &set_up(), &run, START + 3600).is_empty());
    }

    #[test]
    fn an_outage_comes_first_then_what_is_late_then_what_is_due() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = hour_0_done();
        run.apply(&entry(
            3,
            "Watchpost",
            Change::HealthChanged {
                url: "https://api.example.com/health".into(),
                up: false,
                since: 0,
                detail: "answered 503".into(),
            },
        ));
        let found = needs(&playbook, &set_up(), &run, START + 8 * 3600 + 60);
        let kinds: Vec<&str> = found.iter().map(Need::kind).collect();
        assert_eq!(
            kinds,
            ["escalation", "down", "checkpoint", "handover", "checkpoint"]
        );
        assert_eq!(
            found.iter().map(Need::sentence).collect::<Vec<_>>(),
            [
                "Escalation open: Health check fails.",
                "api.example.com/health is down.",
                "Hour 4 is overdue.",
                "Ana handed the watch over: take it.",
                "Hour 8 is due."
            ]
        );
        assert!(found[0].is_alarm() && !found[3].is_alarm() && !found[4].is_alarm());
        let Need::Escalation { trigger, since, .. } = &found[0] else {
            unreachable!("an escalation")
        };
        assert_eq!(since, "2026-11-23T10:00:00Z");
        assert!(!trigger.is_empty());
        assert_eq!(
            summary(&found),
            "open: Health check fails · health down (1) · hour 4 overdue · Ana's handover waits · hour 8 due"
        );
        // The sign-off's own words, at hour 24; nothing once signed off.
        let late = needs(&playbook, &set_up(), &run, START + 24 * 3600 + 60);
        assert!(late.contains(&Need::SignOff {
            due: START + 24 * 3600,
            overdue: false
        }));
    }

    #[test]
    fn checks_waiting_for_a_setting_are_one_need() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        for (id, item) in [(1, "render-service-exists"), (2, "health-endpoint-ok")] {
            run.apply(&entry(
                id,
                "Ana",
                Change::CheckResult {
                    item: item.into(),
                    check: "render.service".into(),
                    status: CheckStatus::NotConfigured,
                    observed: Default::default(),
                    message: "set the Render service id".into(),
                    duration_ms: 1,
                },
            ));
        }
        let found = needs(&playbook, &set_up(), &run, START);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].sentence(), "2 checks need a setting.");
        assert_eq!(summary(&found), "settings missing for 2");
    }

    #[test]
    fn a_check_waiting_for_a_project_setting_names_it() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        run.apply(&entry(
            1,
            "Ana",
            Change::CheckResult {
                item: "backup-verified".into(),
                check: "backup.recent".into(),
                status: CheckStatus::NotConfigured,
                observed: Default::default(),
                message: "No backup status URL is set".into(),
                duration_ms: 1,
            },
        ));
        let project = Project {
            backup_status_url: None,
            ..set_up()
        };
        let found = needs(&playbook, &project, &run, START);
        let Some(Need::Settings { missing, .. }) = found.first() else {
            panic!("a settings need: {found:?}")
        };
        assert_eq!(missing, &[crate::project::BACKUP_STATUS_URL]);
        assert!(
            found[0]
                .sentence()
                .ends_with("needs a setting: Backup status URL."),
            "{}",
            found[0].sentence()
        );
    }

    #[test]
    fn a_new_project_is_told_which_settings_to_fill_in_first() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let new = Project::blank(7);
        let found = needs(&playbook, &new, &RunState::default(), START);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].sentence(),
            "Fill in the settings first: Sentry project (backend), Platform, Render service id, Health URLs."
        );
        assert!(!found[0].is_alarm());
        // A check that could not run for want of them is no news until then.
        let mut run = RunState::default();
        run.apply(&entry(
            1,
            "Dana",
            Change::CheckResult {
                item: "sentry-backend-project-exists".into(),
                check: "sentry.project".into(),
                status: CheckStatus::NotConfigured,
                observed: Default::default(),
                message: "The Sentry project is not set".into(),
                duration_ms: 1,
            },
        ));
        let found = needs(&playbook, &new, &run, START);
        assert!(
            found[0]
                .sentence()
                .starts_with("Fill in the settings first: "),
            "{found:?}"
        );
        let almost = Project {
            health_urls: Vec::new(),
            ..set_up()
        };
        let found = needs(&playbook, &almost, &RunState::default(), START);
        assert_eq!(
            found[0].sentence(),
            "Fill in the settings first: Health URLs."
        );
        assert_eq!(summary(&found), "settings missing");
    }
}
