//! The 24-hour sign-off, measured: each success criterion of the playbook
//! judged from what the watch recorded (snapshots, health samples, restarts,
//! checks, ticks), with its evidence; what cannot be measured needs an
//! admin's waiver. Approved only when every criterion is met or waived.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::check::CheckKind;
use crate::errors::HourRate;
use crate::playbook::{Decimal, Item, Playbook};
use crate::run::{Change, CheckStatus, Entry, RunState, TEXT_MAX, cell};
use crate::snapshot::{Judgment, Verdict};

/// What the watcher measured over the run, which the log does not hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunHealth {
    pub samples: usize,
    pub uptime_percent: Option<f64>,
    /// How many times a health URL went down by the thresholds.
    pub downs: usize,
    /// The error watch's failure rate of each hour of the run.
    pub error_hours: Vec<HourRate>,
    /// The error watch's count of Sentry's errors in each hour of the run.
    pub errors_per_hour: Vec<(i64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Met,
    NotMet,
    /// Nothing recorded can tell: measure it, tick it, or waive it.
    Unmeasured,
    /// Not measurable, and an admin accepted that, with a reason.
    Waived,
}

impl Standing {
    pub fn name(self) -> &'static str {
        match self {
            Standing::Met => "met",
            Standing::NotMet => "not_met",
            Standing::Unmeasured => "unmeasured",
            Standing::Waived => "waived",
        }
    }

    /// As a badge shows it, and the class that colours it.
    pub fn badge(self) -> (&'static str, &'static str) {
        match self {
            Standing::Met => ("met", "passed"),
            Standing::NotMet => ("not met", "failed"),
            Standing::Unmeasured => ("unmeasured", "not_measurable"),
            Standing::Waived => ("waived", "not_measurable"),
        }
    }
}

/// One criterion with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Criterion {
    pub id: String,
    pub text: String,
    pub standing: Standing,
    /// What was recorded, in words: "on target in 6 snapshots", "down twice".
    pub evidence: String,
}

/// Every criterion, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct SignOffReport {
    pub criteria: Vec<Criterion>,
    /// Every criterion met or waived.
    pub approvable: bool,
    /// Who signed off, and when, once someone has.
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<String>,
}

impl SignOffReport {
    /// The verdict in words: approved, ready, or how much blocks it.
    pub fn verdict(&self) -> String {
        match (&self.signed_off_by, self.approvable) {
            (Some(by), _) => format!("Approved for launch by {by}."),
            (None, true) => "Every criterion is met or waived: ready to sign off.".to_owned(),
            (None, false) => format!(
                "Not approved yet: {} criteria block it.",
                self.criteria
                    .iter()
                    .filter(|c| !matches!(c.standing, Standing::Met | Standing::Waived))
                    .count()
            ),
        }
    }

    /// What keeps the launch from approval, criterion by criterion.
    pub fn blocking(&self) -> Vec<String> {
        self.criteria
            .iter()
            .filter(|c| !matches!(c.standing, Standing::Met | Standing::Waived))
            .map(|c| format!("{}: {}", c.text, c.evidence))
            .collect()
    }
}

/// Why the sign-off cannot be given yet, if it cannot: the proxy refuses it
/// for this, and the app disables its button saying so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    AlreadySigned,
    /// The watch has not started: the sign-off ends it.
    NotStarted,
    /// "Throughout the 24 hours" means the 24 hours have passed: it opens
    /// at this time (Unix seconds), and the criteria are measured until then.
    Until(i64),
}

/// Whether the sign-off is open in `run` at `now` (Unix seconds).
pub fn closed(playbook: &Playbook, run: &RunState, now: i64) -> Option<Closed> {
    if run.sign_off.is_some() {
        return Some(Closed::AlreadySigned);
    }
    let Some(watch) = &run.watch else {
        return Some(Closed::NotStarted);
    };
    let due = playbook
        .watch
        .checkpoints
        .iter()
        .find(|checkpoint| checkpoint.sign_off)
        .map_or(watch.schedule.start, |checkpoint| {
            watch.schedule.due_at(checkpoint)
        });
    (now < due).then_some(Closed::Until(due))
}

/// Judges every success criterion of `playbook` from `run` and `health`,
/// its evidence's times in UTC.
pub fn evaluate(playbook: &Playbook, run: &RunState, health: &RunHealth) -> SignOffReport {
    evaluate_in(playbook, run, health, &readable)
}

/// [`evaluate`], the evidence's times (RFC 3339) said by `time`: the
/// proxy says them in the project's zone.
pub fn evaluate_in(
    playbook: &Playbook,
    run: &RunState,
    health: &RunHealth,
    time: &dyn Fn(&str) -> String,
) -> SignOffReport {
    let criteria: Vec<Criterion> = playbook
        .success_criteria
        .iter()
        .map(|item| {
            let (standing, evidence) = judge(playbook, run, health, item, time);
            let (standing, evidence) = match (standing, run.waivers.get(&item.id)) {
                (Standing::Unmeasured, Some(waiver)) => (
                    Standing::Waived,
                    format!("waived by {}: {} ({evidence})", waiver.by, waiver.reason),
                ),
                (standing, _) => (standing, evidence),
            };
            Criterion {
                id: item.id.clone(),
                text: item.text.clone(),
                standing,
                evidence,
            }
        })
        .collect();
    let approvable = criteria
        .iter()
        .all(|c| matches!(c.standing, Standing::Met | Standing::Waived));
    SignOffReport {
        criteria,
        approvable,
        signed_off_by: run.sign_off.as_ref().map(|s| s.by.clone()),
        signed_off_at: run.sign_off.as_ref().map(|s| s.at.clone()),
    }
}

/// Why a sign-off is refused: what was sent is wrong (a waiver of a
/// criterion that is measured, unknown or without a reason; a note too
/// long), or it is right but criteria still block it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Invalid(String),
    Blocked(String),
}

/// What signing off with `waivers` (criterion id → reason) and `note`
/// stores: the waivers, then the sign-off, judged on `run` as if they were
/// already in it, so that a refusal stores nothing. Only what cannot be
/// measured is waived, never a failure.
pub fn sign_off(
    playbook: &Playbook,
    run: &RunState,
    health: &RunHealth,
    time: &dyn Fn(&str) -> String,
    waivers: std::collections::BTreeMap<String, String>,
    note: String,
    (by, at): (&str, &str),
) -> Result<Vec<Change>, Refused> {
    let before = evaluate_in(playbook, run, health, time);
    for (criterion, reason) in &waivers {
        let Some(found) = before.criteria.iter().find(|c| c.id == *criterion) else {
            return Err(Refused::Invalid(format!(
                "there is no success criterion “{criterion}”"
            )));
        };
        if reason.trim().is_empty() || reason.chars().count() > TEXT_MAX {
            return Err(Refused::Invalid(format!(
                "a waiver of “{}” needs a reason of 1 to {TEXT_MAX} characters",
                found.text
            )));
        }
        if !matches!(found.standing, Standing::Unmeasured | Standing::Waived) {
            return Err(Refused::Invalid(format!(
                "“{}” is {}, not unmeasurable: only what cannot be measured is waived",
                found.text,
                found.standing.name().replace('_', " ")
            )));
        }
    }
    if note.chars().count() > TEXT_MAX {
        return Err(Refused::Invalid(format!(
            "a sign-off note has at most {TEXT_MAX} characters"
        )));
    }
    let mut changes: Vec<Change> = waivers
        .into_iter()
        .map(|(criterion, reason)| Change::CriterionWaived {
            criterion,
            reason: reason.trim().to_owned(),
        })
        .collect();
    let mut waived = run.clone();
    for change in &changes {
        waived.apply(&Entry {
            id: waived.last_entry + 1,
            op_id: String::new(),
            actor: by.to_owned(),
            at: at.to_owned(),
            change: change.clone(),
        });
    }
    let after = evaluate_in(playbook, &waived, health, time);
    if !after.approvable {
        return Err(Refused::Blocked(format!(
            "not approved: {}",
            after.blocking().join("; ")
        )));
    }
    changes.push(Change::SignOff {
        approved: true,
        note,
    });
    Ok(changes)
}

/// An entry's time as the evidence says it without a zone: `2026-11-24
/// 03:00 UTC`, not RFC 3339.
pub fn readable(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// The sign-off as a Markdown report: the verdict, each criterion with its
/// evidence, and every snapshot's conditions. People's text is escaped as in
/// the timeline's export.
pub fn markdown(
    project: &str,
    report: &SignOffReport,
    run: &RunState,
    readable: &dyn Fn(&str) -> String,
) -> String {
    let verdict = match (&report.signed_off_by, report.approvable) {
        (Some(by), _) => format!(
            "**Approved for launch** by {} at {}.",
            cell(by),
            readable(report.signed_off_at.as_deref().unwrap_or(""))
        ),
        (None, true) => "Every criterion is met or waived: ready to approve.".to_owned(),
        (None, false) => format!(
            "**Not approved yet**: {} criteria block it.",
            report.blocking().len()
        ),
    };
    let mut out = format!(
        "# Launch sign-off: {}

{verdict}

| Criterion | Standing | Evidence |\n| --- | --- | --- |\n",
        cell(project)
    );
    for criterion in &report.criteria {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&criterion.text),
            criterion.standing.name(),
            cell(&criterion.evidence)
        ));
    }
    out.push_str("\n## Snapshots\n\n| When (UTC) | Checkpoint | Targets |\n| --- | --- | --- |\n");
    for snapshot in &run.snapshots {
        let conditions: Vec<String> = snapshot.judgments.iter().map(Judgment::condition).collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(snapshot.at.get(..16).unwrap_or(&snapshot.at)),
            snapshot
                .checkpoint
                .map_or_else(|| "asked".to_owned(), |hour| format!("hour {hour}")),
            cell(&conditions.join("; "))
        ));
    }
    if run.snapshots.is_empty() {
        out.push_str("| | | No snapshot was taken. |\n");
    }
    out
}

fn judge(
    playbook: &Playbook,
    run: &RunState,
    health: &RunHealth,
    item: &Item,
    readable: &dyn Fn(&str) -> String,
) -> (Standing, String) {
    let Some(check) = item.verify.check() else {
        return match run.tick(&item.id) {
            Some(tick) => (
                Standing::Met,
                format!("confirmed by {} at {}", tick.by, readable(&tick.at)),
            ),
            None => (
                Standing::Unmeasured,
                "no check can tell: tick it once confirmed, or an admin waives it".to_owned(),
            ),
        };
    };
    match check {
        CheckKind::SentryErrorRate | CheckKind::SentryErrorCount => {
            every_hour(playbook, health, readable).unwrap_or_else(|| {
                throughout(playbook, run, &[CheckKind::SentryErrorRate], readable)
            })
        }
        CheckKind::SentryP99 | CheckKind::HealthLatency => throughout(
            playbook,
            run,
            &[CheckKind::SentryP99, CheckKind::HealthLatency],
            readable,
        ),
        CheckKind::HealthEndpoint => match (health.samples, health.downs) {
            (0, _) => (
                Standing::Unmeasured,
                "no health samples: start the watch with a health URL set".to_owned(),
            ),
            (samples, 0) => (
                Standing::Met,
                format!(
                    "never down in {samples} samples, uptime {}%",
                    Decimal(health.uptime_percent.unwrap_or(100.0))
                ),
            ),
            (_, downs) => (
                Standing::NotMet,
                format!("down {downs} times during the run"),
            ),
        },
        CheckKind::RenderRestarts | CheckKind::RenderDeployLive => {
            restarts(playbook, run, health, item, readable)
        }
        // Any other check: its latest result, whichever item of the
        // playbook ran the same check with the same parameters (the
        // hour-24 checkpoint's, the routine's), or the criterion's own.
        _ => match latest_result(playbook, run, item) {
            Some(seen) if seen.status == CheckStatus::Passed => (
                Standing::Met,
                format!("{} Checked {}.", seen.message, readable(&seen.at)),
            ),
            Some(seen) if seen.status == CheckStatus::Failed => (
                Standing::NotMet,
                format!("{} Checked {}.", seen.message, readable(&seen.at)),
            ),
            Some(seen) => (
                Standing::Unmeasured,
                format!("its check {}: {}", seen.status.label(), seen.message),
            ),
            None => (
                Standing::Unmeasured,
                "not checked yet: run its check".to_owned(),
            ),
        },
    }
}

/// "No unexpected restarts": any restart the watch saw (a health URL's
/// `uptime` went down) fails it; otherwise the latest Render restart check
/// decides (its events, instances and uptime), or, before one ran, the
/// health samples that saw no restart.
fn restarts(
    playbook: &Playbook,
    run: &RunState,
    health: &RunHealth,
    item: &Item,
    readable: &dyn Fn(&str) -> String,
) -> (Standing, String) {
    if let Some(last) = run.restarts.last() {
        return (
            Standing::NotMet,
            format!(
                "restarts seen by the watch: {}, the last at {}",
                run.restarts.len(),
                readable(&last.at)
            ),
        );
    }
    let watched = (health.samples > 0).then(|| format!("no restart in {} samples", health.samples));
    match (latest_result(playbook, run, item), watched) {
        (Some(seen), watched) if seen.status == CheckStatus::Passed => (
            Standing::Met,
            [
                Some(format!("{} Checked {}.", seen.message, readable(&seen.at))),
                watched,
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" The watch: "),
        ),
        (Some(seen), _) if seen.status == CheckStatus::Failed => (
            Standing::NotMet,
            format!("{} Checked {}.", seen.message, readable(&seen.at)),
        ),
        (_, Some(watched)) => (Standing::Met, watched),
        (Some(seen), None) => (
            Standing::Unmeasured,
            format!("its check {}: {}", seen.status.label(), seen.message),
        ),
        (None, None) => (
            Standing::Unmeasured,
            "no health samples and no restart check: run the restart check".to_owned(),
        ),
    }
}

/// The error rate "throughout" judged from every hour the error watch
/// measured, naming the worst hour: its failure rate against the routine's
/// error-rate target, or, where no transaction came, its errors against the
/// errors-per-hour target (as a snapshot measures it then). `None` when the
/// watch measured neither, and the snapshots judge instead.
fn every_hour(
    playbook: &Playbook,
    health: &RunHealth,
    readable: &dyn Fn(&str) -> String,
) -> Option<(Standing, String)> {
    let bound = |check| {
        playbook
            .watch
            .routine
            .iter()
            .flat_map(|routine| &routine.targets)
            .find(|target| target.verify.check() == Some(check))
            .map(|target| target.bound)
    };
    let hours: Vec<(i64, f64, String)> = if health.error_hours.is_empty() {
        health
            .errors_per_hour
            .iter()
            .map(|(hour, count)| (*hour, *count as f64, format!("{count} errors")))
            .collect()
    } else {
        health
            .error_hours
            .iter()
            .map(|hour| (hour.hour, hour.failure_percent, hour.describe()))
            .collect()
    };
    let check = if health.error_hours.is_empty() {
        CheckKind::SentryErrorCount
    } else {
        CheckKind::SentryErrorRate
    };
    let bound = bound(check)?;
    let (worst_at, _, worst) = hours.iter().rev().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let at = readable(&crate::watch::rfc3339(*worst_at));
    let measured = hours.len();
    let off = hours
        .iter()
        .filter(|(_, value, _)| !bound.holds(*value))
        .count();
    Some(if off == 0 {
        (
            Standing::Met,
            format!(
                "every one of {measured} hours measured on target ({bound}); the worst, from {at}: {worst}"
            ),
        )
    } else {
        (
            Standing::NotMet,
            format!(
                "{off} of {measured} hours off the {bound} target; the worst, from {at}: {worst}"
            ),
        )
    })
}

/// The latest result of `item`'s check as any item runs it with the same
/// parameters.
fn latest_result<'a>(
    playbook: &Playbook,
    run: &'a RunState,
    item: &Item,
) -> Option<&'a crate::run::Observation> {
    run.checks
        .iter()
        .filter(|(id, _)| {
            *id == item.id
                || playbook
                    .checkable(id)
                    .is_some_and(|other| other.verify == item.verify && other.with == item.with)
        })
        .map(|(_, seen)| seen)
        .max_by(|a, b| a.at.cmp(&b.at))
}

/// Met only when every target measured by `checks` was measured, and on
/// target, in every snapshot; the first failure otherwise. A target a
/// snapshot could not measure leaves the criterion unmeasured, saying which
/// targets, how often, and why: a measure that errored never counts as met.
fn throughout(
    playbook: &Playbook,
    run: &RunState,
    checks: &[CheckKind],
    readable: &dyn Fn(&str) -> String,
) -> (Standing, String) {
    let targets: Vec<&crate::playbook::Target> = playbook
        .watch
        .routine
        .iter()
        .flat_map(|routine| &routine.targets)
        .filter(|target| {
            target
                .verify
                .check()
                .is_some_and(|check| checks.contains(&check))
        })
        .collect();
    if run.snapshots.is_empty() {
        return (
            Standing::Unmeasured,
            "no snapshot was taken: take one, or an admin waives it".to_owned(),
        );
    }
    // Per target: snapshots that measured it, and why the others could not.
    let mut measured = vec![0usize; targets.len()];
    let mut missed: Vec<Vec<String>> = vec![Vec::new(); targets.len()];
    for snapshot in &run.snapshots {
        for (at, target) in targets.iter().enumerate() {
            match snapshot.judgments.iter().find(|j| j.target == target.id) {
                Some(judgment) if judgment.status == Verdict::Failed => {
                    let when = snapshot
                        .checkpoint
                        .map_or_else(|| readable(&snapshot.at), |hour| format!("hour {hour}"));
                    return (
                        Standing::NotMet,
                        format!("off target at {when}: {}", judgment.condition()),
                    );
                }
                Some(judgment) if judgment.status == Verdict::Passed => measured[at] += 1,
                Some(judgment) => missed[at].push(judgment.measure.clone()),
                None => missed[at].push("not in the snapshot".to_owned()),
            }
        }
    }
    let snapshots = run.snapshots.len();
    let unmeasured: Vec<String> = targets
        .iter()
        .zip(&measured)
        .zip(&missed)
        .filter(|(_, why)| !why.is_empty())
        .map(|((target, count), why)| {
            let mut reasons: Vec<&String> = why.iter().collect();
            reasons.dedup();
            format!(
                "{} measured in {count} of {snapshots} snapshots (not in {}: {})",
                target.label,
                why.len(),
                reasons
                    .iter()
                    .map(|reason| reason.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .collect();
    if targets.is_empty() || !unmeasured.is_empty() {
        let on_target: Vec<&str> = targets
            .iter()
            .zip(&missed)
            .filter(|(_, why)| why.is_empty())
            .map(|(target, _)| target.label.as_str())
            .collect();
        let mut evidence = unmeasured.join("; ");
        if !on_target.is_empty() {
            evidence.push_str(&format!("; on target every time: {}", on_target.join(", ")));
        }
        return (
            Standing::Unmeasured,
            format!("partly measured: {evidence}. Measure the rest, or an admin waives it"),
        );
    }
    (
        Standing::Met,
        format!(
            "on target in all {snapshots} snapshots: {}",
            targets
                .iter()
                .map(|target| target.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_off_is_refused_for_a_wrong_waiver_and_while_criteria_block() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let run = RunState::default();
        let health = RunHealth::default();
        let sign = |waivers: &[(&str, &str)], note: &str| {
            let waivers = waivers
                .iter()
                .map(|(id, why)| ((*id).to_owned(), (*why).to_owned()))
                .collect();
            sign_off(
                &playbook,
                &run,
                &health,
                &readable,
                waivers,
                note.to_owned(),
                ("Dana", "2026-11-24T10:00:00Z"),
            )
        };
        let invalid = |refused: Result<Vec<Change>, Refused>, says: &str| {
            assert!(
                matches!(&refused, Err(Refused::Invalid(why)) if why.contains(says)),
                "{refused:?}"
            );
        };
        invalid(
            sign(&[("nope", "because")], ""),
            "no success criterion “nope”",
        );
        invalid(sign(&[("success-websockets", " ")], ""), "needs a reason");
        invalid(sign(&[], &"x".repeat(TEXT_MAX + 1)), "at most");
        // Nothing measured yet: waiving the one manual criterion is not enough.
        let blocked = sign(&[("success-websockets", "no websockets")], "");
        assert!(
            matches!(&blocked, Err(Refused::Blocked(why)) if why.starts_with("not approved: ")),
            "{blocked:?}"
        );
    }

    #[test]
    fn the_sign_off_opens_when_the_watch_has_run_its_hours() {
        use crate::run::{Change, Entry};
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        assert_eq!(closed(&playbook, &run, 0), Some(Closed::NotStarted));
        run.apply(&Entry {
            id: 1,
            op_id: "op-1".into(),
            actor: "Ana".into(),
            at: "2026-11-23T10:00:00Z".into(),
            change: Change::WatchScheduled {
                start: 1_000,
                grace_seconds: 900,
            },
        });
        let opens = 1_000 + 24 * 3600;
        assert_eq!(
            closed(&playbook, &run, opens - 1),
            Some(Closed::Until(opens))
        );
        assert_eq!(closed(&playbook, &run, opens), None);
    }

    use crate::playbook::{Bound, Comparison, Unit};
    use crate::run::{Change, Entry};

    fn entry(id: u64, actor: &str, change: Change) -> Entry {
        Entry {
            id,
            op_id: format!("op-{id}"),
            actor: actor.into(),
            at: format!("2026-11-24T0{id}:00:00Z"),
            change,
        }
    }

    fn judged(target: &str, label: &str, status: Verdict, observed: f64, unit: Unit) -> Judgment {
        Judgment {
            target: target.into(),
            label: label.into(),
            status,
            observed: Some(observed),
            bound: Bound {
                comparison: Comparison::Below,
                value: if unit == Unit::Percent { 1.0 } else { 1000.0 },
                unit,
            },
            measure: "m".into(),
        }
    }

    fn standing(report: &SignOffReport, id: &str) -> (Standing, String) {
        let c = report
            .criteria
            .iter()
            .find(|c| c.id == id)
            .expect("criterion");
        (c.standing, c.evidence.clone())
    }

    #[test]
    fn each_criterion_is_judged_from_what_the_watch_recorded() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        let health = RunHealth::default();
        let report = evaluate(&playbook, &run, &health);
        assert!(!report.approvable);
        assert!(
            report
                .criteria
                .iter()
                .all(|c| c.standing == Standing::Unmeasured)
        );
        assert_eq!(report.blocking().len(), playbook.success_criteria.len());

        run.apply(&entry(
            1,
            "Watchpost",
            Change::Snapshot {
                checkpoint: Some(4),
                judgments: vec![
                    judged(
                        "error-rate",
                        "Error rate",
                        Verdict::Passed,
                        0.4,
                        Unit::Percent,
                    ),
                    judged("p99", "p99", Verdict::Passed, 400.0, Unit::Ms),
                ],
            },
        ));
        run.apply(&entry(
            2,
            "Watchpost",
            Change::Snapshot {
                checkpoint: Some(8),
                judgments: vec![judged("p99", "p99", Verdict::Failed, 1400.0, Unit::Ms)],
            },
        ));
        let healthy = RunHealth {
            samples: 2880,
            uptime_percent: Some(99.9),
            downs: 0,
            error_hours: Vec::new(),
            errors_per_hour: Vec::new(),
        };
        let report = evaluate(&playbook, &run, &healthy);
        // Measured at hour 4 only: not met, and not unmeasured either.
        assert_eq!(
            standing(&report, "success-error-rate"),
            (
                Standing::Unmeasured,
                "partly measured: Error rate measured in 1 of 2 snapshots (not in 1: not in the snapshot). Measure the rest, or an admin waives it".into()
            )
        );
        assert_eq!(
            standing(&report, "success-response-times"),
            (
                Standing::NotMet,
                "off target at hour 8: p99 1400 ms > 1000 ms target".into()
            )
        );
        assert_eq!(
            standing(&report, "success-health"),
            (
                Standing::Met,
                "never down in 2880 samples, uptime 99.9%".into()
            )
        );
        assert_eq!(standing(&report, "success-no-restarts").0, Standing::Met);
        let down = RunHealth {
            downs: 2,
            ..healthy.clone()
        };
        assert_eq!(
            standing(&evaluate(&playbook, &run, &down), "success-health").0,
            Standing::NotMet
        );
        // The error watch's hours, when it measured any, judge the rate.
        let hour = 1_795_000_000 - 1_795_000_000 % 3600;
        let watched = |percents: &[f64]| RunHealth {
            error_hours: percents
                .iter()
                .zip(0..)
                .map(|(percent, n)| HourRate {
                    hour: hour + n * 3600,
                    transactions: 500,
                    failure_percent: *percent,
                })
                .collect(),
            ..healthy.clone()
        };
        assert_eq!(
            standing(
                &evaluate(&playbook, &run, &watched(&[0.2, 0.5, 0.1])),
                "success-error-rate"
            ),
            (
                Standing::Met,
                "every one of 3 hours measured on target (< 1%); the worst, from 2026-11-18 12:00 UTC: 0.5% of 500 transactions".into()
            )
        );
        assert_eq!(
            standing(
                &evaluate(&playbook, &run, &watched(&[0.2, 1.8, 0.1, 1.2])),
                "success-error-rate"
            ),
            (
                Standing::NotMet,
                "2 of 4 hours off the < 1% target; the worst, from 2026-11-18 12:00 UTC: 1.8% of 500 transactions".into()
            )
        );
        // Without transactions, each hour's errors against the per-hour target.
        let counted = RunHealth {
            errors_per_hour: vec![(hour, 2), (hour + 3600, 7), (hour + 7200, 0)],
            ..healthy.clone()
        };
        assert_eq!(
            standing(&evaluate(&playbook, &run, &counted), "success-error-rate"),
            (
                Standing::NotMet,
                "1 of 3 hours off the < 5 per hour target; the worst, from 2026-11-18 12:00 UTC: 7 errors".into()
            )
        );

        // Render's restart check decides before the watch saw a restart.
        run.apply(&entry(
            3,
            "Watchpost",
            Change::CheckResult {
                item: "routine-no-restarts".into(),
                check: "render.restarts".into(),
                status: CheckStatus::Failed,
                observed: Default::default(),
                message: "1 unexpected restart in the last 24 hours.".into(),
                duration_ms: 40,
            },
        ));
        let (restarts, said) =
            standing(&evaluate(&playbook, &run, &healthy), "success-no-restarts");
        assert_eq!(restarts, Standing::NotMet, "{said}");
        assert!(
            said.starts_with("1 unexpected restart in the last 24 hours. Checked 2026-"),
            "{said}"
        );

        run.apply(&entry(
            3,
            "Watchpost",
            Change::Restarted {
                url: "https://a.example/health".into(),
                uptime_before: 7200,
                uptime_after: 3,
            },
        ));
        let (restarts, said) =
            standing(&evaluate(&playbook, &run, &healthy), "success-no-restarts");
        assert_eq!(restarts, Standing::NotMet);
        assert!(
            said == "restarts seen by the watch: 1, the last at 2026-11-24 03:00 UTC",
            "{said}"
        );
    }

    /// A real service tried from outside: three snapshots, the error rate
    /// never measurable (no events query), the health endpoint's time
    /// measured, the calls endpoint's errored, and the critical-issues check
    /// run by the hour-24 checkpoint's item.
    #[test]
    fn a_criterion_is_met_only_when_every_measure_it_names_was_measured() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        let not_measurable = |target: &str, label: &str, why: &str| Judgment {
            status: Verdict::NotMeasurable,
            observed: None,
            measure: why.into(),
            ..judged(target, label, Verdict::Passed, 0.0, Unit::Ms)
        };
        for (id, hour) in [(1, 4), (2, 8), (3, 12)] {
            let mut judgments = vec![
                not_measurable(
                    "error-rate",
                    "Error rate",
                    "Sentry's events query is not offered",
                ),
                judged(
                    "health-latency",
                    "Health endpoint",
                    Verdict::Passed,
                    40.0,
                    Unit::Ms,
                ),
                not_measurable("calls-latency", "Calls endpoint", "Sentry failed (500)"),
            ];
            for (target, label) in [
                ("webhooks-latency", "Webhooks"),
                ("assistants-latency", "Assistants (known slow)"),
                ("p99", "p99, most endpoints"),
            ] {
                judgments.push(judged(target, label, Verdict::Passed, 120.0, Unit::Ms));
            }
            run.apply(&entry(
                id,
                "Watchpost",
                Change::Snapshot {
                    checkpoint: Some(hour),
                    judgments,
                },
            ));
        }
        run.apply(&entry(
            4,
            "Watchpost",
            Change::CheckResult {
                item: "h24-no-critical".into(),
                check: "sentry.new_issues".into(),
                status: CheckStatus::Passed,
                observed: Default::default(),
                message: "No new critical issues in the last 24 hours.".into(),
                duration_ms: 40,
            },
        ));
        let report = evaluate(&playbook, &run, &RunHealth::default());
        let (times, said) = standing(&report, "success-response-times");
        assert_eq!(
            times,
            Standing::Unmeasured,
            "a met resting on an errored measure: {said}"
        );
        assert!(
            said.contains(
                "Calls endpoint measured in 0 of 3 snapshots (not in 3: Sentry failed (500))"
            ),
            "{said}"
        );
        assert!(
            said.contains("on target every time: Health endpoint"),
            "{said}"
        );
        let (rate, said) = standing(&report, "success-error-rate");
        assert_eq!(rate, Standing::Unmeasured);
        assert!(
            said.contains("Error rate measured in 0 of 3 snapshots (not in 3: Sentry's events query is not offered)"),
            "{said}"
        );
        assert_eq!(
            standing(&report, "success-no-critical"),
            (
                Standing::Met,
                "No new critical issues in the last 24 hours. Checked 2026-11-24 04:00 UTC.".into()
            ),
            "the hour-24 item ran the same check"
        );
        // No criterion can be met by what was not measured.
        for criterion in &report.criteria {
            if criterion.standing == Standing::Met {
                assert!(!criterion.evidence.contains("not in "), "{criterion:?}");
            }
        }
    }

    #[test]
    fn the_markdown_report_has_the_verdict_each_criterion_and_the_snapshots() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        run.apply(&entry(
            1,
            "Watchpost",
            Change::Snapshot {
                checkpoint: Some(4),
                judgments: vec![judged(
                    "error-rate",
                    "Error rate",
                    Verdict::Passed,
                    0.4,
                    Unit::Percent,
                )],
            },
        ));
        let report = evaluate(&playbook, &run, &RunHealth::default());
        let text = markdown("Voxanne | <b>", &report, &run, &readable);
        assert!(
            text.starts_with("# Launch sign-off: Voxanne \\| &lt;b&gt;\n"),
            "{text}"
        );
        assert!(
            text.contains("**Not approved yet**: 7 criteria block it."),
            "{text}"
        );
        assert!(
            text.contains("| Error rate below 1% throughout the 24 hours | met | on target"),
            "{text}"
        );
        assert!(
            text.contains("| 2026-11-24T01:00 | hour 4 | Error rate 0.4% &lt; 1% |"),
            "{text}"
        );
    }

    #[test]
    fn only_what_cannot_be_measured_is_waived_and_a_tick_confirms_by_hand() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let mut run = RunState::default();
        run.apply(&entry(
            1,
            "Dana",
            Change::CriterionWaived {
                criterion: "success-database".into(),
                reason: "the database is watched in Supabase".into(),
            },
        ));
        run.apply(&entry(
            2,
            "Dana",
            Change::CriterionWaived {
                criterion: "success-health".into(),
                reason: "trust me".into(),
            },
        ));
        run.apply(&entry(
            3,
            "Ana",
            Change::Ticked {
                item: "success-websockets".into(),
            },
        ));
        let down = RunHealth {
            samples: 10,
            uptime_percent: Some(70.0),
            downs: 1,
            error_hours: Vec::new(),
            errors_per_hour: Vec::new(),
        };
        let report = evaluate(&playbook, &run, &down);
        assert_eq!(
            standing(&report, "success-database"),
            (
                Standing::Waived,
                "waived by Dana: the database is watched in Supabase (not checked yet: run its check)".into()
            )
        );
        assert_eq!(
            standing(&report, "success-health").0,
            Standing::NotMet,
            "a failure is not waived"
        );
        assert_eq!(
            standing(&report, "success-websockets"),
            (
                Standing::Met,
                "confirmed by Ana at 2026-11-24 03:00 UTC".into()
            )
        );
        // The proxy says the times in the project's zone.
        let in_zone = evaluate_in(&playbook, &run, &down, &|at| format!("{at} in Paris"));
        assert_eq!(
            standing(&in_zone, "success-websockets").1,
            "confirmed by Ana at 2026-11-24T03:00:00Z in Paris"
        );
    }
}
