//! The alert rules the playbook asks for, as a Sentry server holds them:
//! read through the legacy alert-rule API or, where the server lacks it,
//! the current monitors and alerts, and compared with their seed. The
//! `sentry.alert_rule` check and the action that creates and corrects the
//! rules read them here alike.

use domain::alerts::{RuleSpec, Wanted};

use crate::upstream::UpstreamError;
use crate::upstream::sentry::{LegacyIssueRule, LegacyMetricRule, Sentry, Workflow};

/// Where a found rule lives, by its ids: what a correction replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A rule of the legacy API, issue or metric as its seed.
    Legacy(String),
    /// An alert of the current API, and the monitor that raises it (a
    /// metric rule's condition lives there).
    Alert { id: String, monitor: Option<String> },
}

/// A rule the playbook asks for, as found, and how it differs from its seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub name: String,
    /// What it watches, in words.
    pub condition: String,
    /// Empty when it is as its seed says.
    pub differences: Vec<String>,
    /// Which of the server's APIs holds it, in Sentry's words.
    pub via: &'static str,
    pub held: Held,
}

/// The alert rules of one project on a server.
#[derive(Debug, Clone)]
pub enum Rules {
    Legacy {
        issue: Vec<LegacyIssueRule>,
        /// The organization's metric rules that watch the project.
        metric: Vec<LegacyMetricRule>,
    },
    Current(Vec<Workflow>),
    /// The server has neither API (GlitchTip, older servers).
    Neither,
}

/// Whether an answer means the server lacks the endpoint.
fn lacks(err: &UpstreamError) -> bool {
    matches!(
        err,
        UpstreamError::NotFound | UpstreamError::Unsupported(_) | UpstreamError::NotJson(_)
    )
}

impl Rules {
    /// The project's rules, through the legacy API where the server has it.
    pub async fn read(sentry: &Sentry, org: &str, slug: &str) -> Result<Rules, UpstreamError> {
        let legacy = async {
            let issue = sentry.legacy_issue_rules(org, slug).await?;
            let metric = sentry.legacy_metric_rules(org).await?;
            Ok::<_, UpstreamError>((issue, metric))
        };
        match legacy.await {
            Ok((issue, metric)) => {
                let metric = metric
                    .into_iter()
                    .filter(|rule| {
                        rule.projects.is_empty() || rule.projects.iter().any(|p| p == slug)
                    })
                    .collect();
                return Ok(Rules::Legacy { issue, metric });
            }
            Err(err) if !lacks(&err) => return Err(err),
            Err(_) => {}
        }
        match sentry.workflows(org).await {
            Ok(alerts) => Ok(Rules::Current(alerts)),
            Err(err) if lacks(&err) => Ok(Rules::Neither),
            Err(err) => Err(err),
        }
    }

    /// `wanted` as the server holds it, named so or watching the same, and
    /// compared with its seed; `None` when there is no such rule. A current
    /// alert's condition is read from its monitor.
    pub async fn find(
        &self,
        sentry: &Sentry,
        org: &str,
        wanted: &Wanted,
    ) -> Result<Option<Found>, UpstreamError> {
        let seed = wanted.seed;
        match (self, wanted.spec) {
            (Rules::Legacy { metric, .. }, RuleSpec::Metric(spec)) => {
                let facts: Vec<_> = metric.iter().map(|r| (r.id.clone(), r.facts())).collect();
                Ok(wanted
                    .find(&facts, |(_, r)| &r.name, |(_, r)| wanted.does_metric(r))
                    .map(|(id, rule)| Found {
                        name: rule.name.clone(),
                        condition: rule.describe(),
                        differences: spec.differences(rule, seed),
                        via: "metric alert rules",
                        held: Held::Legacy(id.clone()),
                    }))
            }
            (Rules::Legacy { issue, .. }, RuleSpec::Issue(spec)) => {
                let facts: Vec<_> = issue.iter().map(|r| (r.id.clone(), r.facts())).collect();
                Ok(wanted
                    .find(&facts, |(_, r)| &r.name, |(_, r)| wanted.does_issue(r))
                    .map(|(id, rule)| Found {
                        name: rule.name.clone(),
                        condition: rule
                            .conditions
                            .iter()
                            .chain(&rule.filters)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", "),
                        differences: spec.differences(rule, seed),
                        via: "issue alert rules",
                        held: Held::Legacy(id.clone()),
                    }))
            }
            (Rules::Current(alerts), spec) => {
                let facts: Vec<_> = alerts.iter().map(|w| (w, w.facts())).collect();
                let Some((alert, found)) =
                    wanted.find(&facts, |(_, f)| &f.name, |(_, f)| wanted.does_issue(f))
                else {
                    return Ok(None);
                };
                let via = "monitors and alerts";
                let held = |monitor| Held::Alert {
                    id: alert.id.clone(),
                    monitor,
                };
                let spec = match spec {
                    RuleSpec::Issue(spec) => {
                        return Ok(Some(Found {
                            name: found.name.clone(),
                            condition: wanted.condition.to_owned(),
                            differences: spec.differences(found, seed),
                            via,
                            held: held(None),
                        }));
                    }
                    RuleSpec::Metric(spec) => spec,
                };
                for id in alert.monitors() {
                    match sentry.detector(org, &id).await {
                        Ok(monitor) => {
                            let watched = monitor.facts(found.actions);
                            return Ok(Some(Found {
                                name: found.name.clone(),
                                condition: watched.describe(),
                                differences: spec.differences(&watched, seed),
                                via,
                                held: held(Some(id)),
                            }));
                        }
                        Err(UpstreamError::NotFound) => continue,
                        Err(err) => return Err(err),
                    }
                }
                Ok(Some(Found {
                    name: found.name.clone(),
                    condition: wanted.condition.to_owned(),
                    differences: vec!["it watches no monitor, so nothing raises it".to_owned()],
                    via,
                    held: held(None),
                }))
            }
            (Rules::Neither, _) => Ok(None),
        }
    }
}
