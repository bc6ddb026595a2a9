//! The error watch: between checkpoints, every error interval (5 minutes
//! unless configured), one round reads the failure rate of every running
//! watch's Sentry project (one request per organization) and runs the
//! playbook's "new critical issues" check for each. Readings go to their own
//! table; only what changes enters the log: the rate crossing the
//! error-rate escalation's threshold (`error_rate_changed`), or the
//! critical-issues check changing its result. Both open their escalation at
//! once, and are posted to Slack naming who is on watch.

use std::sync::Arc;
use std::time::Instant;

use domain::CheckKind;
use domain::errors::{ErrorPoint, beyond};
use domain::playbook::{Bound, Decimal, Item, Playbook};
use domain::project::Project;
use domain::run::{Change, CheckStatus, RunState};
use domain::watch::span;

use super::{ACTOR, Watcher};
use crate::AppState;
use crate::services::{Outcome, check_result};

/// The error-rate escalation's threshold, and its title.
fn rate_threshold(playbook: &Playbook) -> Option<(Bound, &str)> {
    playbook.escalations.iter().find_map(|escalation| {
        (escalation.detected_by.check() == Some(CheckKind::SentryErrorRate))
            .then_some(escalation.threshold)
            .flatten()
            .map(|threshold| (threshold, escalation.title.as_str()))
    })
}

/// The playbook's "new critical issues" item, which the watch runs between
/// checkpoints.
fn critical_item(playbook: &Playbook) -> Option<&Item> {
    playbook.items().find(|item| {
        item.verify.check() == Some(CheckKind::SentryNewIssues)
            && item.with.get("only").map(String::as_str) == Some("critical")
    })
}

impl Watcher {
    /// One round over the running watches; see the module's documentation.
    pub(super) async fn watch_errors(
        &self,
        state: &AppState,
        running: Vec<(Arc<Project>, Arc<RunState>)>,
    ) {
        let projects: Vec<Arc<Project>> =
            running.iter().map(|(project, _)| project.clone()).collect();
        let readings = state
            .services
            .error_round(&projects, self.error_interval, state.clock().now())
            .await;
        let points: Vec<(i64, ErrorPoint)> = readings
            .iter()
            .filter_map(|(project, reading)| Some((*project, *reading.as_ref().ok()?)))
            .collect();
        if let Err(err) = state.store.add_error_points(&points).await {
            tracing::error!(%err, "the error watch's readings were not stored");
        }
        let critical = match critical_item(&state.playbook) {
            Some(item) => {
                let started = Instant::now();
                let outcomes = state.services.critical_round(&projects).await;
                let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                Some((item, outcomes, took))
            }
            None => None,
        };
        for (project, run) in &running {
            let point = points
                .iter()
                .find(|(id, _)| *id == project.id)
                .map(|(_, point)| point);
            if let Some(point) = point {
                self.crossing(state, project, run, point).await;
            }
            let found = critical.as_ref().and_then(|(item, outcomes, took)| {
                let (_, outcome) = outcomes.iter().find(|(id, _)| *id == project.id)?;
                Some((*item, outcome, *took))
            });
            if let Some((item, outcome, took)) = found {
                self.critical_issues(state, project, run, item, outcome, took)
                    .await;
            }
        }
    }

    /// Logs and posts the rate crossing the escalation's threshold, either way.
    async fn crossing(
        &self,
        state: &AppState,
        project: &Project,
        run: &RunState,
        point: &ErrorPoint,
    ) {
        let Some((threshold, title)) = rate_threshold(&state.playbook) else {
            return;
        };
        let was_above = run.error_rate.as_ref().is_some_and(|rate| rate.above);
        let Some(above) = beyond(&threshold, point).filter(|above| *above != was_above) else {
            return;
        };
        let change = Change::ErrorRateChanged {
            above,
            percent: point.failure_percent,
            transactions: point.transactions,
            window_seconds: point.window_seconds,
            threshold: threshold.to_string(),
        };
        if let Err(err) = state.runs.record(project.id, &change, ACTOR).await {
            tracing::error!(%err, project = project.id, "an error-rate change was not logged");
            return;
        }
        let rate = format!(
            "{}% of {} transactions in the last {}",
            Decimal((point.failure_percent * 100.0).round() / 100.0),
            point.transactions,
            span(i64::from(point.window_seconds))
        );
        let on_watch = run.on_watch.as_deref().unwrap_or("nobody");
        let text = if above {
            format!(
                ":rotating_light: {}: {title}: {rate}. On watch: {on_watch}. Follow it in Watchpost's escalation tab.",
                project.name
            )
        } else {
            format!(
                ":large_green_circle: {}: the error rate is back to {rate}, out of “{title}”. On watch: {on_watch}.",
                project.name
            )
        };
        self.post(state, project.id, text);
    }

    /// Logs the critical-issues check's result when it differs from the
    /// last one logged; a new failure is posted to Slack.
    async fn critical_issues(
        &self,
        state: &AppState,
        project: &Project,
        run: &RunState,
        item: &Item,
        outcome: &Outcome,
        took: u64,
    ) {
        let last = run.checks.get(&item.id).map(|seen| seen.status);
        // Only a verdict changes the log: a round that could not look says nothing.
        let decided = matches!(outcome.status, CheckStatus::Passed | CheckStatus::Failed);
        if !decided
            || last == Some(outcome.status)
            || (last.is_none() && outcome.status == CheckStatus::Passed)
        {
            return;
        }
        let change = check_result(item, outcome, took);
        if let Err(err) = state.runs.record(project.id, &change, ACTOR).await {
            tracing::error!(%err, project = project.id, "a critical-issues result was not logged");
            return;
        }
        if outcome.status == CheckStatus::Failed {
            let on_watch = run.on_watch.as_deref().unwrap_or("nobody");
            let title = state
                .playbook
                .escalations
                .iter()
                .find(|escalation| {
                    escalation.detected_by.check() == Some(CheckKind::SentryNewIssues)
                })
                .map_or("New critical issue appears", |escalation| {
                    escalation.title.as_str()
                });
            let text = format!(
                ":rotating_light: {}: {} On watch: {on_watch}. Open Watchpost's escalation “{title}”.",
                project.name, outcome.message
            );
            self.post(state, project.id, text);
        }
    }
}
