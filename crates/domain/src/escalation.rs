//! Which escalation procedures are open: their trigger is true by what the
//! watch recorded, and nobody has decided on them since it became true.
//!
//! Each procedure names the check that detects it. A health check fails
//! while a health URL is down by the sampler's thresholds; a procedure with a
//! threshold ("error rate above 5%") triggers on a snapshot's measured value
//! beyond it, or on the error watch's crossing of it between checkpoints;
//! any other on its check failing. A decision recorded after the
//! trigger began closes the procedure until the condition clears and comes
//! back.

use crate::check::CheckKind;
use crate::playbook::{Escalation, Playbook};
use crate::run::{CheckStatus, RunState};
use crate::snapshot::{Judgment, Verdict};

/// An escalation whose trigger is true and not yet decided on.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenEscalation<'a> {
    pub escalation: &'a Escalation,
    /// When the trigger became true (an entry's time).
    pub since: String,
}

/// Every open escalation of `playbook`, in its order.
pub fn open_escalations<'a>(playbook: &'a Playbook, run: &RunState) -> Vec<OpenEscalation<'a>> {
    playbook
        .escalations
        .iter()
        .filter_map(|escalation| {
            let since = triggered_since(playbook, run, escalation)?;
            let decided = run
                .decisions
                .iter()
                .any(|d| d.escalation == escalation.id && d.at >= since);
            (!decided).then_some(OpenEscalation { escalation, since })
        })
        .collect()
}

/// When `escalation`'s trigger became true, if it is true now.
fn triggered_since(playbook: &Playbook, run: &RunState, escalation: &Escalation) -> Option<String> {
    let check = escalation.detected_by.check()?;
    if check == CheckKind::HealthEndpoint {
        return run
            .health
            .iter()
            .filter(|(_, health)| !health.up)
            .map(|(_, health)| health.changed_at.clone())
            .min();
    }
    let measured_by_check = |judgment: &&Judgment| {
        playbook
            .target(&judgment.target)
            .and_then(|target| target.verify.check())
            == Some(check)
    };
    // Beyond the trigger: past the threshold, or failed where there is none.
    let beyond = |judgment: &Judgment| match &escalation.threshold {
        Some(threshold) => match judgment.observed {
            Some(observed) if threshold.unit == judgment.bound.unit => {
                Some(threshold.holds(observed))
            }
            _ => None,
        },
        None => Some(judgment.status == Verdict::Failed),
    };
    // The snapshots' current streak beyond it.
    let mut since: Option<&str> = None;
    for snapshot in &run.snapshots {
        let seen = snapshot
            .judgments
            .iter()
            .filter(measured_by_check)
            .filter_map(beyond)
            .reduce(|a, b| a || b);
        since = match (seen, since) {
            (None, since) | (Some(true), since @ Some(_)) => since,
            (Some(true), None) => Some(&snapshot.at),
            (Some(false), _) => None,
        };
    }
    // The error watch, between checkpoints: its last crossing decides when
    // it is newer than the last snapshot.
    if check == CheckKind::SentryErrorRate
        && let Some(watched) = &run.error_rate
        && run
            .snapshots
            .last()
            .is_none_or(|snapshot| snapshot.at <= watched.changed_at)
    {
        since = match (watched.above, since) {
            (false, _) => None,
            (true, Some(since)) => Some(since.min(watched.changed_at.as_str())),
            (true, None) => Some(watched.changed_at.as_str()),
        };
    }
    // Without a threshold, the check itself failing (its latest result for
    // any item) counts too, from when it ran.
    if escalation.threshold.is_none() {
        for (_, seen) in run.checks.iter() {
            if seen.check == check.name() && seen.status == CheckStatus::Failed {
                since = Some(since.map_or(seen.at.as_str(), |s| s.min(seen.at.as_str())));
            }
        }
    }
    since.map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::{Bound, Comparison, Outcome, Unit};
    use crate::run::{Change, Entry};

    fn entry(id: u64, at: &str, change: Change) -> Entry {
        Entry {
            id,
            op_id: format!("op-{id}"),
            actor: "Ana".into(),
            at: at.into(),
            change,
        }
    }

    fn error_rate(observed: f64) -> Change {
        Change::Snapshot {
            checkpoint: None,
            judgments: vec![Judgment {
                target: "error-rate".into(),
                label: "Error rate".into(),
                status: if observed < 1.0 {
                    Verdict::Passed
                } else {
                    Verdict::Failed
                },
                observed: Some(observed),
                bound: Bound {
                    comparison: Comparison::Below,
                    value: 1.0,
                    unit: Unit::Percent,
                },
                measure: "Sentry".into(),
            }],
        }
    }

    fn decided(escalation: &str) -> Change {
        Change::DecisionTaken {
            escalation: escalation.into(),
            outcome: Outcome::Monitor,
            answers: Vec::new(),
            note: String::new(),
        }
    }

    fn open(playbook: &Playbook, run: &RunState) -> Vec<(String, String)> {
        open_escalations(playbook, run)
            .into_iter()
            .map(|open| (open.escalation.id.clone(), open.since))
            .collect()
    }

    #[test]
    fn an_error_rate_beyond_the_threshold_opens_its_procedure_until_a_decision() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        // 3% misses the 1% target but is not the 5% the procedure is for.
        run.apply(&entry(1, "2026-11-24T01:00:00Z", error_rate(3.0)));
        assert!(open(&playbook, &run).is_empty());
        run.apply(&entry(2, "2026-11-24T02:00:00Z", error_rate(7.5)));
        run.apply(&entry(3, "2026-11-24T03:00:00Z", error_rate(6.0)));
        assert_eq!(
            open(&playbook, &run),
            [("error-rate".to_owned(), "2026-11-24T02:00:00Z".to_owned())],
            "open since the first snapshot beyond 5%"
        );
        run.apply(&entry(4, "2026-11-24T03:10:00Z", decided("error-rate")));
        assert!(open(&playbook, &run).is_empty(), "decided");
        run.apply(&entry(5, "2026-11-24T04:00:00Z", error_rate(8.0)));
        assert!(
            open(&playbook, &run).is_empty(),
            "still the same episode: the decision stands"
        );
        run.apply(&entry(6, "2026-11-24T05:00:00Z", error_rate(0.2)));
        run.apply(&entry(7, "2026-11-24T06:00:00Z", error_rate(9.0)));
        assert_eq!(
            open(&playbook, &run),
            [("error-rate".to_owned(), "2026-11-24T06:00:00Z".to_owned())],
            "back after clearing: open again"
        );
    }

    fn crossed(above: bool, percent: f64) -> Change {
        Change::ErrorRateChanged {
            above,
            percent,
            transactions: 400,
            window_seconds: 300,
            threshold: "> 5%".into(),
        }
    }

    #[test]
    fn the_error_watch_opens_the_error_rate_procedure_between_checkpoints() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        run.apply(&entry(1, "2026-11-24T01:00:00Z", error_rate(0.5)));
        run.apply(&entry(2, "2026-11-24T01:35:00Z", crossed(true, 7.5)));
        assert_eq!(
            open(&playbook, &run),
            [("error-rate".to_owned(), "2026-11-24T01:35:00Z".to_owned())],
            "open at once, not at the next checkpoint"
        );
        run.apply(&entry(3, "2026-11-24T01:50:00Z", crossed(false, 0.4)));
        assert!(open(&playbook, &run).is_empty(), "fell back");
        // A snapshot beyond it since then opens it again, by itself.
        run.apply(&entry(4, "2026-11-24T02:00:00Z", error_rate(6.0)));
        assert_eq!(open(&playbook, &run)[0].1, "2026-11-24T02:00:00Z");
        // Still above by the watch: open since the earlier of the two.
        run.apply(&entry(5, "2026-11-24T02:05:00Z", crossed(true, 6.5)));
        assert_eq!(open(&playbook, &run)[0].1, "2026-11-24T02:00:00Z");
    }

    #[test]
    fn a_health_url_down_and_a_failing_new_issues_check_open_theirs() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        run.apply(&entry(
            1,
            "2026-11-24T01:00:00Z",
            Change::HealthChanged {
                url: "https://a.example/health".into(),
                up: false,
                since: 1_795_000_000_000,
                detail: "HTTP 503".into(),
            },
        ));
        run.apply(&entry(
            2,
            "2026-11-24T01:05:00Z",
            Change::CheckResult {
                item: "h4-new-critical".into(),
                check: "sentry.new_issues".into(),
                status: CheckStatus::Failed,
                observed: Default::default(),
                message: "2 new issues".into(),
                duration_ms: 10,
            },
        ));
        let ids: Vec<String> = open(&playbook, &run)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["health-check", "new-critical-issue"]);
        assert_eq!(open(&playbook, &run)[0].1, "2026-11-24T01:00:00Z");

        run.apply(&entry(
            3,
            "2026-11-24T01:10:00Z",
            Change::HealthChanged {
                url: "https://a.example/health".into(),
                up: true,
                since: 1_795_000_600_000,
                detail: "ok".into(),
            },
        ));
        run.apply(&entry(
            4,
            "2026-11-24T01:20:00Z",
            decided("new-critical-issue"),
        ));
        assert!(open(&playbook, &run).is_empty());
    }
}
