//! The 24-hour watch's schedule: when each checkpoint falls due, whether it
//! is upcoming, due, overdue or done, and what comes next. Pure rules: the
//! clock is an argument (Unix seconds), so they are tested at any hour.

use crate::playbook::Checkpoint;

/// How long after its time a checkpoint is due before it is overdue, unless
/// the watch sets another grace.
pub const DEFAULT_GRACE_SECONDS: i64 = 15 * 60;

/// A watch's start and grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Unix seconds.
    pub start: i64,
    pub grace_seconds: i64,
}

/// Who completed a checkpoint, and when (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub by: String,
    pub at: i64,
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

    /// "in 3 h 05 min", "due for 4 min", "overdue by 1 h 20 min", "done by Ana".
    pub fn describe(&self) -> String {
        match self {
            CheckpointState::Upcoming { in_seconds } => format!("in {}", span(*in_seconds)),
            CheckpointState::Due { since_seconds } => format!("due for {}", span(*since_seconds)),
            CheckpointState::Overdue { late_seconds } => {
                format!("overdue by {}", span(*late_seconds))
            }
            CheckpointState::Done(done) => format!("done by {}", done.by),
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
            at: due + 3 * 3600,
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
    fn states_and_spans_read_as_people_say_them() {
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
