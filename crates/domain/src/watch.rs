//! The 24-hour watch's schedule: when each checkpoint falls due, whether it
//! is upcoming, due, overdue or done, and what comes next. Pure rules: the
//! clock is an argument (Unix seconds), so they are tested at any hour.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::attention::{DOWN, ESCALATION_OPEN, Need, needs, summary};
use crate::escalation::open_escalations;
use crate::playbook::{Checkpoint, Playbook};
use crate::project::Project;
use crate::run::{Change, CheckStatus, RunState};
use crate::snapshot::Verdict;

/// How long after its time a checkpoint is due before it is overdue, unless
/// the watch sets another grace.
pub const DEFAULT_GRACE_SECONDS: i64 = 15 * 60;

/// How far back a watch may be said to have started: a team that began
/// before opening Watchpost enters its real start.
pub const EARLIEST_START_HOURS: i64 = 48;
/// How far ahead a watch may be scheduled.
pub const LATEST_START_HOURS: i64 = 7 * 24;
pub const GRACE_MINUTES_MAX: u32 = 240;

/// The schedule a request to start the watch asks for (`start` and `now` in
/// Unix seconds; the default grace when none is given), or why it is refused.
pub fn schedule(start: i64, grace_minutes: Option<u32>, now: i64) -> Result<Change, String> {
    if start < now - EARLIEST_START_HOURS * 3600 || start > now + LATEST_START_HOURS * 3600 {
        return Err(format!(
            "a watch starts at most {EARLIEST_START_HOURS} hours ago or {} days ahead",
            LATEST_START_HOURS / 24
        ));
    }
    let grace_minutes = grace_minutes.unwrap_or((DEFAULT_GRACE_SECONDS / 60) as u32);
    if !(1..=GRACE_MINUTES_MAX).contains(&grace_minutes) {
        return Err(format!("grace_minutes is from 1 to {GRACE_MINUTES_MAX}"));
    }
    Ok(Change::WatchScheduled {
        start,
        grace_seconds: i64::from(grace_minutes) * 60,
    })
}

/// A watch's start and grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Unix seconds.
    pub start: i64,
    pub grace_seconds: i64,
}

/// Who completed a checkpoint, when (RFC 3339), and their shift note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub by: String,
    pub at: String,
    pub note: String,
}

/// Where a checkpoint stands at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointState {
    /// Its time comes in `in_seconds`.
    Upcoming {
        in_seconds: i64,
    },
    /// Its time came `since_seconds` ago, within the grace.
    Due {
        since_seconds: i64,
    },
    /// Past its time and the grace, by `late_seconds` from its time.
    Overdue {
        late_seconds: i64,
    },
    Done(Completion),
}

impl CheckpointState {
    pub fn name(&self) -> &'static str {
        match self {
            CheckpointState::Upcoming { .. } => "upcoming",
            CheckpointState::Due { .. } => "due",
            CheckpointState::Overdue { .. } => "overdue",
            CheckpointState::Done(_) => "done",
        }
    }

    /// "in 3 h 05 min", "due for 4 min", "overdue by 1 h 20 min", "done by
    /// Ana at 03:49 UTC".
    pub fn describe(&self) -> String {
        match self {
            CheckpointState::Upcoming { in_seconds } => format!("in {}", span(*in_seconds)),
            CheckpointState::Due { since_seconds } => format!("due for {}", span(*since_seconds)),
            CheckpointState::Overdue { late_seconds } => {
                format!("overdue by {}", span(*late_seconds))
            }
            CheckpointState::Done(done) => format!(
                "done by {} at {} UTC",
                done.by,
                done.at.get(11..16).unwrap_or(&done.at)
            ),
        }
    }
}

impl Schedule {
    pub fn new(start: i64) -> Self {
        Schedule {
            start,
            grace_seconds: DEFAULT_GRACE_SECONDS,
        }
    }

    /// When `checkpoint` falls due, in Unix seconds.
    pub fn due_at(&self, checkpoint: &Checkpoint) -> i64 {
        self.start + i64::from(checkpoint.hour) * 3600
    }

    /// Where `checkpoint` stands at `now`, given its completion if any.
    pub fn state(
        &self,
        checkpoint: &Checkpoint,
        done: Option<&Completion>,
        now: i64,
    ) -> CheckpointState {
        if let Some(done) = done {
            return CheckpointState::Done(done.clone());
        }
        let due = self.due_at(checkpoint);
        if now < due {
            CheckpointState::Upcoming {
                in_seconds: due - now,
            }
        } else if now < due + self.grace_seconds {
            CheckpointState::Due {
                since_seconds: now - due,
            }
        } else {
            CheckpointState::Overdue {
                late_seconds: now - due,
            }
        }
    }

    /// Whether the watch runs at `now` (sampling, snapshots): from its start
    /// until it is signed off, and at most twice its length, so that a watch
    /// nobody signed off does not probe forever.
    pub fn is_running(&self, duration_hours: u32, signed_off: bool, now: i64) -> bool {
        let longest = 2 * i64::from(duration_hours) * 3600;
        !signed_off && self.start <= now && now < self.start + longest
    }

    /// The checkpoint the proxy should take a snapshot for at `now`: the
    /// latest that has fallen due, unless it has one (`taken`); completed
    /// early or not, a checkpoint is measured at its time. Earlier ones are
    /// skipped: a watch scheduled from a past start takes one snapshot, not
    /// one per missed checkpoint.
    pub fn snapshot_due<'a>(
        &self,
        checkpoints: &'a [Checkpoint],
        now: i64,
        taken: impl Fn(u32) -> bool,
    ) -> Option<&'a Checkpoint> {
        checkpoints
            .iter()
            .filter(|checkpoint| self.due_at(checkpoint) <= now)
            .max_by_key(|checkpoint| checkpoint.hour)
            .filter(|checkpoint| !taken(checkpoint.hour))
    }

    /// The checkpoint the team should turn to at `now`: the earliest not yet
    /// done (an overdue one before the next upcoming), or none when all are.
    pub fn next<'a>(
        &self,
        checkpoints: &'a [Checkpoint],
        is_done: impl Fn(&Checkpoint) -> bool,
    ) -> Option<&'a Checkpoint> {
        checkpoints
            .iter()
            .filter(|checkpoint| !is_done(checkpoint))
            .min_by_key(|checkpoint| checkpoint.hour)
    }
}

/// A project's watch at a glance, for the project list (`GET /api/watches`):
/// who has it and what needs someone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Glance {
    pub project: i64,
    /// The project's name, for a notification's title.
    pub name: String,
    pub started: bool,
    pub signed_off: bool,
    pub on_watch: Option<String>,
    /// What needs someone, most urgent first ([`needs`]), a sentence each.
    /// Sentences rather than the needs themselves: the app decodes these
    /// for the list and its notifications (the needs' binary decoder cost
    /// the wasm 0.9 KB), and judges the needs of an open project itself.
    pub attention: Vec<String>,
    /// All of it in a line, for the project list (built here, so that the
    /// app only shows it).
    pub summary: String,
}

impl Glance {
    /// "On watch: Ana · open: Health check fails · health down (1) · hour 4
    /// overdue · Ben's handover waits", from `needs`.
    fn describe(&self, needs: &[Need]) -> String {
        if !self.started {
            return "Watch not started".to_owned();
        }
        if self.signed_off {
            return "Signed off".to_owned();
        }
        let on_watch = format!("On watch: {}", self.on_watch.as_deref().unwrap_or("nobody"));
        match summary(needs) {
            needs if needs.is_empty() => on_watch,
            needs => format!("{on_watch} · {needs}"),
        }
    }

    /// What needs someone now that did not at `before`, a sentence each,
    /// and the end of what people wait to hear ended (a URL up again, an
    /// escalation closed): what browser notifications raise.
    pub fn news(&self, before: &Glance) -> Vec<String> {
        let mut news: Vec<String> = self
            .attention
            .iter()
            .filter(|sentence| !before.attention.contains(sentence))
            .cloned()
            .collect();
        for gone in before
            .attention
            .iter()
            .filter(|sentence| !self.attention.contains(sentence))
        {
            if let Some(url) = gone.strip_suffix(DOWN) {
                news.push(format!("{url} is up again."));
            } else if let Some(title) = gone.strip_prefix(ESCALATION_OPEN) {
                news.push(format!("Escalation closed: {title}"));
            }
        }
        news
    }
}

/// Whether `run`'s watch runs at `now` ([`Schedule::is_running`]): what the
/// watcher samples, the schedule says and the charts promise points for.
pub fn is_running(playbook: &Playbook, run: &RunState, now: i64) -> bool {
    run.watch.as_ref().is_some_and(|watch| {
        watch
            .schedule
            .is_running(playbook.watch.duration_hours, run.sign_off.is_some(), now)
    })
}

/// `project`'s watch at `now`.
pub fn glance(playbook: &Playbook, project: &Project, run: &RunState, now: i64) -> Glance {
    let found = needs(playbook, project, run, now);
    let mut glance = Glance {
        project: project.id,
        name: project.name.clone(),
        started: run.watch.is_some(),
        signed_off: run.sign_off.is_some(),
        on_watch: run.on_watch.clone(),
        attention: found.iter().map(Need::sentence).collect(),
        ..Glance::default()
    };
    glance.summary = glance.describe(&found);
    glance
}

/// The shift note completing the checkpoint at `hour` starts from, for
/// whoever takes the watch next: its items not ticked or not passing, the
/// targets the latest snapshot found off, and the health URLs down.
pub fn shift_note(playbook: &Playbook, run: &RunState, hour: u32) -> String {
    let mut lines = Vec::new();
    let items = playbook
        .watch
        .checkpoints
        .iter()
        .filter(|checkpoint| checkpoint.hour == hour)
        .flat_map(|checkpoint| &checkpoint.items);
    for item in items {
        match item.verify.check() {
            None if run.tick(&item.id).is_none() => {
                lines.push(format!("Not ticked: {}", item.text));
            }
            None => {}
            Some(_) => match run.checks.get(&item.id) {
                Some(seen) if seen.status == CheckStatus::Passed => {}
                Some(seen) => lines.push(format!("{}: {}", item.text, seen.status.label())),
                None => lines.push(format!("Not checked: {}", item.text)),
            },
        }
    }
    if let Some(snapshot) = run.snapshots.last() {
        for judgment in &snapshot.judgments {
            match judgment.status {
                Verdict::Passed => {}
                Verdict::Failed => lines.push(format!("Off target: {}", judgment.condition())),
                Verdict::NotMeasurable => {
                    lines.push(format!("Not measurable: {}", judgment.label));
                }
            }
        }
    }
    for (url, health) in run.health.iter().filter(|(_, health)| !health.up) {
        lines.push(format!("Down: {url} ({})", health.detail));
    }
    for open in open_escalations(playbook, run) {
        lines.push(format!(
            "Escalation open: {} (since {}, no decision yet)",
            open.escalation.title, open.since
        ));
    }
    if lines.is_empty() {
        "Everything at this checkpoint is done and on target.".to_owned()
    } else {
        lines.join("\n")
    }
}

/// Unix seconds as `2026-11-23 14:05 UTC`.
pub fn utc(unix_seconds: i64) -> String {
    let (year, month, day, minute) = civil(unix_seconds);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02} UTC",
        minute / 60,
        minute % 60
    )
}

/// Unix seconds as RFC 3339 in UTC, to the minute: `2026-11-23T14:05:00Z`.
pub fn rfc3339(unix_seconds: i64) -> String {
    let (year, month, day, minute) = civil(unix_seconds);
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:00Z",
        minute / 60,
        minute % 60
    )
}

/// Unix seconds as a civil date and the minute of its day, with no date
/// library: Howard Hinnant's algorithm.
fn civil(unix_seconds: i64) -> (i64, i64, i64, i64) {
    let days = unix_seconds.div_euclid(86_400);
    let minute_of_day = unix_seconds.rem_euclid(86_400) / 60;
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day, minute_of_day)
}

/// A duration for people: "45 s", "12 min", "3 h 05 min".
pub fn span(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Playbook;

    const START: i64 = 1_795_000_000;

    fn checkpoints() -> Vec<Checkpoint> {
        Playbook::default_launch()
            .expect("the launch playbook")
            .watch
            .checkpoints
    }

    #[test]
    fn a_watch_starts_within_its_window_with_a_grace_in_range() {
        let now = 1_795_000_000;
        assert_eq!(
            schedule(now, None, now),
            Ok(Change::WatchScheduled {
                start: now,
                grace_seconds: DEFAULT_GRACE_SECONDS
            })
        );
        assert!(schedule(now - 48 * 3600, Some(240), now).is_ok());
        assert!(
            schedule(now - 48 * 3600 - 1, None, now).is_err_and(|why| why.contains("48 hours ago"))
        );
        assert!(
            schedule(now + 7 * 24 * 3600 + 1, None, now)
                .is_err_and(|why| why.contains("7 days ahead"))
        );
        for grace in [0, 241] {
            assert!(
                schedule(now, Some(grace), now).is_err_and(|why| why.contains("from 1 to 240"))
            );
        }
    }

    #[test]
    fn the_seeds_checkpoints_fall_due_every_four_hours_and_sign_off_at_24() {
        let schedule = Schedule::new(START);
        let hours: Vec<i64> = checkpoints()
            .iter()
            .map(|checkpoint| (schedule.due_at(checkpoint) - START) / 3600)
            .collect();
        assert_eq!(hours, [0, 4, 8, 12, 16, 20, 24]);
    }

    #[test]
    fn a_checkpoint_is_upcoming_then_due_then_overdue_unless_done() {
        let schedule = Schedule::new(START);
        let h4 = &checkpoints()[1];
        let due = START + 4 * 3600;
        let at = |now| schedule.state(h4, None, now);
        assert_eq!(at(due - 90), CheckpointState::Upcoming { in_seconds: 90 });
        assert_eq!(at(due), CheckpointState::Due { since_seconds: 0 });
        assert_eq!(
            at(due + DEFAULT_GRACE_SECONDS - 1),
            CheckpointState::Due {
                since_seconds: DEFAULT_GRACE_SECONDS - 1
            }
        );
        assert_eq!(
            at(due + DEFAULT_GRACE_SECONDS),
            CheckpointState::Overdue {
                late_seconds: DEFAULT_GRACE_SECONDS
            }
        );
        let strict = Schedule {
            grace_seconds: 60,
            ..schedule
        };
        assert_eq!(strict.state(h4, None, due + 60).name(), "overdue");
        let done = Completion {
            by: "Ana".into(),
            at: "2026-11-20T12:00:00Z".into(),
            note: String::new(),
        };
        assert_eq!(
            schedule.state(h4, Some(&done), due + 5 * 3600),
            CheckpointState::Done(done)
        );
    }

    #[test]
    fn next_is_the_earliest_not_done() {
        let schedule = Schedule::new(START);
        let all = checkpoints();
        assert_eq!(schedule.next(&all, |_| false).map(|c| c.hour), Some(0));
        let next = schedule.next(&all, |checkpoint| checkpoint.hour < 8);
        assert_eq!(next.map(|c| c.hour), Some(8));
        assert_eq!(schedule.next(&all, |_| true), None);
    }

    #[test]
    fn a_watch_runs_from_its_start_until_signed_off_or_twice_its_length() {
        let schedule = Schedule::new(START);
        assert!(
            !schedule.is_running(24, false, START - 1),
            "not before it starts"
        );
        assert!(schedule.is_running(24, false, START));
        assert!(
            schedule.is_running(24, false, START + 30 * 3600),
            "late sign-off"
        );
        assert!(!schedule.is_running(24, true, START + 3600), "signed off");
        assert!(!schedule.is_running(24, false, START + 48 * 3600));
    }

    #[test]
    fn a_run_s_watch_runs_once_started_and_until_signed_off() {
        use crate::run::{Change, Entry};
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let entry = |id, change| Entry {
            id,
            op_id: format!("op-{id}"),
            actor: "Ana".into(),
            at: "2026-11-23T10:00:00Z".into(),
            change,
        };
        let mut run = RunState::default();
        assert!(!is_running(&playbook, &run, START), "not started");
        run.apply(&entry(
            1,
            Change::WatchScheduled {
                start: START,
                grace_seconds: 900,
            },
        ));
        assert!(is_running(&playbook, &run, START + 3600));
        run.apply(&entry(
            2,
            Change::SignOff {
                approved: true,
                note: String::new(),
            },
        ));
        assert!(!is_running(&playbook, &run, START + 3600), "signed off");
    }

    #[test]
    fn the_latest_checkpoint_fallen_due_gets_one_snapshot() {
        let schedule = Schedule::new(START);
        let all = checkpoints();
        let due = |now, taken: &[u32]| {
            schedule
                .snapshot_due(&all, now, |hour| taken.contains(&hour))
                .map(|c| c.hour)
        };
        assert_eq!(due(START - 1, &[]), None);
        assert_eq!(due(START, &[]), Some(0));
        assert_eq!(due(START + 3600, &[0]), None, "taken");
        assert_eq!(due(START + 4 * 3600, &[0]), Some(4));
        assert_eq!(
            due(START + 9 * 3600, &[]),
            Some(8),
            "missed ones are skipped"
        );
        assert_eq!(due(START + 30 * 3600, &[24]), None);
    }

    #[test]
    fn the_shift_note_lists_what_is_not_done_off_target_or_down() {
        use crate::keyed::Keyed;
        use crate::playbook::{Bound, Comparison, Unit};
        use crate::run::{HealthState, Observation, SnapshotRecord};
        use crate::snapshot::Judgment;

        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        assert_eq!(
            shift_note(&playbook, &run, 8),
            "Not checked: Continued stability: no error spikes in the trend\n\
             Not checked: No memory leaks (memory usage stable)\n\
             Not checked: Background jobs running (every 30 seconds in the logs)"
        );
        let seen = |status| Observation {
            check: "sentry.error_count".into(),
            status,
            observed: Keyed::default(),
            message: String::new(),
            duration_ms: 1,
            by: "Watchpost".into(),
            at: "t".into(),
        };
        run.checks
            .insert("h8-error-trend", seen(CheckStatus::Passed));
        run.checks.insert(
            "h8-memory",
            Observation {
                check: "render.memory".into(),
                ..seen(CheckStatus::Passed)
            },
        );
        run.checks.insert(
            "h8-background-jobs",
            Observation {
                check: "health.service".into(),
                ..seen(CheckStatus::Passed)
            },
        );
        assert_eq!(
            shift_note(&playbook, &run, 8),
            "Everything at this checkpoint is done and on target."
        );
        run.checks
            .insert("h8-error-trend", seen(CheckStatus::Error));
        run.snapshots.push(SnapshotRecord {
            checkpoint: Some(8),
            at: "t".into(),
            judgments: vec![Judgment {
                target: "health-latency".into(),
                label: "Health endpoint".into(),
                status: Verdict::Failed,
                observed: Some(143.0),
                bound: Bound {
                    comparison: Comparison::Below,
                    value: 100.0,
                    unit: Unit::Ms,
                },
                measure: "GET /health".into(),
            }],
        });
        run.health.insert(
            "https://api.example/health",
            HealthState {
                up: false,
                since: 0,
                detail: "HTTP 503".into(),
                changed_at: "2026-11-24T08:00:00Z".into(),
            },
        );
        assert_eq!(
            shift_note(&playbook, &run, 8),
            "Continued stability: no error spikes in the trend: could not run\n\
             Off target: Health endpoint 143 ms > 100 ms target\n\
             Down: https://api.example/health (HTTP 503)\n\
             Escalation open: Health check fails (since 2026-11-24T08:00:00Z, no decision yet)"
        );
    }

    #[test]
    fn a_glance_shows_who_has_the_watch_and_what_needs_someone() {
        use crate::run::{Change, Entry};
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let entry = |id, actor: &str, change| Entry {
            id,
            op_id: format!("op-{id}"),
            actor: actor.into(),
            at: "2026-11-23T10:00:00Z".into(),
            change,
        };
        let mut run = RunState::default();
        let project = Project::set_up(7);
        assert_eq!(
            glance(&playbook, &project, &run, START),
            Glance {
                project: 7,
                summary: "Watch not started".into(),
                ..Glance::default()
            }
        );
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
        run.apply(&entry(
            3,
            "Watchpost",
            Change::HealthChanged {
                url: "https://a.example/health".into(),
                up: false,
                since: 0,
                detail: String::new(),
            },
        ));
        let before = glance(&playbook, &project, &run, START + 60);
        assert_eq!(
            before.summary,
            "On watch: Ana · open: Health check fails · health down (1) · Ana's handover waits"
        );
        let seen = glance(&playbook, &project, &run, START + 8 * 3600 + 60);
        assert_eq!(seen.on_watch.as_deref(), Some("Ana"));
        assert!(seen.started && !seen.signed_off);
        assert_eq!(
            seen.summary,
            "On watch: Ana · open: Health check fails · health down (1) · hour 4 overdue · Ana's handover waits · hour 8 due"
        );
        // Only what is new is news.
        assert_eq!(seen.news(&before), ["Hour 4 is overdue.", "Hour 8 is due."]);
        assert!(seen.news(&seen).is_empty());
        assert_eq!(seen.news(&Glance::default()), seen.attention);
        assert!(
            before.news(&seen).is_empty(),
            "a checkpoint done is not news"
        );
        // Health back up and the escalation closed are.
        run.apply(&entry(
            4,
            "Watchpost",
            Change::HealthChanged {
                url: "https://a.example/health".into(),
                up: true,
                since: 0,
                detail: String::new(),
            },
        ));
        let back = glance(&playbook, &project, &run, START + 60);
        assert_eq!(
            back.news(&before),
            [
                "Escalation closed: Health check fails.",
                "a.example/health is up again."
            ]
        );
        let quiet = Glance {
            started: true,
            ..Glance::default()
        };
        assert_eq!(quiet.describe(&[]), "On watch: nobody");
    }

    #[test]
    fn utc_reads_unix_seconds_as_a_calendar_date() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_825_600), "2000-02-29 12:00 UTC");
        assert_eq!(utc(1_795_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(utc(-60), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn states_and_spans_read_as_people_say_them() {
        let done = Completion {
            by: "Ana".into(),
            at: "2026-11-24T03:49:10Z".into(),
            note: String::new(),
        };
        assert_eq!(
            CheckpointState::Done(done).describe(),
            "done by Ana at 03:49 UTC"
        );
        assert_eq!(span(45), "45 s");
        assert_eq!(span(12 * 60 + 5), "12 min");
        assert_eq!(span(3 * 3600 + 5 * 60), "3 h 05 min");
        assert_eq!(span(-5), "0 s");
        assert_eq!(
            CheckpointState::Overdue {
                late_seconds: 80 * 60
            }
            .describe(),
            "overdue by 1 h 20 min"
        );
        assert_eq!(
            CheckpointState::Upcoming {
                in_seconds: 3 * 3600 + 5 * 60
            }
            .describe(),
            "in 3 h 05 min"
        );
    }
}
